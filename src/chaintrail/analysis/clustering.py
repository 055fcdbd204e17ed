"""Address clustering: common-input ownership plus optional guarded change merges.

Cluster ids: the cluster id of an address is the **smallest address id in its cluster**. Ids
are stable as the chain grows: when two clusters merge, the merged cluster keeps the smaller
of the two ids and the other id disappears; no other cluster changes id. Addresses the last
run has not seen (newer than it) are their own singleton cluster.

Incremental runs: the union-find forest and the number of txs processed (``last_tx``) are
persisted; a later run folds only txs ``>= last_tx`` in (multi-input merges are exact, change
heuristics judge new txs with the chain as known then). A full recompute happens when the
heuristic set or guard changes, when ``--full`` is asked, or after a reorg (the stored chain is
shorter than ``last_tx`` or the last processed tx no longer looks the same).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from chaintrail.analysis import unionfind as uf
from chaintrail.analysis.change import ChangeContext, unique_change
from chaintrail.analysis.change_expr import (
    Expr,
    cascade_levels,
    evaluate_levels,
    format_expr,
    parse_heuristic_set,
    pretty_expr,
)
from chaintrail.analysis.cluster_evidence import ClusterEvidence, cluster_evidence
from chaintrail.analysis.cluster_state import (
    DERIVED_NAME,
    LINKS_SCHEMA,
    ClusterState,
    empty_refused,
    load_links,
    load_state,
    save_state,
)
from chaintrail.analysis.clusters_table import cluster_table
from chaintrail.analysis.coinjoin import DETECTORS, MERGE_BLOCKING, detect_coinjoins
from chaintrail.errors import NotFoundError
from chaintrail.store.arrays import ChainArrays
from chaintrail.store.layout import WriterLock

# Recommended set (ACCURACY.md, chosen on the tuning variants and seeds only): the only
# unround output when the tx pays a round amount, else the only fresh output of the inputs'
# type (when the sender's cluster spends one type) in txs of at most 10 outputs; outputs a
# foreign wallet fingerprint rules out never count. Fingerprints only exclude, never decide
# alone: a wallet that changed software makes its own change look foreign.
DEFAULT_CHANGE = (
    "fingerprint_exclusion&power_of_ten"
    ">fingerprint_exclusion&fresh_address&address_type&stable_type&few_outputs"
)
DEFAULT_HEURISTICS = f"multi-input,change:{DEFAULT_CHANGE}"
CONSERVATIVE_HEURISTICS = "multi-input"
DEFAULT_GUARD_SIZE = 1000
# a change merge may not absorb the sender into a cluster of >= ABSORB_MIN addresses that is
# more than ABSORB_RATIO times its own (ACCURACY.md: such picks were payments to services)
ABSORB_MIN = 10
ABSORB_RATIO = 10
CHUNK_TXS = 1 << 18
REFUSED_REASONS = {
    1: "both clusters already large",
    2: "change side much larger than the sender's cluster",
}
ALGORITHM_VERSION = 6  # bump when merge rules change: saved states of older rules recompute

Progress = Callable[[str, int, int], None]  # (phase, done, total)


def plain_arrays(arrays: ChainArrays) -> ChainArrays:
    """The same columns as plain ndarrays (memmaps become views), as numba kernels want."""
    return ChainArrays(**{f.name: np.asarray(getattr(arrays, f.name)) for f in fields(arrays)})


def _tail(arrays: ChainArrays, last_tx: int) -> list[int]:
    """A fingerprint of tx ``last_tx - 1`` to notice that the chain under it changed."""
    if last_tx <= 0:
        return []
    t = last_tx - 1
    return [
        int(arrays.tx_height[t]),
        int(arrays.tx_in_start[t]),
        int(arrays.tx_out_start[t]),
        int(arrays.tx_n_in[t]),
        int(arrays.tx_n_out[t]),
        int(arrays.tx_locktime[t]),
    ]


def is_reusable(
    previous: ClusterState,
    arrays: ChainArrays,
    heuristics: str,
    guard: int,
    absorb_ratio: int = ABSORB_RATIO,
) -> bool:
    """Can ``previous`` be extended incrementally over ``arrays``? (same set and guards, no
    reorg)"""
    meta = previous.meta
    return (
        meta.get("heuristics") == heuristics
        and meta.get("algorithm") == ALGORITHM_VERSION
        and meta.get("guard_size") == guard
        and meta.get("absorb_guard") == [ABSORB_MIN, absorb_ratio]
        and previous.last_tx <= arrays.n_txs
        and previous.parent.shape[0] <= arrays.n_addresses
        and meta.get("tail") == _tail(arrays, previous.last_tx)
    )


def merge_change_outputs(
    arrays: ChainArrays,
    parent: np.ndarray,
    rank: np.ndarray,
    tx_ids: np.ndarray,
    change_out: np.ndarray,
    guard: int,
    absorb_min: int = ABSORB_MIN,
    absorb_ratio: int = ABSORB_RATIO,
) -> tuple[int, pa.Table]:
    """Merge the address of output ``change_out[j]`` into the inputs' cluster of ``tx_ids[j]``
    (guarded by ``guard`` and the absorb guard, ``absorb_ratio`` 0 = off); returns the merge
    count and the refused-merge log."""
    tx_ids = np.asarray(tx_ids, dtype=np.int64)
    change_addr = arrays.out_addr[np.asarray(change_out, dtype=np.int64)].astype(np.int64)
    size = uf.set_sizes(parent)
    ref_tx = np.empty(tx_ids.shape[0], np.int64)
    ref_in = np.empty(tx_ids.shape[0], np.int32)
    ref_ch = np.empty(tx_ids.shape[0], np.int32)
    ref_why = np.empty(tx_ids.shape[0], np.uint8)
    merges, refused = uf.union_change_guarded(
        parent, rank, size, tx_ids, change_addr, arrays.tx_in_start, arrays.tx_n_in,
        arrays.in_addr, guard, absorb_min, absorb_ratio, ref_tx, ref_in, ref_ch, ref_why,
    )  # fmt: skip
    log = pa.table(
        {
            "tx_id": ref_tx[:refused],
            "size_input_cluster": ref_in[:refused],
            "size_change_cluster": ref_ch[:refused],
            "reason": [REFUSED_REASONS[int(r)] for r in ref_why[:refused]],
        }
    )
    return merges, log


def change_picks(
    arrays: ChainArrays, change: Expr, verdict: np.ndarray, roots: np.ndarray, lo: int, hi: int
) -> tuple[np.ndarray, np.ndarray]:
    """``(pick, level)`` per tx in ``[lo, hi)``: the change output id a change merge would
    take (-1: none) and the cascade level that judged it (:func:`evaluate_levels`).

    Eligible are txs no detector flags, no coinbase, and no tx paying back to one of its own
    input addresses (its change is known and already merged); ``roots`` (cluster id per
    address after the multi-input merges) serve the heuristics that judge the sender's
    cluster."""
    ctx = ChangeContext(arrays, lo, hi, coinjoin_verdict=verdict, clusters=roots)
    candidates, level = evaluate_levels(change, ctx)
    eligible = (verdict[lo:hi] == 0) & ~arrays.tx_coinbase[lo:hi] & ~ctx.tx_pays_back()
    pick = unique_change(ctx, candidates, eligible)
    return pick, np.where(pick >= 0, level, -1).astype(np.int8)


def _change_merges(
    arrays: ChainArrays,
    change: Expr,
    verdict: np.ndarray,
    parent: np.ndarray,
    rank: np.ndarray,
    lo: int,
    hi: int,
    guard: int,
    absorb_ratio: int,
) -> tuple[int, pa.Table, pa.Table]:
    pick, level = change_picks(arrays, change, verdict, uf.roots(parent), lo, hi)
    rel = np.flatnonzero(pick >= 0)
    tx_ids = rel + lo
    merges, refused = merge_change_outputs(
        arrays, parent, rank, tx_ids, pick[rel], guard, absorb_ratio=absorb_ratio
    )
    links = pa.table(
        {
            "tx_id": tx_ids.astype(np.int64),
            "vout": (pick[rel] - arrays.tx_out_start[tx_ids]).astype(np.int16),
            "level": level[rel],
        },
        schema=LINKS_SCHEMA,
    )
    return merges, refused, links


def cluster_arrays(
    arrays: ChainArrays,
    heuristics: str = DEFAULT_HEURISTICS,
    previous: ClusterState | None = None,
    *,
    guard_size: int = DEFAULT_GUARD_SIZE,
    absorb_ratio: int = ABSORB_RATIO,
    ignore_detectors: int = 0,
    progress: Progress | None = None,
) -> ClusterState:
    """Cluster every address of ``arrays`` (extending ``previous`` if given and reusable).

    Multi-input merges skip txs flagged by a merge-blocking CoinJoin detector; change merges
    (when ``heuristics`` has ``change:<expr>``) take the unique candidate of each tx that is
    not flagged, not a coinbase and does not pay back to one of its own input addresses (its
    change is then known and already merged), and are refused when both clusters already hold
    ``>= guard_size`` addresses or when the change side has ``>= ABSORB_MIN`` addresses and
    more than ``absorb_ratio`` times the sender's (0: off). Both guards judge cluster sizes as
    they are when the tx is processed, so an incremental run may decide a guarded merge
    differently from a full one. ``ignore_detectors`` (a bit mask of ``DETECTORS``) switches
    detectors off, to measure what they change.
    """
    arrays = plain_arrays(arrays)
    change = parse_heuristic_set(heuristics)
    canonical = "multi-input" + ("" if change is None else f",change:{format_expr(change)}")
    if previous is not None and (
        not is_reusable(previous, arrays, canonical, guard_size, absorb_ratio)
        or previous.meta.get("ignore_detectors", 0) != ignore_detectors
    ):
        previous = None
    lo = previous.last_tx if previous is not None else 0
    hi = arrays.n_txs
    if previous is not None:
        parent, rank = uf.grow_forest(
            np.array(previous.parent), np.array(previous.rank), arrays.n_addresses
        )
        verdict = np.concatenate([np.asarray(previous.verdict)[:lo], np.zeros(hi - lo, np.uint8)])
        counts = dict(previous.meta.get("counts", {}))
        refused_log = previous.refused
        links_log = previous.links if previous.links is not None else LINKS_SCHEMA.empty_table()
    else:
        parent, rank = uf.new_forest(arrays.n_addresses)
        verdict = np.zeros(hi, np.uint8)
        counts = {}
        refused_log = empty_refused()
        links_log = LINKS_SCHEMA.empty_table()
    verdict[lo:hi] = detect_coinjoins(arrays, lo, hi) & ~np.uint8(ignore_detectors)
    skip = (verdict & MERGE_BLOCKING) != 0
    multi = 0
    for start in range(lo, hi, CHUNK_TXS):
        end = min(hi, start + CHUNK_TXS)
        multi += uf.union_tx_inputs(
            parent, rank, arrays.tx_in_start, arrays.tx_n_in, arrays.in_addr, skip, start, end
        )
        if progress:
            progress("multi-input", end - lo, hi - lo)
    change_merges = 0
    if change is not None and hi > lo:
        change_merges, log, links = _change_merges(
            arrays, change, verdict, parent, rank, lo, hi, guard_size, absorb_ratio
        )
        refused_log = pa.concat_tables([refused_log, log.cast(refused_log.schema)])
        links_log = pa.concat_tables([links_log, links])
        if progress:
            progress("change", hi - lo, hi - lo)
    counts["multi_input_merges"] = counts.get("multi_input_merges", 0) + int(multi)
    counts["change_merges"] = counts.get("change_merges", 0) + int(change_merges)
    counts["change_refused"] = int(refused_log.num_rows)
    counts["coinjoin_txs"] = int(np.count_nonzero(verdict))
    counts["merge_blocked"] = {
        name: int(np.count_nonzero(verdict & bit))
        for name, bit in DETECTORS.items()
        if bit & MERGE_BLOCKING
    }
    labels = uf.min_id_labels(parent)
    meta: dict[str, Any] = {
        "heuristics": canonical,
        "algorithm": ALGORITHM_VERSION,
        "guard_size": guard_size,
        "last_tx": hi,
        "first_new_tx": lo,
        "tail": _tail(arrays, hi),
        "n_addresses": arrays.n_addresses,
        "n_clusters": int(np.count_nonzero(labels == np.arange(labels.shape[0]))),
        "counts": counts,
        "change_levels": [] if change is None else [pretty_expr(x) for x in cascade_levels(change)],
        "absorb_guard": [ABSORB_MIN, absorb_ratio],
        "ignore_detectors": ignore_detectors,
    }
    return ClusterState(
        parent, rank, labels, verdict, refused_log, meta, links=links_log if change else None
    )


def run_clustering(
    store: Any,
    heuristics: str = DEFAULT_HEURISTICS,
    *,
    full: bool = False,
    guard_size: int = DEFAULT_GUARD_SIZE,
    progress: Progress | None = None,
) -> ClusterState:
    """Cluster a :class:`~chaintrail.store.ChainStore` and persist the result in its
    ``clusters`` derived dir; incremental unless ``full`` or the previous run cannot be reused.

    One run at a time per store: StoreError naming the other run's pid if one is going on.
    """
    directory = store.derived_dir(DERIVED_NAME)
    with WriterLock(directory, busy="another process is clustering this store"):
        return _run_clustering(store, directory, heuristics, full, guard_size, progress)


def _run_clustering(
    store: Any, directory: Path, heuristics: str, full: bool, guard_size: int,
    progress: Progress | None,
) -> ClusterState:  # fmt: skip
    previous = None if full else load_state(directory)
    if previous is not None:
        previous.links = load_links(directory, previous)
    if previous is not None and previous.last_tx > 0:
        known = previous.last_tx <= store.arrays().n_txs
        if not known or store.txids_hex([previous.last_tx - 1])[0] != previous.meta.get(
            "tail_txid"
        ):
            previous = None  # the tx we stopped at is gone or changed: a reorg, recompute
    state = cluster_arrays(
        store.arrays(), heuristics, previous, guard_size=guard_size, progress=progress
    )
    state.meta["generation"] = store.generation
    last = state.meta["last_tx"]
    state.meta["tail_txid"] = store.txids_hex([last - 1])[0] if last > 0 else None
    if progress:
        progress("cluster table", 0, 1)
    state.table = cluster_table(plain_arrays(store.arrays()), state.labels)
    save_state(directory, state)
    return state


def load_clusters(store: Any) -> ClusterState:
    """The persisted clustering of ``store`` (memory-mapped); NotFoundError if never run."""
    state = load_state(store.derived_dir(DERIVED_NAME), mmap=True)
    if state is None:
        raise NotFoundError(
            f"store {getattr(store, 'path', '')}: no clustering yet; run 'chaintrail cluster'"
        )
    return state


def load_cluster_evidence(store: Any, cluster_id: int) -> ClusterEvidence:
    """:func:`~chaintrail.analysis.cluster_evidence.cluster_evidence` for one cluster of the
    persisted clustering of ``store``."""
    directory = store.derived_dir(DERIVED_NAME)
    state = load_clusters(store)
    if not 0 <= cluster_id < state.labels.shape[0] or int(state.labels[cluster_id]) != cluster_id:
        raise NotFoundError(f"cluster {cluster_id} is not a cluster id of the last clustering run")
    return cluster_evidence(
        plain_arrays(store.arrays()),
        np.asarray(state.labels),
        np.asarray(state.verdict),
        load_links(directory, state),
        list(state.meta.get("change_levels", [])),
        state.refused.column("tx_id").to_numpy(),
        cluster_id,
    )


def cluster_of_addresses(store: Any, address_ids: np.ndarray | list[int]) -> np.ndarray:
    """Cluster id (int64) of each address id, from the persisted clustering.

    Ids newer than the last clustering run are their own singleton cluster; negative ids
    (no address) map to -1.
    """
    labels = load_clusters(store).labels
    ids = np.asarray(address_ids, dtype=np.int64)
    out = ids.copy()
    known = (ids >= 0) & (ids < labels.shape[0])
    out[known] = labels[ids[known]]
    out[ids < 0] = -1
    return out
