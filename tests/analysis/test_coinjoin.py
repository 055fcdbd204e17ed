"""CoinJoin detectors on hand-built transactions shaped like each protocol's, and on ordinary
payments that must not be flagged."""

from __future__ import annotations

import numpy as np
from chainbuild import Tx, build, coinbase

from chaintrail.analysis import coinjoin as cj
from chaintrail.chains.model import ScriptType

COIN = 100_000_000


def _verdict_of_last(txs: list[Tx], types: dict | None = None) -> int:
    arrays = build(txs, types)
    return int(cj.detect_coinjoins(arrays)[-1])


def _funded(n: int, value: int = COIN) -> list[Tx]:
    return [coinbase(100 + i, value) for i in range(n)]


def test_wasabi1_equal_tenth_btc_outputs() -> None:
    n = 30
    outs = [(200 + i, 10_000_000) for i in range(n)] + [(300 + i, 5_000_000) for i in range(n)]
    txs = _funded(n) + [Tx(ins=[(i, 0) for i in range(n)], outs=outs)]
    verdict = _verdict_of_last(txs)
    assert verdict & cj.WASABI1
    assert verdict & cj.MERGE_BLOCKING


def test_wasabi2_many_denominations() -> None:
    n = 60
    denoms = [5_000, 10_000, 20_000, 50_000, 100_000]
    outs = [(200 + i, denoms[i % 5]) for i in range(60)] + [(400, 123_456)]
    txs = _funded(n) + [Tx(ins=[(i, 0) for i in range(n)], outs=outs)]
    assert _verdict_of_last(txs) & cj.WASABI2


def test_whirlpool_tx0_and_mix() -> None:
    premix = 1_000_170
    tx0 = Tx(
        ins=[(0, 0)],
        outs=[(-1, 0), (201, 42_500)] + [(210 + i, premix) for i in range(5)] + [(220, 3_000_000)],
    )
    txs = _funded(1, 10_000_000) + [tx0]
    arrays = build(txs)
    verdict = int(cj.detect_coinjoins(arrays)[-1])
    assert verdict == cj.WHIRLPOOL_TX0
    assert not verdict & cj.MERGE_BLOCKING  # a tx0's inputs are one wallet's
    mix = Tx(ins=[(i, 0) for i in range(5)], outs=[(300 + i, 1_000_000) for i in range(5)])
    assert _verdict_of_last(_funded(5, premix) + [mix]) & cj.WHIRLPOOL_MIX


def test_joinmarket_three_makers_and_taker() -> None:
    # 4 participants: 4 equal outputs + 3 maker changes = 7 outputs, p = 4
    outs = [(200 + i, 25_000_000) for i in range(4)] + [(300 + i, 7_000_000 + i) for i in range(3)]
    txs = _funded(5) + [Tx(ins=[(i, 0) for i in range(5)], outs=outs)]
    assert _verdict_of_last(txs) & cj.JOINMARKET


def test_generic_equal_output_two_party() -> None:
    outs = [(200, 40_000_000), (201, 40_000_000), (202, 59_000_000), (203, 59_990_000)]
    txs = _funded(2) + [Tx(ins=[(0, 0), (1, 0)], outs=outs)]
    assert _verdict_of_last(txs) & cj.EQUAL_OUTPUT


def test_ordinary_payments_are_not_flagged() -> None:
    txs = _funded(3) + [
        Tx(ins=[(0, 0), (1, 0)], outs=[(200, 150_000_000), (201, 49_990_000)]),
        Tx(ins=[(2, 0)], outs=[(202, 30_000_000), (203, 69_990_000)]),
        Tx(ins=[(3, 0)], outs=[(204, 100_000_000), (205, 49_980_000)]),
    ]
    assert cj.detect_coinjoins(build(txs)).tolist() == [0] * 6


def test_single_wallet_batch_with_equal_outputs_is_not_flagged() -> None:
    # one address pays three equal withdrawals: one participant cannot be a CoinJoin
    txs = _funded(1) + [
        Tx(ins=[(0, 0)], outs=[(200, 10_000), (201, 10_000), (202, 10_000), (203, 5)])
    ]
    assert _verdict_of_last(txs) == 0


def test_verdict_names_and_coinbase() -> None:
    assert cj.verdict_names(cj.WASABI1 | cj.JOINMARKET) == ["wasabi1", "joinmarket"]
    arrays = build([coinbase(0)], {0: ScriptType.P2PKH})
    assert cj.detect_coinjoins(arrays).tolist() == [0]
    assert cj.detect_coinjoins(arrays).dtype == np.uint8


def test_payjoin_shaped_payments_are_kept_out_of_merges_round_payments_are_not() -> None:
    """Two input addresses, two outputs, one script type, no round amount: PayJoin-shaped,
    multi-input must not merge it (a receiver's coin may be among the inputs). A round
    payment, a third output or a second script type make it an ordinary payment."""
    funding = _funded(2, 3_000_000)
    shaped = Tx(ins=[(0, 0), (1, 0)], outs=[(200, 4_123_456), (201, 1_870_000 - 1)])
    verdict = _verdict_of_last(funding + [shaped])
    assert verdict == cj.PAYJOIN_LIKE and verdict & cj.MERGE_BLOCKING
    assert not verdict & cj.MIXES  # tracing treats it as an ordinary tx
    round_pay = Tx(ins=[(0, 0), (1, 0)], outs=[(200, 4_000_000), (201, 1_990_000 - 1)])
    assert _verdict_of_last(funding + [round_pay]) == 0
    three = Tx(ins=[(0, 0), (1, 0)], outs=[(200, 4_123_456), (201, 1_000_001), (202, 869_999)])
    assert _verdict_of_last(funding + [three]) == 0
    mixed_types = {200: ScriptType.P2TR}
    assert _verdict_of_last(funding + [shaped], mixed_types) == 0
    one_address = [coinbase(100, 3_000_000), coinbase(100, 3_000_000)]
    assert _verdict_of_last(one_address + [shaped]) == 0  # one address: one owner


def test_multiparty_round_with_more_equal_outputs_than_inputs() -> None:
    """A WabiSabi-like round of 6 participants whose denominations repeat more often than
    there are inputs (equal_output's 'no more equal outputs than inputs' misses it)."""
    funding = _funded(6, 50_000_000)
    outs = [(300 + k, 5_000_000) for k in range(40)] + [(400 + k, 2_000_000) for k in range(12)]
    outs += [(500 + k, 1_234_567 + k) for k in range(6)]
    verdict = _verdict_of_last(funding + [Tx(ins=[(i, 0) for i in range(6)], outs=outs)])
    assert verdict & cj.MULTIPARTY and verdict & cj.MIXES
    assert not verdict & cj.EQUAL_OUTPUT and not verdict & cj.WASABI2
    # an exchange batch from two hot-wallet coins is not many parties
    batch = Tx(ins=[(0, 0), (1, 0)], outs=[(600 + k, 1_000_000) for k in range(8)])
    assert not _verdict_of_last(_funded(2, 50_000_000) + [batch]) & cj.MULTIPARTY
