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
