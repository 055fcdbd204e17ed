"""End to end: the simulated node serves the ransomware case block by block; ``follow``'s
monitor raises alerts at each hop and at the exchanges, retracts a staged reorg's alerts."""

from __future__ import annotations

from chaintrail.hub.models import Alert
from chaintrail.hub.monitor.rules import RuleIn, SubjectIn, create_rule, service_subjects
from chaintrail.hub.monitor.runner import Monitor
from chaintrail.hub.service import perform
from chaintrail.hub.setup import local_principal
from chaintrail.jobs.follow import Follower
from chaintrail.store import ChainStore

from .conftest import SimChain, Watched


def _rules(w: Watched, sim: SimChain) -> None:
    who = local_principal(w.hub)
    seeds = [SubjectIn("address", a) for a in sim.ransom["seed_addresses"]]
    services = service_subjects(w.store, "Kestrel Exchange") + service_subjects(w.store, "Bluewater Exchange")
    perform(w.hub, who, create_rule, RuleIn("ransom moves", "movement", "high", subjects=seeds))
    perform(w.hub, who, create_rule, RuleIn("ransom taint", "taint", "medium", subjects=seeds,
                                            params={"max_hops": 20, "min_percent": 50}))
    perform(w.hub, who, create_rule, RuleIn("ransom at exchanges", "service", "critical",
                                            subjects=seeds + services, params={"max_hops": 20, "min_percent": 50}))


def test_alerts_at_each_hop_and_at_the_exchanges(node, watched: Watched, sim_chain: SimChain) -> None:
    follower = Follower(ChainStore.open(watched.store, create=True), rpc_url=node.url,
                        auth={"user": "sim", "password": "sim"})
    try:
        follower.check_node()
        follower.sync()
        _rules(watched, sim_chain)
        seen: list[Alert] = []
        monitor = Monitor(watched.hub, follower, on_alert=seen.append)
        for _ in range(140 - node.height):
            node.advance()
            monitor.apply_sync(follower.sync())
        by_kind: dict[str, set[str]] = {}
        for a in seen:
            by_kind.setdefault(a.kind, set()).add(a.txid or "")
        ransom_after = [t for t in sim_chain.ransom["txids"] if sim_chain.heights[t] > 124]
        moved = {t for t in ransom_after if sim_chain.kinds[t] in ("consolidation",)}
        assert moved <= by_kind["movement"], (moved, by_kind)
        peels = {t for t in ransom_after if sim_chain.kinds[t] in ("peel", "consolidation")}
        assert peels <= by_kind["taint"]
        terminals = {t["address"] for t in sim_chain.ransom["terminals"]}
        reached = {a.subject for a in seen if a.kind == "service"}
        assert {sim_chain.owner[a] for a in reached} == {"Kestrel Exchange", "Bluewater Exchange"}
        assert reached & terminals  # deposit addresses the truth lists as the cash-out
    finally:
        follower.close()


def test_a_staged_reorg_retracts_the_orphaned_blocks_alerts(node, watched: Watched, sim_chain: SimChain) -> None:
    follower = Follower(ChainStore.open(watched.store, create=True), rpc_url=node.url,
                        auth={"user": "sim", "password": "sim"})
    try:
        follower.sync()
        _rules(watched, sim_chain)
        seen: list[Alert] = []
        monitor = Monitor(watched.hub, follower, on_alert=seen.append)
        node.advance(127 - node.height)  # the operator's consolidation is mined at 127
        monitor.apply_sync(follower.sync())
        at_127 = [a for a in seen if a.height == 127 and a.event == "alert"]
        assert {a.kind for a in at_127} >= {"movement", "taint"}
        node.reorg(depth=1, length=2)  # block 127 leaves the best chain
        monitor.apply_sync(follower.sync())
        retractions = [a for a in seen if a.event == "retraction"]
        assert sorted(r.key for r in retractions) == sorted(f"retract:{a.key}" for a in at_127)
        assert follower.store.manifest.tip_height == 128
        node.restore(130)  # the simulated chain out-works the branch: 127 comes back
        monitor.apply_sync(follower.sync())
        again = [a for a in seen if a.height == 127 and a.event == "alert" and a.id not in {x.id for x in at_127}]
        assert sorted(a.base_key for a in again) == sorted(a.base_key for a in at_127)
        assert all(a.key == f"{a.base_key}:1" for a in again)  # a new event, a key of its own
    finally:
        follower.close()


def test_an_unconfirmed_spend_of_a_watched_output_raises_a_pending_alert(node, watched: Watched,
                                                                         sim_chain: SimChain) -> None:
    follower = Follower(ChainStore.open(watched.store, create=True), rpc_url=node.url,
                        auth={"user": "sim", "password": "sim"})
    try:
        node.advance(126 - node.height)
        follower.sync()
        _rules(watched, sim_chain)
        seen: list[Alert] = []
        monitor = Monitor(watched.hub, follower, on_alert=seen.append)
        consolidation = next(t for t in sim_chain.ransom["txids"] if sim_chain.kinds[t] == "consolidation")
        from chaintrail.chains.bitcoin.decode import decode_block
        from chaintrail.chains.model import hash_to_hex

        block = sim_chain.blocks[127]
        b = decode_block(block)
        t = [hash_to_hex(x) for x in b.txid].index(consolidation)
        start = 80 + 1 + sum(int(b.tx_size[i]) for i in range(t))  # block 127 has < 253 txs
        node.add_to_mempool(block[start : start + int(b.tx_size[t])])
        monitor.check_mempool(follower.new_mempool_txs())
        pending = [a for a in seen if a.event == "pending"]
        assert [a.txid for a in pending] == [consolidation] and pending[0].kind == "movement"
        assert pending[0].amount > 0
    finally:
        follower.close()
