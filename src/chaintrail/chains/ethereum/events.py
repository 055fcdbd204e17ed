"""Events decoded from logs: ERC-20/721 ``Transfer`` and stablecoin freeze events.

Token transfers follow ethereum-etl's rule exactly (its ``token_transfer_extractor``): a log
whose topic0 is ``Transfer`` and whose topics plus 32-byte data words number exactly four;
word 1 is ``from``, word 2 ``to`` (their last 20 bytes), word 3 the value. So ERC-721
transfers (token id indexed) are included with the id as value, and Transfer-signature logs
of any other shape are not token transfers. The common shape (3 topics, 32 bytes of data) is
decoded as whole columns; the rare shapes row by row.

Freeze events (:class:`BlacklistKind`) take the account from topic 1 (USDC, indexed) or from
data word 0 (USDT, not indexed); ``DestroyedBlackFunds`` also carries the burnt balance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chaintrail.chains.ethereum import params, u256
from chaintrail.chains.ethereum.batch import BlacklistKind, EthBatch

_TRANSFER = np.frombuffer(params.TRANSFER_TOPIC, np.uint8)
_FREEZE_TOPICS = {
    params.USDT_ADDED_BLACKLIST_TOPIC: BlacklistKind.ADDED,
    params.USDC_BLACKLISTED_TOPIC: BlacklistKind.ADDED,
    params.USDT_REMOVED_BLACKLIST_TOPIC: BlacklistKind.REMOVED,
    params.USDC_UNBLACKLISTED_TOPIC: BlacklistKind.REMOVED,
    params.USDT_DESTROYED_BLACK_FUNDS_TOPIC: BlacklistKind.DESTROYED_FUNDS,
}


@dataclass
class EventCounts:
    """What decoding saw: Transfer-signature logs that were not token transfers, by count."""

    transfers: int = 0
    odd_transfer_logs: int = 0
    freeze_events: int = 0


def _words(topics: np.ndarray, n_topics: int, data: bytes) -> list[bytes]:
    words = [topics[k].tobytes() for k in range(n_topics)]
    words += [data[i : i + 32] for i in range(0, len(data), 32)]
    return words


def decode_events(b: EthBatch) -> EventCounts:
    """Fill ``tt_*`` and ``bl_*`` of ``b`` from its logs; returns what was seen."""
    counts = EventCounts()
    dlen = np.diff(b.log_data.offsets)
    is_transfer = (b.log_n_topics >= 1) & (b.log_topics[:, 0, :] == _TRANSFER).all(axis=1)
    n_words = b.log_n_topics.astype(np.int64) + (dlen + 31) // 32
    transfer_rows = np.flatnonzero(is_transfer & (n_words == 4))
    counts.odd_transfer_logs = int(is_transfer.sum()) - transfer_rows.shape[0]
    common = transfer_rows[(b.log_n_topics[transfer_rows] == 3) & (dlen[transfer_rows] == 32)]
    rare = np.setdiff1d(transfer_rows, common)
    frm = np.zeros((transfer_rows.shape[0], 20), np.uint8)
    to = np.zeros_like(frm)
    value = np.zeros((transfer_rows.shape[0], 32), np.uint8)
    pos = np.searchsorted(transfer_rows, common)
    frm[pos] = b.log_topics[common, 1, 12:]
    to[pos] = b.log_topics[common, 2, 12:]
    if common.size:
        starts = b.log_data.offsets[common]
        value[pos] = b.log_data.buf[starts[:, None] + np.arange(32)]
    for r in rare.tolist():
        p = int(np.searchsorted(transfer_rows, r))
        w = _words(b.log_topics[r], int(b.log_n_topics[r]), b.log_data.row(r).tobytes())
        frm[p] = np.frombuffer(w[1].rjust(32, b"\0")[-20:], np.uint8)
        to[p] = np.frombuffer(w[2].rjust(32, b"\0")[-20:], np.uint8)
        value[p] = np.frombuffer(w[3].rjust(32, b"\0"), np.uint8)
    b.tt_tx = b.log_tx[transfer_rows]
    b.tt_log_index = b.log_index[transfer_rows]
    b.tt_token = b.log_address[transfer_rows]
    b.tt_from, b.tt_to = frm, to
    b.tt_value = u256.from_be_bytes(value)
    counts.transfers = transfer_rows.shape[0]
    _decode_freezes(b)
    counts.freeze_events = b.bl_tx.shape[0]
    return counts


def _decode_freezes(b: EthBatch) -> None:
    has_topic = b.log_n_topics >= 1
    hit = np.zeros(b.log_tx.shape[0], bool)
    for topic in _FREEZE_TOPICS:
        hit |= has_topic & (b.log_topics[:, 0, :] == np.frombuffer(topic, np.uint8)).all(axis=1)
    rows = np.flatnonzero(hit).tolist()
    tx, idx, kind, token, account, amount = [], [], [], [], [], []
    for r in rows:
        w = _words(b.log_topics[r], int(b.log_n_topics[r]), b.log_data.row(r).tobytes())
        k = _FREEZE_TOPICS[w[0]]
        want = 3 if k is BlacklistKind.DESTROYED_FUNDS else 2
        if len(w) != want or any(len(x) != 32 for x in w):
            continue  # same signature, other shape: not an issuer's freeze event
        tx.append(int(b.log_tx[r]))
        idx.append(int(b.log_index[r]))
        kind.append(int(k))
        token.append(b.log_address[r])
        account.append(np.frombuffer(w[1][-20:], np.uint8))
        amount.append(int.from_bytes(w[2], "big") if k is BlacklistKind.DESTROYED_FUNDS else 0)
    b.bl_tx = np.array(tx, np.int64)
    b.bl_log_index = np.array(idx, np.int32)
    b.bl_kind = np.array(kind, np.uint8)
    b.bl_token = np.array(token, np.uint8).reshape(-1, 20)
    b.bl_account = np.array(account, np.uint8).reshape(-1, 20)
    b.bl_amount = u256.from_ints(amount)
