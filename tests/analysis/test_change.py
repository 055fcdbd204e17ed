"""Change heuristics: each picks the output a wallet would have sent back to itself."""

from __future__ import annotations

import numpy as np
import pytest
from chainbuild import Tx, build, coinbase, random_chain

from chaintrail.analysis.change import HEURISTICS, ChangeContext, unique_change
from chaintrail.analysis.change_expr import evaluate, parse_change_expr, parse_heuristic_set
from chaintrail.analysis.clustering import DEFAULT_CHANGE
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


def _fingerprint_chain(payee_spender: Tx | None) -> list[Tx]:
    """Tx 1 pays addr 1 (payee) and addr 2 (change); the sender's wallet (version 2,
    anti-fee-sniping locktime, nSequence fffffffd) spends the change in tx 2."""
    txs = [
        coinbase(0),
        Tx(ins=[(0, 0)], outs=[(1, 10 * COIN), (2, 39 * COIN)], locktime=100, sequence=0xFFFFFFFD),
        Tx(ins=[(1, 1)], outs=[(3, 5 * COIN), (4, 33 * COIN)], locktime=101, sequence=0xFFFFFFFD),
    ]
    return txs + ([payee_spender] if payee_spender is not None else [])


def test_client_fingerprint_picks_the_output_the_senders_wallet_spends() -> None:
    payee_wallet = Tx(ins=[(1, 0)], outs=[(5, 9 * COIN)], version=1)
    assert _pick(_fingerprint_chain(payee_wallet), "client_fingerprint", 1) == 1
    assert _pick(_fingerprint_chain(payee_wallet), "peel_chain", 1) == 1


def test_client_fingerprint_judges_only_txs_whose_outputs_are_all_spent() -> None:
    # the payee has not spent yet: it could still turn out to be the sender's change
    assert _pick(_fingerprint_chain(None), "client_fingerprint", 1) == -1


def test_client_fingerprint_ignores_the_witness_flag() -> None:
    # the sender's next spend happens to spend a legacy coin first: same wallet, same pick
    txs = _fingerprint_chain(Tx(ins=[(1, 0)], outs=[(5, 9 * COIN)], version=1))
    txs[2].witness = False
    assert _pick(txs, "client_fingerprint", 1) == 1


def test_client_fingerprint_payee_with_the_same_wallet_software_is_ambiguous() -> None:
    same_software = Tx(ins=[(1, 0)], outs=[(5, 9 * COIN)], locktime=120, sequence=0xFFFFFFFD)
    assert _pick(_fingerprint_chain(same_software), "client_fingerprint", 1) == -1


def test_client_fingerprint_does_not_judge_outputs_spent_by_a_coinjoin() -> None:
    """CoinJoin software signs with its own fingerprint: a payee spent into a Wasabi-style
    round says nothing about who owns it, so the tx is not judged."""
    txs = _fingerprint_chain(None)
    txs += [coinbase(10 + i) for i in range(6)]  # other participants' coins
    mix_ins = [(1, 0)] + [(3 + i, 0) for i in range(6)]
    mix_outs = [(20 + i, 10_000_000) for i in range(7)] + [(40 + i, 1 * COIN) for i in range(7)]
    txs.append(Tx(ins=mix_ins, outs=mix_outs, version=1))
    arrays = build(txs)
    from chaintrail.analysis.coinjoin import detect_coinjoins

    assert detect_coinjoins(arrays)[-1] != 0  # the round is recognised as a CoinJoin
    assert _pick(txs, "client_fingerprint", 1) == -1
    # the same outputs spent by an ordinary tx of a different wallet: judged again
    txs[-1] = Tx(ins=[(1, 0)], outs=[(20, 9 * COIN)], version=1)
    assert _pick(txs, "client_fingerprint", 1) == 1


def test_fingerprint_exclusion_decides_before_the_change_is_spent() -> None:
    """The payee's wallet spends with another fingerprint, so the payee is ruled out and the
    unspent output is the change; ``client_fingerprint`` must wait for that spend."""
    txs = _fingerprint_chain(Tx(ins=[(1, 0)], outs=[(5, 9 * COIN)], version=1))
    del txs[2]  # the sender has not spent its change yet
    assert _pick(txs, "client_fingerprint", 1) == -1
    assert _pick(txs, "fingerprint_exclusion", 1) == 1
    # where both decide they agree
    full = _fingerprint_chain(Tx(ins=[(1, 0)], outs=[(5, 9 * COIN)], version=1))
    assert _pick(full, "fingerprint_exclusion", 1) == _pick(full, "client_fingerprint", 1) == 1


def test_fingerprint_exclusion_rules_nothing_out_without_foreign_spends() -> None:
    same_software = Tx(ins=[(1, 0)], outs=[(5, 9 * COIN)], locktime=120, sequence=0xFFFFFFFD)
    assert _pick(_fingerprint_chain(same_software), "fingerprint_exclusion", 1) == -1
    assert _pick(_fingerprint_chain(None), "fingerprint_exclusion", 1) == -1  # nothing spent


def test_fingerprint_exclusion_keeps_fresh_address_off_payees() -> None:
    """Both outputs fresh and of the input type, the payee spent by another wallet: alone
    fresh+type is undecided; with the exclusion it names the change."""
    txs = _fingerprint_chain(Tx(ins=[(1, 0)], outs=[(5, 9 * COIN)], version=1))
    assert _pick(txs, "fresh_address&address_type", 1) == -1
    assert _pick(txs, "fingerprint_exclusion&fresh_address&address_type", 1) == 1


def test_few_outputs_keeps_fresh_address_out_of_batches() -> None:
    """A pool payout to 11 reused miner addresses and one new miner: the new miner's address
    is the only fresh output of the inputs' type, yet it is a payee."""
    miners = list(range(1, 12))
    txs = [coinbase(0, 50 * COIN)] + [coinbase(m, COIN) for m in miners]
    payouts = [(m, 3 * COIN) for m in miners] + [(50, 3 * COIN), (0, 13 * COIN)]
    txs.append(Tx(ins=[(0, 0)], outs=payouts))
    batch = len(txs) - 1
    assert _pick(txs, "fresh_address&address_type", batch) == 11  # the new miner: wrong
    assert _pick(txs, "fresh_address&address_type&few_outputs", batch) == -1
    assert _pick(txs, "fresh_address&address_type&few_outputs(20)", batch) == 11


def test_prefer_takes_the_left_pick_where_it_is_decisive() -> None:
    payee_wallet = Tx(ins=[(1, 0)], outs=[(5, 9 * COIN)], version=1)
    txs = _fingerprint_chain(payee_wallet)
    assert _pick(txs, "fresh_address", 1) == -1  # both outputs fresh: undecided alone
    assert _pick(txs, "client_fingerprint>fresh_address", 1) == 1
    assert _pick(txs, "client_fingerprint|fresh_address", 1) == -1  # union: ambiguous
    # where the left side is not decisive (payee unspent) the right side judges
    txs = _fingerprint_chain(None)
    txs[1].outs = [(1, 12_000_000), (2, 37_654_321)]
    assert _pick(txs, "client_fingerprint>power_of_ten", 1) == 1
    assert _pick(txs, "address_reuse>power_of_ten>fresh_address", 1) == 1


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


def test_prefer_binds_loosest_and_chains_left_to_right() -> None:
    expr = parse_change_expr("client_fingerprint>power_of_ten>fresh_address&address_type")
    assert expr.op == ">" and expr.left.op == ">" and expr.right.op == "&"
    inner = parse_change_expr("fresh_address&(client_fingerprint>peel_chain)")
    assert inner.op == "&" and inner.right.op == ">"


def test_canonical_text_parses_back_to_the_same_expression() -> None:
    """Clustering stores the canonical text of its set and re-parses it for ``chaintrail tx``."""
    from chaintrail.analysis.change_expr import format_expr

    text = "client_fingerprint>power_of_ten(5)>fresh_address&address_type&few_outputs(12)"
    expr = parse_change_expr(text)
    assert parse_change_expr(format_expr(expr)) == expr


def test_parameter_on_a_heuristic_without_one_is_refused() -> None:
    arrays = build([coinbase(0), Tx(ins=[(0, 0)], outs=[(1, COIN), (2, COIN)])])
    with pytest.raises(UsageError, match="takes no parameter"):
        evaluate(parse_change_expr("peel_chain(3)"), ChangeContext(arrays))


@pytest.fixture(scope="module")
def tiny_chain(tmp_path_factory):
    """The tiny simulated chain (seed 7), ingested, with the truth's change output per tx."""
    import pyarrow.parquet as pq
    from typer.testing import CliRunner

    from chaintrail.analysis.clustering import plain_arrays
    from chaintrail.analysis.coinjoin import detect_coinjoins
    from chaintrail.cli import app
    from chaintrail.sim.run import simulate
    from chaintrail.store import ChainStore

    root = tmp_path_factory.mktemp("tiny")
    simulate("tiny", 7, root / "chain")
    result = CliRunner().invoke(
        app, ["ingest", str(root / "chain" / "blocks"), "--store", str(root / "store")]
    )
    assert result.exit_code == 0, result.output
    store = ChainStore.open(root / "store")
    arrays = plain_arrays(store.arrays())
    txs = pq.read_table(root / "chain" / "truth" / "txs.parquet")
    tx_index = {h: i for i, h in enumerate(store.txids_hex(np.arange(arrays.n_txs)))}
    change_out = np.full(arrays.n_txs, -1, np.int64)
    txids, vouts = txs.column("txid").to_pylist(), txs.column("change_vout").to_pylist()
    for h, vout in zip(txids, vouts, strict=True):
        if vout >= 0:
            change_out[tx_index[h]] = arrays.tx_out_start[tx_index[h]] + vout
    return arrays, detect_coinjoins(arrays), change_out


@pytest.mark.parametrize(
    ("expr", "min_judged"),
    [
        ("client_fingerprint", 1800),
        ("power_of_ten", 50),
        ("fresh_address&address_type&few_outputs", 3000),
        ("fingerprint_exclusion", 2500),
        ("client_fingerprint>power_of_ten>fresh_address&address_type&few_outputs", 3800),
        (DEFAULT_CHANGE, 4000),
    ],
)
def test_heuristics_pick_the_true_change_on_the_tiny_chain(tiny_chain, expr, min_judged) -> None:
    """Against the simulator's truth: of the ordinary txs a heuristic judges, at least 99.5 %
    get the output the sender really kept (and it judges a useful number of them)."""
    arrays, verdict, change_out = tiny_chain
    ctx = ChangeContext(arrays, coinjoin_verdict=verdict)
    eligible = (verdict == 0) & ~arrays.tx_coinbase & ~ctx.tx_pays_back()
    pick = unique_change(ctx, evaluate(parse_change_expr(expr), ctx), eligible)
    judged = pick >= 0
    right = np.count_nonzero(judged & (pick == change_out))
    assert np.count_nonzero(judged) >= min_judged
    assert right >= 0.995 * np.count_nonzero(judged)
