"""Monitoring: block -> alert latency with a large watch set, and catching up from a node.

* latency: the monitor's work for ~4,000 transactions (consecutive blocks of the simulated chain
  evaluated as one unit): read them back from the store, live clustering, every rule, and the
  outbox transaction (alerts + deliveries + processed block) committed; with 1,000,000 watched
  addresses spread over 10,000 rules (movement and taint, plus the real ransom rules). Baseline
  in the same run: the same with no rules (what reading and clustering alone cost).
* catch-up: ``follow`` from an empty store to the simulated node's tip over JSON-RPC (getblock
  verbosity 0, batches), then evaluating every block; baseline: ``ingest`` of the same blk files.

    python bench/bench_monitor.py [--preset small] [--seed 7] [--runs 30]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from chaintrail.hub.db import open_hub
from chaintrail.hub.models import WatchRule, utcnow
from chaintrail.hub.monitor.index import RuleSpec
from chaintrail.hub.monitor.runner import Monitor
from chaintrail.hub.setup import init_hub
from chaintrail.jobs.follow import Follower
from chaintrail.jobs.ingest import ingest_paths
from chaintrail.sim import simulate
from chaintrail.sim.node import SimNode, read_blk_dir
from chaintrail.store import ChainStore


def pct(values: list[float], q: float) -> float:
    """The q-quantile."""
    return float(np.quantile(np.array(values), q))


def watch_many(monitor: Monitor, hub, n_rules: int, n_addresses: int, seeds: list[int]) -> None:  # type: ignore[no-untyped-def]
    """``n_rules`` rules (DB rows, so alerts may reference them) with ``n_addresses`` watched
    address ids between them: 1 % of the store's addresses (on mainnet a million watched
    addresses are under 0.1 % of all), the rest ids beyond the store (never hit, still searched)."""
    with hub.transaction() as s:
        rows = [WatchRule(owner_org_id=1, name=f"bench {i}", kind="movement" if i % 2 else "taint", severity="low",
                          tlp="AMBER", params=json.dumps({"max_hops": 5, "min_percent": 50.0, "min_amount": 0}),
                          created_by=1, created_at=utcnow()) for i in range(n_rules)]  # fmt: skip
        s.add_all(rows)
        s.flush()
        ids = [r.id for r in rows]
    idx = monitor.index
    for rid in ids:
        idx.rules[rid] = RuleSpec(rid, f"bench {rid}", "movement" if rid % 2 else "taint", "low", "AMBER", None, 1,
                                  None, {"max_hops": 5, "min_percent": 50.0, "min_amount": 0})  # fmt: skip
    rng = np.random.default_rng(1)
    n_known = monitor.follower.n_addresses
    addrs = rng.choice(max(n_known, 1), size=min(n_addresses, n_known // 100), replace=False).tolist()
    addrs += list(range(n_known + 1, n_known + 1 + n_addresses - len(addrs)))
    per = max(1, len(addrs) // n_rules)
    for k, a in enumerate(addrs[: n_rules * per]):
        idx.addr[int(a)].add(ids[k // per])
    for a in seeds:
        idx.addr[a].add(ids[0])
    idx.refresh_arrays()


def latency(store: Path, node: SimNode, tip: int, runs: int, rules: int, addresses: int) -> dict[str, float]:
    """p50/p99 of the monitor's per-unit work over ``runs`` units of ~4,000 txs."""
    hub = open_hub(store)
    follower = Follower(ChainStore.open(store), rpc_url=node.url, auth={"user": "sim", "password": "sim"})
    try:
        monitor = Monitor(hub, follower, cluster_every=0)
        if rules:
            watch_many(monitor, hub, rules, addresses, [])
        con = follower.store.con()
        starts = con.execute("SELECT height, first_tx_id FROM blocks ORDER BY height").fetchall()
        first_tx = {h: t for h, t in starts}
        times, sizes = [], []
        h = tip // 2
        for _ in range(runs):
            hi = h
            while hi + 1 <= tip and first_tx[hi + 1] - first_tx[h] < 4000:
                hi += 1
            t0 = time.perf_counter()
            monitor._process(h, hi)
            times.append(time.perf_counter() - t0)
            sizes.append((first_tx.get(hi + 1, follower.store.manifest.n_txs)) - first_tx[h])
            h = hi + 1
            if h >= tip:
                break
        return {"p50_s": pct(times, 0.5), "p99_s": pct(times, 0.99), "max_s": max(times),
                "txs_per_unit": float(np.mean(sizes)), "units": len(times), "alerts": monitor.stats.alerts}  # fmt: skip
    finally:
        follower.close()
        hub.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="small")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--rules", type=int, default=10_000)
    ap.add_argument("--addresses", type=int, default=1_000_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        simulate(args.preset, args.seed, root / "sim")
        blocks = read_blk_dir(root / "sim" / "blocks")
        tip = len(blocks) - 1
        t0 = time.perf_counter()
        base = ingest_paths(ChainStore.open(root / "ingest", create=True), [root / "sim" / "blocks"])
        ingest_s = time.perf_counter() - t0
        node = SimNode(blocks, tip=tip)
        store = root / "follow"
        store.mkdir()
        init_hub(store, None)
        hub = open_hub(store)
        follower = Follower(ChainStore.open(store, create=True), rpc_url=node.url, auth={"user": "sim", "password": "sim"})
        t0 = time.perf_counter()
        synced = follower.sync()
        sync_s = time.perf_counter() - t0
        monitor = Monitor(hub, follower, from_height=0, cluster_every=0)  # loads (runs) clustering
        t0 = time.perf_counter()
        monitor.process_new()
        eval_s = time.perf_counter() - t0
        follower.close()
        hub.close()
        with hub.transaction() as s:  # the catch-up evaluated every block: start the latency runs fresh
            s.execute(WatchRule.__table__.delete())
        out = {
            "chain": {"preset": args.preset, "blocks": tip + 1, "txs": base.txs_added},
            "catch_up": {"ingest_blk_tx_per_s": base.txs_added / ingest_s,
                         "follow_rpc_tx_per_s": synced.txs / sync_s,
                         "evaluate_tx_per_s": base.txs_added / eval_s},
            "latency_no_rules": latency(store, node, tip, args.runs, 0, 0),
            "latency_watch_set": latency(store, node, tip, args.runs, args.rules, args.addresses),
        }  # fmt: skip
        node.close()
        print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
