"""Demixing: the party's own coins are followed out of a CoinJoin, with rule and confidence."""

from __future__ import annotations

import numpy as np
import pytest
from chainbuild import Tx, build, coinbase

from chaintrail.analysis.trace import Tracer
from chaintrail.analysis.trace_demix import mix_transactions
from chaintrail.analysis.trace_models import TraceParams
from chaintrail.analysis.trace_result import Naming, build_result

D = 1_000_000  # the mix denomination
NAMING = Naming(address=lambda ids: [f"a{i}" for i in ids], txid=lambda ids: [f"t{i}" for i in ids])
PARTY, EXCHANGE = 0, 50


def _mix_chain(party_exit: str):
    """Party (addr0: 3 coins, 3.5M) and four others (1.2M each) mix into 7 x 1M + change.

    ``party_exit``: "consolidate" = the party's 3 postmix coins go together to the exchange;
    "cospend" = one postmix coin is spent with the party's toxic change to the exchange.
    """
    txs = [coinbase(PARTY, v) for v in (1_000_000, 1_500_000, 1_000_000)]
    txs += [coinbase(10 + k, 1_200_000) for k in range(4)]
    outs = [(20 + k, D) for k in range(7)]  # postmix: 20..22 are the party's (unknown to us)
    outs += [(30, 495_000)] + [(31 + k, 195_000) for k in range(4)]  # changes (fee 5,000 each)
    # the mix lists the party's input third and shuffles outputs as a real coordinator would
    ins = [(3, 0), (4, 0), (0, 0), (1, 0), (5, 0), (2, 0), (6, 0)]
    order = [3, 0, 5, 1, 6, 2, 4, 8, 7, 10, 9, 11]
    txs.append(Tx(ins=ins, outs=[outs[i] for i in order]))  # tx 7
    pos = {o[0]: v for v, o in enumerate(txs[7].outs)}
    if party_exit == "consolidate":
        txs.append(Tx(ins=[(7, pos[20]), (7, pos[21]), (7, pos[22])], outs=[(EXCHANGE, 2_990_000)]))
    else:
        txs.append(Tx(ins=[(7, pos[20]), (7, pos[30])], outs=[(EXCHANGE, 1_490_000)]))
    # two other participants spend their postmix coins alone
    txs.append(Tx(ins=[(7, pos[23])], outs=[(60, 990_000)]))
    txs.append(Tx(ins=[(7, pos[24])], outs=[(61, 990_000)]))
    return build(txs)


def _trace(chain, demix: bool):
    stop = np.zeros(chain.n_addresses, bool)
    stop[EXCHANGE] = True
    tracer = Tracer(chain, stop_addr=stop)
    params = TraceParams(stop_at_services=True, demix=demix, hops=4)
    flow = tracer.run(tracer.seeds_for_addresses(np.array([PARTY]), params), params)
    return build_result(flow, chain, NAMING)


def test_the_mix_is_detected():
    assert mix_transactions(_mix_chain("consolidate")).nonzero()[0].tolist() == [7]


def test_consolidated_postmix_coins_lead_to_the_exchange():
    res = _trace(_mix_chain("consolidate"), demix=True)
    ex = next(t for t in res.terminals if t.address == f"a{EXCHANGE}")
    # the party's 3 coins (3.0M of its 3.5M) reach the exchange minus the deposit fee
    assert ex.amount == pytest.approx(2_990_000, rel=0.01)
    assert ex.confidence == pytest.approx(0.85, abs=0.01)
    rules = {r for e in res.edges for r in e.rules}
    assert {"consolidation", "toxic_change"} <= rules
    assert ex.paths and len(ex.paths[0]) == 2  # mix, then deposit


def test_without_demixing_haircut_loses_the_trail():
    res = _trace(_mix_chain("consolidate"), demix=False)
    ex = next(t for t in res.terminals if t.address == f"a{EXCHANGE}")
    assert ex.amount < 0.5 * 2_990_000  # smeared over every participant


def test_postmix_spent_with_toxic_change_is_linked():
    res = _trace(_mix_chain("cospend"), demix=True)
    ex = next(t for t in res.terminals if t.address == f"a{EXCHANGE}")
    rule_of = {e.target: e.rules for e in res.edges if e.source == f"a{PARTY}"}
    assert rule_of["a20"] == ["cospend"] and rule_of["a30"] == ["toxic_change"]
    # the change (495k) + one postmix coin; the two other party coins stay in the anonymity set
    assert ex.amount >= 495_000 + 0.9 * D


def _ambiguous_change_chain():
    """Two outputs each complete whole denominations for the party (2.54M in): its real change
    1.53M (1 x 1M + 10k fee) and another participant's 537k (2 x 1M + 3k). The party later
    spends its postmix coin together with its real change to the exchange."""
    txs = [coinbase(PARTY, 2_540_000), coinbase(10, 1_560_000), coinbase(11, 1_050_000)]
    txs += [coinbase(12, 1_100_000), coinbase(13, 1_100_000)]
    outs = [(20 + k, D) for k in range(5)]  # 20 is the party's postmix coin
    outs += [(30, 1_530_000), (31, 537_000), (32, 40_000), (33, 90_000), (34, 90_000)]
    order = [2, 5, 0, 6, 3, 7, 1, 8, 4, 9]
    txs.append(Tx(ins=[(1, 0), (0, 0), (2, 0), (3, 0), (4, 0)], outs=[outs[i] for i in order]))
    pos = {o[0]: v for v, o in enumerate(txs[5].outs)}
    txs.append(Tx(ins=[(5, pos[20]), (5, pos[30])], outs=[(EXCHANGE, 2_520_000)]))
    txs.append(Tx(ins=[(5, pos[31])], outs=[(61, 530_000)]))
    txs.append(Tx(ins=[(5, pos[21])], outs=[(62, 990_000)]))
    return build(txs)


def test_an_ambiguous_toxic_change_is_settled_by_what_the_party_spends_it_with():
    res = _trace(_ambiguous_change_chain(), demix=True)
    rule_of = {e.target: e.rules for e in res.edges if e.source == f"a{PARTY}"}
    assert rule_of["a30"] == ["toxic_change"] and "a31" not in rule_of
    ex = next(t for t in res.terminals if t.address == f"a{EXCHANGE}")
    assert ex.amount == pytest.approx(2_520_000, rel=0.01)


PREMIX = 1_000_100


def _staged_whirlpool_chain():
    """The party splits 3.2M into three premix coins (tx 3 after its coinbase at tx 0 and
    the others' coinbases), each enters its own 5-coin mix next to four strangers' coins;
    the party sweeps two postmix coins (stage 1), sweeps that with the third (stage 2) and
    deposits; the strangers spend their postmix coins in ordinary payments."""
    txs = [coinbase(PARTY, 3_200_000)]
    txs += [coinbase(10 + k, PREMIX) for k in range(12)]  # strangers' premix coins
    txs.append(Tx(ins=[(0, 0)], outs=[(1, PREMIX), (2, PREMIX), (3, PREMIX), (4, 190_000)]))
    split = len(txs) - 1
    party_out = []
    for m in range(3):
        ins = [(1 + 4 * m + k, 0) for k in range(4)]
        ins.insert(m + 1, (split, m))
        outs = [(100 + 5 * m + j, D) for j in range(5)]
        txs.append(Tx(ins=ins, outs=outs))
        party_out.append((len(txs) - 1, (2 * m + 1) % 5))  # not always the same position
    stage1 = Tx(ins=[party_out[0], party_out[1]], outs=[(200, 1_995_000)])
    txs.append(stage1)
    stage2 = Tx(ins=[(len(txs) - 1, 0), party_out[2]], outs=[(201, 2_990_000)])
    txs.append(stage2)
    txs.append(Tx(ins=[(len(txs) - 1, 0)], outs=[(EXCHANGE, 2_985_000)]))
    for m in range(3):
        mix = split + 1 + m
        for j in range(5):
            if (mix, j) != party_out[m]:
                txs.append(
                    Tx(
                        ins=[(mix, j)],
                        outs=[(300 + 5 * m + j, 600_000), (400 + 5 * m + j, 399_000)],
                    )
                )
    return build(txs)


def _trace_params(chain, **kw):
    stop = np.zeros(chain.n_addresses, bool)
    stop[EXCHANGE] = True
    tracer = Tracer(chain, stop_addr=stop)
    params = TraceParams(stop_at_services=True, hops=8, **kw)
    flow = tracer.run(tracer.seeds_for_addresses(np.array([PARTY]), params), params)
    return build_result(flow, chain, NAMING)


def test_staged_consolidation_across_mixes_follows_the_party():
    """One coin per party per mix leaves no in-mix evidence; the party's consolidations of
    coins from three of its mixes (the exit structure) single out its outputs."""
    res = _trace_params(_staged_whirlpool_chain())
    ex = next(t for t in res.terminals if t.address == f"a{EXCHANGE}")
    assert ex.amount >= 0.95 * 3 * D * 2_985_000 / 3_000_000  # the mixed value, less fees
    assert "demix:exit_consolidation" in ex.assumptions and "haircut" in ex.assumptions
    assert ex.confidence == pytest.approx(0.8, abs=0.01)
    strangers = sum(t.amount for t in res.terminals if t.address.startswith("a3"))
    assert strangers < 0.01 * 3 * D


def test_min_confidence_stops_at_weaker_links_and_reports_the_cut():
    res = _trace_params(_staged_whirlpool_chain(), min_confidence=0.9)
    assert not any(t.address == f"a{EXCHANGE}" for t in res.terminals)
    cut = {c["reason"]: c for c in res.cut}
    assert cut["min_confidence"]["value"] >= 0.95 * 3 * D


def test_a_whale_in_a_round_gets_the_outputs_nobody_else_could_fund():
    """WabiSabi-like round: the party brings 10 BTC, five others 0.3 BTC; the two outputs
    larger than any other input are the party's (amount rule)."""
    txs = [coinbase(PARTY, 10 * 100_000_000)] + [coinbase(10 + k, 30_000_000) for k in range(5)]
    outs = [(20, 800_000_000), (21, 199_000_000)]
    outs += [(30 + k, 20_000_000) for k in range(5)] + [(40 + k, 9_900_000) for k in range(5)]
    txs.append(Tx(ins=[(k, 0) for k in range(6)], outs=outs))
    txs.append(Tx(ins=[(6, 0), (6, 1)], outs=[(EXCHANGE, 998_900_000)]))
    res = _trace_params(build(txs))
    ex = next(t for t in res.terminals if t.address == f"a{EXCHANGE}")
    assert ex.amount >= 0.99 * 998_900_000
    rule_of = {e.target: e.rules for e in res.edges if e.source == f"a{PARTY}"}
    assert rule_of["a20"] == ["amount"] and rule_of["a21"] == ["amount"]


def _backward(chain, start_addr: int):
    tracer = Tracer(chain)
    params = TraceParams(direction="backward", hops=3)
    flow = tracer.run(tracer.seeds_for_addresses(np.array([start_addr]), params), params)
    return build_result(flow, chain, NAMING)


def test_backward_through_a_round_a_whale_output_leads_to_the_whale():
    txs = [coinbase(PARTY, 10 * 100_000_000)] + [coinbase(10 + k, 30_000_000) for k in range(5)]
    outs = [(20, 800_000_000), (21, 199_000_000)]
    outs += [(30 + k, 20_000_000) for k in range(5)] + [(40 + k, 9_900_000) for k in range(5)]
    txs.append(Tx(ins=[(k, 0) for k in range(6)], outs=outs))
    res = _backward(build(txs), 20)
    by_addr = {t.address: t for t in res.terminals}
    assert by_addr[f"a{PARTY}"].amount == 800_000_000
    assert by_addr[f"a{PARTY}"].confidence == pytest.approx(0.9)
    assert not any(f"a{10 + k}" in by_addr for k in range(5))


def test_backward_a_postmix_coin_spent_with_the_toxic_change_leads_to_the_party():
    chain = _mix_chain("cospend")
    res = _backward(chain, EXCHANGE)
    party = next(t for t in res.terminals if t.address == f"a{PARTY}")
    assert party.amount >= 0.99 * 1_490_000  # both the change and the postmix coin
    assert "demix:cospend" in party.assumptions or "demix:toxic_change" in party.assumptions


def test_a_budget_that_runs_out_among_the_mixes_ends_those_trails_there():
    """The party's coins reach the mix at hop 1; the budget is cancelled just before that hop's
    demixing, so the trails entering the mix end there as 'budget' and nothing is lost."""
    from chaintrail.analysis.trace_models import EndReason
    from chaintrail.budget import Budget

    chain = _mix_chain("consolidate")
    tracer = Tracer(chain)
    params = TraceParams(demix=True, hops=4)
    meter = Budget().start()

    def cancel_at_hop_one(hop: int, hops: int, frontier: int) -> None:
        if hop == 1:
            meter.cancel()

    seeds = tracer.seeds_for_addresses(np.array([PARTY]), params)
    flow = tracer.run(seeds, params, meter=meter, progress=cancel_at_hop_one)
    assert flow.budget is not None and flow.budget["cut"] == "cancelled"
    stopped = flow.term_reason == EndReason.BUDGET
    assert sorted(flow.term_out[stopped].tolist()) == sorted(seeds.out_ids.tolist())
    assert flow.rec_out.size == 0 and flow.hops_done == 0  # nothing crossed the mix
    assert flow.term_amt.sum() == seeds.amounts.sum()
