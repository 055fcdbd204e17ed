"""Multi-input clustering kernel speed beside networkx and scipy on the same edges.

    python bench/bench_cluster.py --chain DIR     # a `chaintrail simulate` output (ingested once
                                                  # into DIR-store) or
    python bench/bench_cluster.py --store STORE   # an existing store
    python bench/bench_cluster.py                 # bundled mainnet blocks 0-438 (tiny)

Prints inputs/s of the numba union-find (forest + min-id labels), scipy's
``connected_components`` (CSR build included) and networkx's ``connected_components`` over the
same edges (first input address -- every other input address of each non-CoinJoin tx); networkx
runs on a prefix of the edges when there are more than ``--nx-edges`` and is extrapolated
linearly (said so in the output). Also bytes of union-find state per address, the whole
clustering with the default change set beside multi-input alone (same run), and
``cluster-info``'s evidence split (multi-input components + change links) of the largest
cluster and of a typical user-sized one.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "tests" / "data" / "btc" / "blk_mainnet_blocks_0-438.dat"


def _store_for(args: argparse.Namespace) -> Path:
    if args.store:
        return args.store
    source = args.chain or BUNDLED
    target = Path(str(source).rstrip("/") + "-store") if args.chain else Path(tempfile.mkdtemp())
    if not (target / "MANIFEST.json").exists():
        print(f"ingesting {source} into {target} ...", flush=True)
        cmd = [
            sys.executable,
            "-m",
            "chaintrail",
            "ingest",
            str(source / "blocks" if args.chain else source),
            "--store",
            str(target),
        ]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return target


def _edges(arrays, skip: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """(first input address, other input address) per input of every non-skipped tx."""
    n_in = arrays.tx_n_in.astype(np.int64)
    tx_of_in = np.repeat(np.arange(arrays.n_txs), n_in)
    first = np.repeat(arrays.in_addr[arrays.tx_in_start[n_in > 0]], n_in[n_in > 0])
    keep = (arrays.in_addr >= 0) & (first >= 0) & ~skip[tx_of_in] & (arrays.in_addr != first)
    return first[keep].astype(np.int64), arrays.in_addr[keep].astype(np.int64)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--chain", type=Path, help="generated chain directory (blk files)")
    ap.add_argument("--store", type=Path, help="an existing store directory")
    ap.add_argument("--nx-edges", type=int, default=2_000_000, help="networkx edge budget")
    ap.add_argument("--repeat", type=int, default=3, help="best of N kernel runs")
    args = ap.parse_args(argv)

    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    from chaintrail.analysis import unionfind as uf
    from chaintrail.analysis.clustering import plain_arrays
    from chaintrail.analysis.coinjoin import MERGE_BLOCKING, detect_coinjoins
    from chaintrail.store import ChainStore

    store = ChainStore.open(_store_for(args))
    t0 = time.perf_counter()
    arrays = plain_arrays(store.arrays())
    n_addr, n_inputs, n_txs = arrays.n_addresses, arrays.n_inputs, arrays.n_txs
    print(
        f"chain: {n_txs:,} txs, {n_inputs:,} inputs, {n_addr:,} addresses "
        f"(arrays loaded in {time.perf_counter() - t0:.1f} s)"
    )

    t0 = time.perf_counter()
    skip = (detect_coinjoins(arrays) & MERGE_BLOCKING) != 0
    t_cj = time.perf_counter() - t0
    print(
        f"coinjoin detection: {t_cj:.2f} s = {n_txs / t_cj / 1e6:.2f} M txs/s "
        f"({int(skip.sum()):,} merge-blocking txs)"
    )

    # warm the JIT cache on a tiny forest so compile time is not measured
    p, r = uf.new_forest(n_addr)
    uf.union_tx_inputs(
        p, r, arrays.tx_in_start, arrays.tx_n_in, arrays.in_addr, skip, 0, min(10, n_txs)
    )
    uf.min_id_labels(p[:1].copy())

    best = float("inf")
    labels = None
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        parent, rank = uf.new_forest(n_addr)
        uf.union_tx_inputs(
            parent, rank, arrays.tx_in_start, arrays.tx_n_in, arrays.in_addr, skip, 0, n_txs
        )
        t_union = time.perf_counter() - t0
        labels = uf.min_id_labels(parent)
        best = min(best, time.perf_counter() - t0)
    assert labels is not None
    ours = n_inputs / best
    print(
        f"union-find (unions + min-id labels): {best:.3f} s = {ours / 1e6:.1f} M inputs/s "
        f"(unions alone {t_union:.3f} s)"
    )
    state_bytes = parent.nbytes + rank.nbytes
    print(
        f"state: {state_bytes / n_addr:.1f} bytes/address persisted (int32 parent + int8 rank); "
        f"{(state_bytes + labels.nbytes) / n_addr:.1f} bytes/address with the cluster-id array"
    )

    a, b = _edges(arrays, skip)
    print(f"edges: {a.size:,}")
    t0 = time.perf_counter()
    graph = sp.csr_matrix((np.ones(a.size, np.int8), (a, b)), shape=(n_addr, n_addr))
    n_comp, scipy_labels = connected_components(graph, directed=False)
    t_scipy = time.perf_counter() - t0
    n_ours = int(np.count_nonzero(labels == np.arange(n_addr)))
    assert n_comp == n_ours, f"component counts differ: scipy {n_comp}, ours {n_ours}"
    print(
        f"scipy connected_components (CSR build included): {t_scipy:.3f} s = "
        f"{n_inputs / t_scipy / 1e6:.2f} M inputs/s; ours is {t_scipy / best:.1f}x faster "
        f"(same {n_comp:,} clusters)"
    )

    import networkx as nx

    k = min(a.size, args.nx_edges)
    t0 = time.perf_counter()
    g = nx.Graph()
    g.add_nodes_from(
        range(n_addr) if k == a.size else np.unique(np.concatenate([a[:k], b[:k]])).tolist()
    )
    g.add_edges_from(zip(a[:k].tolist(), b[:k].tolist(), strict=True))
    n_nx = sum(1 for _ in nx.connected_components(g))
    t_nx = time.perf_counter() - t0
    if k == a.size:
        assert n_nx == n_comp
        t_nx_full = t_nx
        note = "all edges"
    else:
        t_nx_full = t_nx * a.size / k
        note = f"measured on the first {k:,} of {a.size:,} edges, extrapolated linearly"
    print(
        f"networkx connected_components: {t_nx_full:.2f} s ({note}) = "
        f"{n_inputs / t_nx_full / 1e6:.3f} M inputs/s; ours is {t_nx_full / best:.0f}x faster"
    )
    _whole_run(arrays)
    return 0


def _whole_run(arrays) -> None:  # type: ignore[no-untyped-def]
    """cluster_arrays with the default set beside multi-input alone; evidence of two clusters."""
    from chaintrail.analysis.cluster_evidence import cluster_evidence
    from chaintrail.analysis.clustering import DEFAULT_HEURISTICS, cluster_arrays

    cluster_arrays(arrays, "multi-input")  # warm every kernel once
    t0 = time.perf_counter()
    base = cluster_arrays(arrays, "multi-input")
    t_mi = time.perf_counter() - t0
    t0 = time.perf_counter()
    state = cluster_arrays(arrays, DEFAULT_HEURISTICS)
    t_def = time.perf_counter() - t0
    print(
        f"cluster_arrays, multi-input alone (detectors + union-find + labels): {t_mi:.2f} s; "
        f"default change set (incl. sender-cluster filters and guards): {t_def:.2f} s "
        f"({t_def / t_mi:.1f}x; {state.meta['counts']['change_merges']:,} change merges, "
        f"{state.refused.num_rows:,} refused)"
    )
    del base
    labels = np.asarray(state.labels)
    ids, sizes = np.unique(labels, return_counts=True)
    typical = ids[(sizes >= 20) & (sizes <= 200)]
    for name, cid in (("largest", int(ids[np.argmax(sizes)])),
                      ("user-sized", int(typical[0]) if typical.size else -1)):  # fmt: skip
        if cid < 0:
            continue
        t0 = time.perf_counter()
        ev = cluster_evidence(arrays, labels, state.verdict, state.links,
                              list(state.meta["change_levels"]),
                              state.refused.column("tx_id").to_numpy(), cid)  # fmt: skip
        print(
            f"cluster evidence, {name} cluster ({ev.size:,} addresses, "
            f"{len(ev.components):,} multi-input components): {time.perf_counter() - t0:.3f} s"
        )


if __name__ == "__main__":
    sys.exit(main())
