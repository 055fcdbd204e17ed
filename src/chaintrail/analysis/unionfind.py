"""Union-find over dense address ids: numba kernels, int32 parents + int8 ranks.

State is two arrays, ``parent`` (int32) and ``rank`` (int8): 5 bytes per address. ``find`` uses
path halving, ``union`` union by rank, so a run over all inputs is near-linear. The root the
forest picks is an implementation detail; :func:`min_id_labels` turns a forest into the public
cluster id, the smallest address id in each cluster (stable under growth: a merge keeps the
smaller of the two ids, every other id stays).
"""

from __future__ import annotations

import numpy as np

from chaintrail.kernels import helper, kernel


def new_forest(n: int) -> tuple[np.ndarray, np.ndarray]:
    """A forest of ``n`` singleton sets: ``(parent int32, rank int8)``."""
    return np.arange(n, dtype=np.int32), np.zeros(n, dtype=np.int8)


def grow_forest(parent: np.ndarray, rank: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Extend a forest to ``n`` addresses; new ids are singletons, old sets are unchanged."""
    old = parent.shape[0]
    if n <= old:
        return parent, rank
    grown_parent = np.empty(n, dtype=np.int32)
    grown_parent[:old] = parent
    grown_parent[old:] = np.arange(old, n, dtype=np.int32)
    grown_rank = np.zeros(n, dtype=np.int8)
    grown_rank[:old] = rank
    return grown_parent, grown_rank


@helper
def find(parent: np.ndarray, x: int) -> int:
    """Root of ``x``, halving the path on the way up."""
    while parent[x] != x:
        grand = parent[parent[x]]
        parent[x] = grand
        x = grand
    return x


@helper
def union(parent: np.ndarray, rank: np.ndarray, a: int, b: int) -> bool:
    """Join the sets of ``a`` and ``b`` by rank; True if they were separate."""
    ra = find(parent, a)
    rb = find(parent, b)
    if ra == rb:
        return False
    if rank[ra] < rank[rb]:
        ra, rb = rb, ra
    parent[rb] = ra
    if rank[ra] == rank[rb]:
        rank[ra] += 1
    return True


@kernel(nogil=True)
def union_tx_inputs(
    parent: np.ndarray,
    rank: np.ndarray,
    tx_in_start: np.ndarray,
    tx_n_in: np.ndarray,
    in_addr: np.ndarray,
    skip_tx: np.ndarray,
    tx_lo: int,
    tx_hi: int,
) -> int:
    """Common-input-ownership: union all input addresses of each tx in ``[tx_lo, tx_hi)``.

    Inputs without an address (``in_addr < 0``) are ignored; txs with ``skip_tx[t]`` set
    (CoinJoins) merge nothing. Returns the number of unions that joined two sets.
    """
    merges = 0
    for t in range(tx_lo, tx_hi):
        if skip_tx[t]:
            continue
        start = tx_in_start[t]
        end = start + tx_n_in[t]
        first = -1
        for i in range(start, end):
            a = in_addr[i]
            if a < 0:
                continue
            if first < 0:
                first = a
            elif a != first:
                if union(parent, rank, first, a):
                    merges += 1
    return merges


@kernel(nogil=True)
def roots(parent: np.ndarray) -> np.ndarray:
    """The root of every id (compresses paths as a side effect)."""
    n = parent.shape[0]
    out = np.empty(n, dtype=np.int32)
    for x in range(n):
        out[x] = find(parent, x)
    return out


@kernel(nogil=True)
def min_id_labels(parent: np.ndarray) -> np.ndarray:
    """Cluster id of every address: the smallest address id in its set (one int32 array)."""
    n = parent.shape[0]
    labels = np.full(n, -1, dtype=np.int32)
    for x in range(n):  # ascending: the first member seen per root is the smallest
        r = find(parent, x)
        if labels[r] < 0:
            labels[r] = x  # a root's slot holds its set's smallest id, which is its label too
        labels[x] = labels[r]
    return labels


@kernel(nogil=True)
def set_sizes(parent: np.ndarray) -> np.ndarray:
    """Size of each set, indexed by root (0 for non-roots)."""
    n = parent.shape[0]
    size = np.zeros(n, dtype=np.int32)
    for x in range(n):
        size[find(parent, x)] += 1
    return size


@kernel(nogil=True)
def union_change_guarded(
    parent: np.ndarray,
    rank: np.ndarray,
    size: np.ndarray,
    tx_ids: np.ndarray,
    change_addr: np.ndarray,
    tx_in_start: np.ndarray,
    tx_n_in: np.ndarray,
    in_addr: np.ndarray,
    guard_size: int,
    absorb_min: int,
    absorb_ratio: int,
    refused_tx: np.ndarray,
    refused_size_in: np.ndarray,
    refused_size_change: np.ndarray,
    refused_reason: np.ndarray,
) -> tuple[int, int]:
    """Merge each tx's change address into its inputs' set unless a guard refuses it.

    ``size`` is indexed by root and kept up to date. Refused, and written to the ``refused_*``
    arrays (tx id, the two sizes, reason), are merges whose two sets both already hold
    ``>= guard_size`` addresses (reason 1), and merges whose change side holds ``>=
    absorb_min`` addresses and more than ``absorb_ratio`` times the input side's (reason 2:
    the sender would be absorbed into a much bigger cluster, as when a payment to a service
    is taken for change; 0 disables it). Returns ``(merges, refused)``.
    """
    merges = 0
    refused = 0
    for j in range(tx_ids.shape[0]):
        t = tx_ids[j]
        c = change_addr[j]
        if c < 0:
            continue
        src = -1
        for i in range(tx_in_start[t], tx_in_start[t] + tx_n_in[t]):
            if in_addr[i] >= 0:
                src = in_addr[i]
                break
        if src < 0:
            continue
        ra = find(parent, src)
        rb = find(parent, c)
        if ra == rb:
            continue
        reason = 0
        if size[ra] >= guard_size and size[rb] >= guard_size:
            reason = 1
        elif absorb_ratio > 0 and size[rb] >= absorb_min and size[rb] > absorb_ratio * size[ra]:
            reason = 2
        if reason:
            refused_tx[refused] = t
            refused_size_in[refused] = size[ra]
            refused_size_change[refused] = size[rb]
            refused_reason[refused] = reason
            refused += 1
            continue
        if rank[ra] < rank[rb]:
            ra, rb = rb, ra
        parent[rb] = ra
        size[ra] += size[rb]
        if rank[ra] == rank[rb]:
            rank[ra] += 1
        merges += 1
    return merges, refused
