"""Trace and exposure latency: numba tracer vs a DuckDB recursive CTE and a networkx BFS.

``python bench/bench_trace.py`` builds a synthetic chain in memory (``--txs``, default 300k);
``--chain DIR`` uses a generated chain (``chaintrail simulate --out DIR``; ingested once into
``DIR/store``) and ``--store PATH`` an existing store. Each figure is printed beside its ratio
to the baselines measured in the same run; the three engines' traced totals are checked equal.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from chaintrail.analysis.exposure import AddressTags, exposure
from chaintrail.analysis.trace import Tracer
from chaintrail.analysis.trace_models import Seeds, TraceParams
from chaintrail.budget import Budget
from chaintrail.store.arrays import ChainArrays
from chaintrail.store.layout import MANIFEST

HOPS = 6


def synthetic_chain(n_txs: int, seed: int = 1) -> ChainArrays:
    """A valid-shaped chain: 2 outputs per tx, each spent by a tx a geometric lag later."""
    rng = np.random.default_rng(seed)
    n_out = 2 * n_txs
    out_tx = np.repeat(np.arange(n_txs, dtype=np.int32), 2)
    spender = out_tx.astype(np.int64) + 1 + rng.geometric(0.002, n_out)
    spender[rng.random(n_out) < 0.05] = n_txs  # 5% stay unspent
    spent = spender < n_txs
    spent_outs = np.nonzero(spent)[0]
    order = np.argsort(spender[spent_outs], kind="stable")
    in_prev = spent_outs[order].astype(np.int64)
    in_tx = spender[in_prev].astype(np.int32)
    tx_n_in = np.bincount(in_tx, minlength=n_txs).astype(np.int32)
    tx_in_start = np.concatenate([[0], np.cumsum(tx_n_in)[:-1]]).astype(np.int64)
    out_value = rng.integers(10_000, 10**9, n_out).astype(np.int64)
    out_spent_by = np.full(n_out, -1, np.int64)
    out_spent_by[in_prev] = np.arange(in_prev.size)
    n_addr = n_txs // 2
    out_addr = rng.integers(0, n_addr, n_out).astype(np.int32)
    return ChainArrays(
        tx_height=(np.arange(n_txs) // 2000).astype(np.int32),
        tx_time=(1_500_000_000 + np.arange(n_txs) // 2000 * 600).astype(np.uint32),
        tx_in_start=tx_in_start, tx_n_in=tx_n_in,
        tx_out_start=np.arange(0, n_out, 2, dtype=np.int64), tx_n_out=np.full(n_txs, 2, np.int32),
        tx_coinbase=tx_n_in == 0, tx_version=np.full(n_txs, 2, np.int32),
        tx_locktime=np.zeros(n_txs, np.uint32), tx_fee=np.full(n_txs, -1, np.int64),
        in_tx=in_tx, in_prev_out=in_prev, in_value=out_value[in_prev], in_addr=out_addr[in_prev],
        in_sequence=np.zeros(in_prev.size, np.uint32), in_witness=np.ones(in_prev.size, bool),
        out_tx=out_tx, out_value=out_value, out_addr=out_addr, out_type=np.full(n_out, 4, np.uint8),
        out_spent_by=out_spent_by, addr_type=np.full(n_addr, 4, np.uint8),
    )  # fmt: skip


def load_store_chain(args: argparse.Namespace) -> ChainArrays:
    """Chain arrays of ``--store``, or of ``--chain DIR`` ingested once into ``DIR/store``."""
    from chaintrail.store import ChainStore

    store = args.store
    if store is None:
        store = args.chain / "store"
        if not (store / MANIFEST).exists():
            blocks = sorted(args.chain.glob("**/blk*.dat"))
            print(f"ingesting {len(blocks)} blk files into {store} (once)", flush=True)
            subprocess.check_call(
                [
                    sys.executable,
                    "-m",
                    "chaintrail",
                    "ingest",
                    *map(str, blocks),
                    "--store",
                    str(store),
                ]
            )
    return ChainStore.open(store).arrays()


def pct(samples: list[float]) -> tuple[float, float]:
    """(p50, p95) in milliseconds."""
    a = np.array(samples) * 1e3
    return float(np.percentile(a, 50)), float(np.percentile(a, 95))


def duckdb_trace(chain: ChainArrays, seeds: list[np.ndarray]) -> tuple[list[float], list[float]]:
    """The same forward haircut trace as a recursive CTE over outputs/inputs tables."""
    import duckdb
    import pyarrow as pa

    con = duckdb.connect()
    tx_in_value = np.maximum(
        np.bincount(chain.in_tx, weights=chain.in_value, minlength=chain.n_txs),
        np.bincount(chain.out_tx, weights=chain.out_value, minlength=chain.n_txs),
    )  # as the kernel: a tx's value is max(inputs, outputs)
    outs = pa.table({
        "out_id": np.arange(chain.n_outputs), "tx": chain.out_tx.astype(np.int64),
        "value": chain.out_value, "spent_tx": np.where(chain.out_spent_by >= 0,
                                                        chain.in_tx[np.maximum(chain.out_spent_by, 0)], -1).astype(np.int64),
    })  # fmt: skip
    txs = pa.table({"tx": np.arange(chain.n_txs), "in_value": tx_in_value})
    con.register("outs_a", outs)
    con.register("txs_a", txs)
    con.execute("CREATE TABLE outs AS SELECT * FROM outs_a")
    con.execute("CREATE TABLE txs AS SELECT * FROM txs_a")
    times, totals = [], []
    for s in seeds:
        ids = ",".join(str(int(x)) for x in s)
        q = f"""
        WITH RECURSIVE t(out_id, amt, hop) AS (
            SELECT out_id, value::DOUBLE, 0 FROM outs WHERE out_id IN ({ids})
            UNION ALL
            SELECT o.out_id, t.amt * o.value / greatest(x.in_value, 1), t.hop + 1
            FROM t JOIN outs s ON s.out_id = t.out_id
                   JOIN txs x ON x.tx = s.spent_tx
                   JOIN outs o ON o.tx = s.spent_tx
            WHERE t.hop < {HOPS} AND s.spent_tx >= 0
        )
        SELECT sum(t.amt) FROM t JOIN outs s ON s.out_id = t.out_id
        WHERE t.hop = {HOPS} OR s.spent_tx < 0
        """
        t0 = time.perf_counter()
        totals.append(float(con.execute(q).fetchall()[0][0] or 0.0))
        times.append(time.perf_counter() - t0)
    return times, totals


def networkx_trace(chain: ChainArrays, seeds: list[np.ndarray], max_nodes: int):
    """Forward haircut BFS over a networkx DiGraph of output -> output edges."""
    import networkx as nx

    t0 = time.perf_counter()
    spent = np.nonzero(chain.out_spent_by >= 0)[0][:max_nodes]
    tx = chain.in_tx[chain.out_spent_by[spent]]
    tx_in = np.maximum(
        np.bincount(chain.in_tx, weights=chain.in_value, minlength=chain.n_txs),
        np.bincount(chain.out_tx, weights=chain.out_value, minlength=chain.n_txs),
    )
    g = nx.DiGraph()
    for o, t in zip(spent.tolist(), tx.tolist(), strict=True):
        s = int(chain.tx_out_start[t])
        for k in range(s, s + int(chain.tx_n_out[t])):
            g.add_edge(o, k, w=float(chain.out_value[k]) / max(tx_in[t], 1.0))
    build = time.perf_counter() - t0
    times, totals = [], []
    for seed in seeds:
        t0 = time.perf_counter()
        level = {int(o): float(chain.out_value[o]) for o in seed}
        ended = 0.0
        for _hop in range(HOPS):
            nxt: dict[int, float] = {}
            for o, a in level.items():
                if o not in g or g.out_degree(o) == 0:
                    ended += a
                    continue
                for _, k, d in g.out_edges(o, data=True):
                    nxt[k] = nxt.get(k, 0.0) + a * d["w"]
            level = nxt
        totals.append(ended + sum(level.values()))
        times.append(time.perf_counter() - t0)
    return build, times, totals


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print every figure with its ratio to the baselines."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chain", type=Path, help="a `chaintrail simulate` output directory")
    ap.add_argument("--store", type=Path, help="an existing chaintrail store")
    ap.add_argument("--txs", type=int, default=300_000, help="synthetic chain size")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--cte-queries", type=int, default=5, help="0 skips both baselines")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    chain = load_store_chain(args) if (args.chain or args.store) else synthetic_chain(args.txs)
    print(
        f"chain: {chain.n_txs:,} txs, {chain.n_outputs:,} outputs ({time.perf_counter() - t0:.1f} s to load)"
    )
    tracer = Tracer(chain, coinjoin_tx=np.zeros(chain.n_txs, bool))
    rng = np.random.default_rng(7)
    # seeds: spent outputs from the first half of the chain (room for 6 hops)
    cand = np.nonzero(chain.out_spent_by[: chain.n_outputs // 2] >= 0)[0]
    seeds = [rng.choice(cand, size=1) for _ in range(args.queries)]
    params = TraceParams(hops=HOPS, demix=False)
    tracer.run(Seeds(seeds[0], chain.out_value[seeds[0]]), params)  # compile / warm caches
    times, totals, sizes = [], [], []
    for s in seeds:
        t1 = time.perf_counter()
        flow = tracer.run(Seeds(s, chain.out_value[s]), params)
        times.append(time.perf_counter() - t1)
        totals.append(float(flow.term_amt.sum() + sum(c.value for c in flow.cuts)))  # minus fees
        sizes.append(flow.txs_crossed)
    p50, p95 = pct(times)
    print(f"numba 6-hop haircut trace: p50 {p50:.3f} ms, p95 {p95:.3f} ms "
          f"(median {int(np.median(sizes))} txs crossed, max {max(sizes)})")  # fmt: skip
    # the same traces under a work budget the API would use (never reached here), interleaved
    # with unbudgeted runs (which goes first alternates) so both see the same machine and
    # cache: what the checks cost
    budget = Budget(seconds=3600.0, max_frontier=10_000, max_results=10**9)
    plain: list[float] = []
    metered: list[float] = []
    for i, s in enumerate(seeds):
        pair = [("plain", plain), ("metered", metered)]
        for kind, out in pair if i % 2 else pair[::-1]:
            t1 = time.perf_counter()
            meter = budget.start() if kind == "metered" else None
            tracer.run(Seeds(s, chain.out_value[s]), params, meter=meter)
            out.append(time.perf_counter() - t1)
    b50, b95 = pct(metered)
    u50, u95 = pct(plain)
    print(f"  with a work budget (checked each hop): p50 {b50:.3f} ms, p95 {b95:.3f} ms; "
          f"without, same run interleaved: p50 {u50:.3f} ms, p95 {u95:.3f} ms "
          f"({100 * (b50 / u50 - 1):+.1f}% at p50)")  # fmt: skip
    tags = AddressTags(
        np.where(rng.random(chain.n_addresses) < 0.01, 1, 0).astype(np.int32), ["", "exchange"]
    )
    targets = rng.choice(np.unique(chain.out_addr[cand]), size=min(50, args.queries))
    exposure(tracer, tags, targets[:1], hops=HOPS)
    ex_times = []
    for a in targets:
        t1 = time.perf_counter()
        exposure(tracer, tags, np.array([a]), hops=HOPS)
        ex_times.append(time.perf_counter() - t1)
    e50, e95 = pct(ex_times)
    print(f"exposure query (received+sent, {HOPS} hops): p50 {e50:.3f} ms, p95 {e95:.3f} ms")
    n_cte = min(args.cte_queries, len(seeds))
    if n_cte == 0:  # --cte-queries 0: the numba figures only (no DuckDB/networkx baselines)
        return 0
    cte_times, cte_totals = duckdb_trace(chain, seeds[:n_cte])
    c50, c95 = pct(cte_times)
    print(f"duckdb recursive CTE, same trace: p50 {c50:.1f} ms, p95 {c95:.1f} ms "
          f"-> numba is {c50 / p50:,.0f}x faster at p50")  # fmt: skip
    ok = np.allclose(cte_totals, totals[:n_cte], rtol=1e-6)
    print(f"  totals agree with numba: {ok}")
    nx_build, nx_times, nx_totals = networkx_trace(chain, seeds[: n_cte * 4], chain.n_outputs)
    n50, n95 = pct(nx_times)
    print(f"networkx BFS, same trace: p50 {n50:.2f} ms, p95 {n95:.2f} ms "
          f"(+{nx_build:.1f} s to build the graph) -> numba is {n50 / p50:,.0f}x faster at p50")  # fmt: skip
    print(f"  totals agree with numba: {np.allclose(nx_totals, totals[: n_cte * 4], rtol=1e-6)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
