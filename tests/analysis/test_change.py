"""Change heuristics: each picks the output a wallet would have sent back to itself."""

from __future__ import annotations

import numpy as np
import pytest
from chainbuild import Tx, build, coinbase, random_chain

from chaintrail.analysis.change import HEURISTICS, ChangeContext, unique_change
from chaintrail.analysis.change_expr import evaluate, parse_change_expr, parse_heuristic_set
from chaintrail.chains.model import ScriptType
from chaintrail.errors import UsageError

COIN = 100_000_000


def _pick(txs: list[Tx], expr: str, tx: int, types: dict | None = None) -> int:
    arrays = build(txs, types)
    ctx = ChangeContext(arrays)
    out = unique_change(ctx, evaluate(parse_change_expr(expr), ctx))[tx]
    return -1 if out < 0 else int(out - arrays.tx_out_start[tx])  # vout


def test_address_type_picks_output_matching_input_type() -> None:
    types = {0: ScriptType.P2PKH, 1: ScriptType.P2SH, 2: ScriptType.P2PKH}
    txs = [coinbase(0), Tx(ins=[(0, 0)], outs=[(1, 30_000_000), (2, 19_990_000)])]
    assert _pick(txs, "address_type", 1, types) == 1


def test_optimal_change_is_the_output_smaller_than_every_input() -> None:
    txs = [coinbase(0, 2 * COIN), coinbase(1, 3 * COIN)]
    txs.append(Tx(ins=[(0, 0), (1, 0)], outs=[(2, 4 * COIN), (3, 99_990_000)]))
    assert _pick(txs, "optimal_change", 2) == 1


def test_power_of_ten_picks_the_unround_output() -> None:
    txs = [coinbase(0), Tx(ins=[(0, 0)], outs=[(1, 12_345_678), (2, 37_000_000)])]
    assert _pick(txs, "power_of_ten", 1) == 0
    assert _pick(txs, "power_of_ten(5)", 1) == 0
    assert _pick(txs, "power_of_ten(7)", 1) == -1  # nothing round at 0.1 BTC precision


def test_fresh_address_and_address_reuse() -> None:
    txs = [coinbase(0), coinbase(1), Tx(ins=[(0, 0)], outs=[(1, 10 * COIN), (2, 20 * COIN)])]
    assert _pick(txs, "fresh_address", 2) == 1  # addr 1 was paid before, addr 2 is new
    txs[2] = Tx(ins=[(0, 0)], outs=[(3, 10 * COIN), (0, 20 * COIN)])
    assert _pick(txs, "address_reuse", 2) == 1
    assert _pick(txs, "fresh_address", 2) == 0  # addr 0 funds the tx: not fresh


def test_client_fingerprint_and_peel_chain_follow_the_spend() -> None:
    txs = [
        coinbase(0),
        Tx(ins=[(0, 0)], outs=[(1, 10 * COIN), (2, 39 * COIN)], locktime=100, sequence=0xFFFFFFFD),
        Tx(ins=[(1, 1)], outs=[(3, 5 * COIN), (4, 33 * COIN)], locktime=101, sequence=0xFFFFFFFD),
        Tx(ins=[(1, 0)], outs=[(5, 9 * COIN)], version=1),
    ]
    assert _pick(txs, "client_fingerprint", 1) == -1  # 2 of 4 txs share it: too common
    txs += [coinbase(10 + i) for i in range(8)]  # now 2 of 12 txs: distinctive
    assert _pick(txs, "client_fingerprint", 1) == 1
    assert _pick(txs, "peel_chain", 1) == 1


def test_composition_and_or_minus() -> None:
    txs = [coinbase(0), Tx(ins=[(0, 0)], outs=[(1, 12_345_678), (2, 37_000_000)])]
    assert _pick(txs, "fresh_address", 1) == -1  # both fresh: ambiguous
    assert _pick(txs, "fresh_address&power_of_ten", 1) == 0
    assert _pick(txs, "fresh_address-power_of_ten", 1) == 1
    assert _pick(txs, "(address_reuse|power_of_ten)", 1) == 0


def test_single_output_tx_has_no_change() -> None:
    txs = [coinbase(0), Tx(ins=[(0, 0)], outs=[(1, 12_345_678)])]
    assert _pick(txs, "fresh_address", 1) == -1


@pytest.mark.parametrize("name", sorted(HEURISTICS))
def test_window_gives_the_same_answer_as_the_whole_chain(name: str) -> None:
    arrays = random_chain(3)
    whole = ChangeContext(arrays)
    full = unique_change(whole, HEURISTICS[name](whole))
    for lo, hi in ((0, 1), (150, 151), (200, 260), (399, 400)):
        ctx = ChangeContext(arrays, lo, hi)
        assert np.array_equal(unique_change(ctx, HEURISTICS[name](ctx)), full[lo:hi])


def test_expression_errors_name_the_problem() -> None:
    with pytest.raises(UsageError, match="unknown heuristic 'fresh'"):
        parse_change_expr("fresh&address_type")
    with pytest.raises(UsageError, match="missing '\\)'"):
        parse_change_expr("(fresh_address|peel_chain")
    with pytest.raises(UsageError, match="must start with 'multi-input'"):
        parse_heuristic_set("change:peel_chain")
    assert parse_heuristic_set("multi-input") is None


def test_and_binds_tighter_than_or() -> None:
    expr = parse_change_expr("peel_chain|optimal_change&fresh_address-power_of_ten")
    assert expr.op == "-" and expr.left.op == "|" and expr.left.right.op == "&"
