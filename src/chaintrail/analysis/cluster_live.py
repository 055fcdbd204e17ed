"""Clustering kept current block by block while a node is followed.

The persisted clustering (:func:`chaintrail.analysis.clustering.run_clustering`, incremental) is
loaded once; each new block then folds its multi-input merges into the in-memory forest
(CoinJoins detected by the same detectors are skipped), so a rule can ask which cluster an
address is in *now*, before the next persisted run. Cluster ids are the persisted ones: the
smallest address id of the cluster (``low[root]``), kept exact across merges. Change
heuristics join at the next persisted run (:meth:`LiveClusters.persist`), which starts from the
saved state, so nothing is folded twice. A reorg reloads (the persisted run recomputes when the
chain under it changed).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chaintrail.analysis import unionfind as uf
from chaintrail.analysis.cluster_state import load_state
from chaintrail.analysis.clustering import run_clustering
from chaintrail.analysis.coinjoin import MERGE_BLOCKING, detect_coinjoins
from chaintrail.kernels import kernel
from chaintrail.store.blockview import BlockView


@kernel(nogil=True)
def _union_inputs(parent, rank, low, tx_in_start, tx_n_in, in_addr, skip):  # type: ignore[no-untyped-def]
    """Union the input addresses of each tx not skipped, keeping ``low[root]`` the set's min id."""
    merges = 0
    for t in range(tx_n_in.shape[0]):
        if skip[t]:
            continue
        first = -1
        for i in range(tx_in_start[t], tx_in_start[t] + tx_n_in[t]):
            a = in_addr[i]
            if a < 0:
                continue
            if first < 0:
                first = a
                continue
            ra = uf.find(parent, first)
            rb = uf.find(parent, a)
            if ra == rb:
                continue
            m = min(low[ra], low[rb])
            if rank[ra] < rank[rb]:
                ra, rb = rb, ra
            parent[rb] = ra
            if rank[ra] == rank[rb]:
                rank[ra] += 1
            low[ra] = m
            merges += 1
    return merges


@kernel(nogil=True)
def _cluster_ids(parent, low, ids):  # type: ignore[no-untyped-def]
    out = np.full(ids.shape[0], -1, np.int64)
    n = parent.shape[0]
    for i in range(ids.shape[0]):
        a = ids[i]
        if a >= n:
            out[i] = a  # newer than the forest: its own singleton
        elif a >= 0:
            out[i] = low[uf.find(parent, a)]
    return out


class LiveClusters:
    """The union-find forest of the persisted clustering plus the blocks folded in since."""

    def __init__(self, parent: np.ndarray, rank: np.ndarray, low: np.ndarray) -> None:
        self.parent, self.rank, self.low = parent, rank, low
        self.blocks_since_persist = 0

    @classmethod
    def load(cls, store: Any) -> LiveClusters:
        """Bring the persisted clustering of ``store`` to its tip (incremental run) and load it."""
        if store.manifest.n_txs:
            run_clustering(store)
        state = load_state(store.derived_dir("clusters"))
        if state is None:
            return cls(*uf.new_forest(0), np.zeros(0, np.int64))
        labels = np.asarray(state.labels, np.int64)
        return cls(np.array(state.parent), np.array(state.rank), labels.copy())

    def grow(self, n_addresses: int) -> None:
        """Make room for addresses ``0..n_addresses-1`` (new ones are singletons)."""
        old = self.parent.shape[0]
        if n_addresses <= old:
            return
        self.parent, self.rank = uf.grow_forest(self.parent, self.rank, n_addresses)
        self.low = np.concatenate([self.low, np.arange(old, n_addresses, dtype=np.int64)])

    def cluster_ids(self, address_ids: np.ndarray) -> np.ndarray:
        """Cluster id of each address id now (-1 for -1)."""
        return _cluster_ids(self.parent, self.low, np.asarray(address_ids, np.int64))  # type: ignore[no-any-return]

    def apply(self, view: BlockView) -> int:
        """Fold a block's multi-input merges in (CoinJoins skipped); returns the merge count."""
        a = view.arrays
        if a.n_txs == 0:
            return 0
        top = int(max(a.in_addr.max(initial=-1), a.out_addr.max(initial=-1))) + 1
        self.grow(top)
        skip = (detect_coinjoins(a) & MERGE_BLOCKING) != 0
        self.blocks_since_persist += view.heights.shape[0]
        return int(
            _union_inputs(self.parent, self.rank, self.low, a.tx_in_start, a.tx_n_in,
                          a.in_addr.astype(np.int64), skip)
        )  # fmt: skip

    def persist(self, store: Any) -> LiveClusters:
        """Run the persisted (incremental, change heuristics included) clustering to the store's
        tip and return the forest loaded from it."""
        return LiveClusters.load(store)
