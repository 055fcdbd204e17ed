"""Stablecoin freeze events and odd Transfer logs decode as the issuers' contracts emit them.

The shared fixtures hold no freeze event, so these logs are built in the shapes the contracts'
ABIs give them: Tether's ``AddedBlackList(address _user)`` and ``DestroyedBlackFunds(address,
uint256)`` do not index the address (it is data word 0); Circle's ``Blacklisted(address indexed
_account)`` indexes it (topic 1). The topic values are pinned to the published ones.
"""

from __future__ import annotations

import numpy as np

from chaintrail.chains.ethereum import params, u256
from chaintrail.chains.ethereum.address import address_column
from chaintrail.chains.ethereum.batch import BlacklistKind, EthBatch, Var
from chaintrail.chains.ethereum.events import decode_events
from chaintrail.chains.ethereum.hexcodec import fixed_to_hex

USDT, USDC = params.USDT_CONTRACT, params.USDC_CONTRACT
FROZEN = "0x8576acc5c05d6ce88f4e49bf65bdf0c62f91353c"
OTHER = "0x1b63142628311395ceafeea5667e7c9026c862ca"


def _word(hex_value: str) -> bytes:
    return bytes.fromhex(hex_value[2:]).rjust(32, b"\0")


def _logs(rows: list[tuple[str, list[bytes], bytes]]) -> EthBatch:
    b = EthBatch()
    n = len(rows)
    b.log_tx = np.arange(n, dtype=np.int64)
    b.log_index = np.arange(n, dtype=np.int32) + 10
    b.log_address = address_column([r[0] for r in rows])
    b.log_n_topics = np.array([len(r[1]) for r in rows], np.int8)
    b.log_topics = np.zeros((n, 4, 32), np.uint8)
    for i, (_, topics, _) in enumerate(rows):
        for k, t in enumerate(topics):
            b.log_topics[i, k] = np.frombuffer(t, np.uint8)
    b.log_data = Var.from_rows([r[2] for r in rows])
    return b


def test_topics_are_the_published_ones() -> None:
    assert params.TRANSFER_TOPIC.hex() == "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
    assert params.USDT_ADDED_BLACKLIST_TOPIC.hex() == "42e160154868087d6bfdc0ca23d96a1c1cfa32f1b72ba9ba27b69b98a0d819dc"
    assert params.USDT_REMOVED_BLACKLIST_TOPIC.hex() == "d7e9ec6e6ecd65492dce6bf513cd6867560d49544421d0783ddf06e76c24470c"
    assert params.USDT_DESTROYED_BLACK_FUNDS_TOPIC.hex() == "61e6e66b0d6339b2980aecc6ccc0039736791f0ccde9ed512e789a7fbdd698c6"
    assert params.USDC_BLACKLISTED_TOPIC.hex() == "ffa4e6181777692565cf28528fc88fd1516ea86b56da075235fa575af6a4b855"
    assert params.USDC_UNBLACKLISTED_TOPIC.hex() == "117e3210bb9aa7d9baff172026820255c6f6c30ba8999d1c2fd88e2848137c4e"


def test_usdt_and_usdc_freezes_name_token_account_and_burnt_amount() -> None:
    b = _logs([
        (USDT, [params.USDT_ADDED_BLACKLIST_TOPIC], _word(FROZEN)),
        (USDC, [params.USDC_BLACKLISTED_TOPIC, _word(FROZEN)], b""),
        (USDT, [params.USDT_DESTROYED_BLACK_FUNDS_TOPIC], _word(FROZEN) + (2**70).to_bytes(32, "big")),
        (USDC, [params.USDC_UNBLACKLISTED_TOPIC, _word(OTHER)], b""),
        (USDT, [params.USDT_ADDED_BLACKLIST_TOPIC], b""),  # same signature, no account: not counted
    ])  # fmt: skip
    counts = decode_events(b)
    assert counts.freeze_events == 4
    assert b.bl_kind.tolist() == [BlacklistKind.ADDED, BlacklistKind.ADDED,
                                  BlacklistKind.DESTROYED_FUNDS, BlacklistKind.REMOVED]  # fmt: skip
    assert fixed_to_hex(b.bl_token) == [USDT, USDC, USDT, USDC]
    assert fixed_to_hex(b.bl_account) == [FROZEN, FROZEN, FROZEN, OTHER]
    assert u256.to_ints(b.bl_amount) == [0, 0, 2**70, 0]
    assert b.bl_log_index.tolist() == [10, 11, 12, 13]


def test_transfer_shapes_follow_ethereum_etl() -> None:
    t = params.TRANSFER_TOPIC
    b = _logs([
        (USDT, [t, _word(FROZEN), _word(OTHER)], (2**256 - 1).to_bytes(32, "big")),  # ERC-20
        (USDT, [t, _word(FROZEN), _word(OTHER), _word("0x2a")], b""),  # ERC-721: id as value
        (USDT, [t], _word(FROZEN) + _word(OTHER) + _word("0x05")),  # nothing indexed
        (USDT, [t, _word(FROZEN)], b""),  # two words: not a transfer
    ])  # fmt: skip
    counts = decode_events(b)
    assert (counts.transfers, counts.odd_transfer_logs) == (3, 1)
    assert u256.to_ints(b.tt_value) == [2**256 - 1, 42, 5]
    assert fixed_to_hex(b.tt_from) == [FROZEN] * 3 and fixed_to_hex(b.tt_to) == [OTHER] * 3
