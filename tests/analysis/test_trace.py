"""Tracing engine: taint models, stops, caps and paths on small hand-built chains."""

from __future__ import annotations

import numpy as np
import pytest
from chainbuild import Tx, build, coinbase

from chaintrail.analysis.trace import Tracer
from chaintrail.analysis.trace_models import EndReason, TraceParams
from chaintrail.analysis.trace_result import Naming, build_result
from chaintrail.errors import UsageError

NAMING = Naming(address=lambda ids: [f"a{i}" for i in ids], txid=lambda ids: [f"t{i}" for i in ids])


def _merge_chain():
    """addr0 gets 100k; pays 30k to addr1 (change 69k to addr2, fee 1k); addr2 merges its 69k
    with 100k clean coins into 100k (addr3) + 68k (addr4); addr1 pays 29k on to addr5."""
    return build(
        [
            coinbase(0, 100_000),
            coinbase(9, 100_000),
            Tx(ins=[(0, 0)], outs=[(1, 30_000), (2, 69_000)]),
            Tx(ins=[(2, 1), (1, 0)], outs=[(3, 100_000), (4, 68_000)]),
            Tx(ins=[(2, 0)], outs=[(5, 29_000)]),
        ]
    )


def _trace(chain, addr, **kw):
    tracer = Tracer(chain, coinjoin_tx=np.zeros(chain.n_txs, bool), stop_addr=kw.pop("stop", None))
    params = TraceParams(**kw)
    flow = tracer.run(tracer.seeds_for_addresses(np.array([addr]), params), params)
    return flow, build_result(flow, chain, NAMING)


def _amounts(result):
    return {t.address: t.amount for t in result.terminals}


def test_haircut_splits_by_value_and_pays_fees():
    flow, res = _trace(_merge_chain(), 0, model="haircut")
    # tx3: 69k of 169k inputs are tainted -> each output carries 69/169 of its value
    assert _amounts(res) == {
        "a3": round(100_000 * 69 / 169),
        "a4": round(68_000 * 69 / 169),
        "a5": 29_000,
    }
    assert res.fee == round(1000 + 1000 * 69_000 / 169_000 + 1000)
    assert sum(_amounts(res).values()) + res.fee == pytest.approx(100_000, abs=2)


def test_fifo_moves_coins_in_line_order():
    _, res = _trace(_merge_chain(), 0, model="fifo")
    # tx3 lines up 69k tainted then 100k clean; the first 100k go to addr3
    assert _amounts(res) == {"a3": 69_000, "a5": 29_000}
    assert res.fee == 2_000


def test_poison_taints_whole_outputs():
    _, res = _trace(_merge_chain(), 0, model="poison")
    assert _amounts(res) == {"a3": 100_000, "a4": 68_000, "a5": 29_000}


def test_backward_fifo_and_haircut_find_the_sources():
    _, hair = _trace(_merge_chain(), 4, direction="backward", model="haircut")
    _, fifo = _trace(_merge_chain(), 4, direction="backward", model="fifo")
    assert _amounts(hair) == {"a9": round(68_000 * 100 / 169), "a0": round(68_000 * 69 / 169)}
    assert _amounts(fifo) == {"a9": 68_000}  # positions 100k..168k all come from addr9's coin
    assert {r for t in fifo.terminals for r in t.reasons} == {"mined"}


def valid_random_chain(seed: int, n_txs: int = 500, n_addr: int = 200):
    """Random txs that spend 1-3 unspent coins into 1-4 outputs, paying a small fee."""
    rng = np.random.default_rng(seed)
    txs, unspent, value = [], [], {}
    for t in range(n_txs):
        if t < 20 or len(unspent) < 4 or rng.random() < 0.05:
            txs.append(coinbase(int(rng.integers(n_addr)), int(rng.integers(10**6, 10**9))))
            unspent.append((t, 0))
            value[(t, 0)] = txs[-1].outs[0][1]
            continue
        picks = sorted(rng.choice(len(unspent), size=int(rng.integers(1, 4)), replace=False))
        ins = [unspent.pop(int(i)) for i in reversed(picks)]
        total = sum(value[i] for i in ins)
        total -= int(rng.integers(0, total // 100 + 1))  # fee up to 1%
        n_cuts = int(rng.integers(0, 4)) if total > 1_000 else 0
        cuts = np.sort(rng.integers(1, total, size=n_cuts))
        parts = np.diff(np.concatenate([[0], cuts, [total]]))
        outs = [(int(rng.integers(n_addr)), int(v)) for v in parts]
        txs.append(Tx(ins=ins, outs=outs))
        for v, (_, amount) in enumerate(outs):
            unspent.append((t, v))
            value[(t, v)] = amount
    return build(txs)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("model", ["haircut", "fifo"])
def test_every_satoshi_is_accounted_for(seed, model):
    chain = valid_random_chain(seed)
    tracer = Tracer(chain, coinjoin_tx=np.zeros(chain.n_txs, bool))
    for direction in ("forward", "backward"):
        params = TraceParams(direction=direction, model=model, hops=8)
        src = int(chain.out_addr[chain.tx_out_start[25]])
        flow = tracer.run(tracer.seeds_for_addresses(np.array([src]), params), params)
        cut = sum(c.value for c in flow.cuts)
        total = flow.term_amt.sum() + flow.fee + cut
        assert total == pytest.approx(flow.seeds.amounts.sum(), rel=1e-9)


def test_hop_limit_ends_trails_and_paths_explain_them():
    chain = build(
        [coinbase(0, 10_000)]
        + [Tx(ins=[(i, 0)], outs=[(i + 1, 10_000 - 100 * (i + 1))]) for i in range(6)]
    )
    _, res = _trace(chain, 0, hops=3)
    (term,) = res.terminals
    assert (term.address, term.amount, term.reasons) == ("a3", 9_700, ["max_hops"])
    assert term.paths == [["t1", "t2", "t3"]]
    _, back = _trace(chain, 6, direction="backward", hops=10)
    assert back.terminals[0].paths == [["t1", "t2", "t3", "t4", "t5", "t6"]]


def test_stop_at_services_reports_the_cash_out():
    chain = _merge_chain()
    stop = np.zeros(chain.n_addresses, bool)
    stop[2] = True  # addr2 is an exchange deposit address
    flow, res = _trace(chain, 0, stop=stop, stop_at_services=True)
    amounts = _amounts(res)
    assert amounts["a2"] == 69_000 and "a3" not in amounts
    assert next(t for t in res.terminals if t.address == "a2").reasons == ["service"]
    with pytest.raises(UsageError):
        _trace(chain, 0, stop_at_services=True)


def test_height_window_stops_before_later_spends():
    _, res = _trace(_merge_chain(), 0, height_to=3)  # tx4 (height 4) is outside
    assert _amounts(res)["a1"] == 30_000
    assert next(t for t in res.terminals if t.address == "a1").reasons == ["window"]


def test_fan_out_is_capped_and_the_cut_reported():
    outs = [(10 + k, 1_000 + k) for k in range(50)]
    chain = build(
        [coinbase(0, 100_000), Tx(ins=[(0, 0)], outs=outs), Tx(ins=[(1, 49)], outs=[(5, 1_000)])]
    )
    flow, res = _trace(chain, 0, max_frontier=10)
    (cut,) = res.cut
    assert cut["reason"] == "frontier_cap" and cut["count"] == 40
    assert cut["value"] == sum(1_000 + k for k in range(40))  # the 40 smallest were cut
    assert len(res.terminals) == 10  # the 49th output went on to addr5
    assert "a5" in _amounts(res)


def test_min_value_drops_small_taint():
    _, res = _trace(_merge_chain(), 0, min_value=30_000)
    # hop 2 leaves 27,763 at addr4 and 29,000 at addr5: both below 30k, not followed
    assert res.cut == [{"reason": "min_value", "count": 2, "value": 27_763 + 29_000}]
    assert _amounts(res) == {"a3": 40_828}


def test_tx_and_output_seeds():
    chain = _merge_chain()
    tracer = Tracer(chain, coinjoin_tx=np.zeros(chain.n_txs, bool))
    params = TraceParams(hops=1)
    fwd = tracer.run(tracer.seeds_for_tx(2, params.direction), params)
    assert sorted(fwd.seeds.out_ids.tolist()) == [2, 3]
    one = tracer.run(tracer.seeds_for_output(2), params)
    res = build_result(one, chain, NAMING)
    assert _amounts(res) == {"a5": 29_000}


def test_bad_params_are_usage_errors():
    with pytest.raises(UsageError):
        TraceParams(hops=-1)
    with pytest.raises(UsageError):
        TraceParams(model="lifo")
    with pytest.raises(UsageError):
        TraceParams(height_from=10, height_to=5)


def test_end_reason_labels_are_stable():
    assert EndReason.SERVICE.label == "service"
