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
