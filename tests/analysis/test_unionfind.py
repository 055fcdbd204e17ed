"""Union-find kernels: same partition as scipy, smallest-id labels, CoinJoin skipping."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from chaintrail.analysis import unionfind as uf


def _partition(labels: np.ndarray) -> set[frozenset[int]]:
    groups: dict[int, set[int]] = {}
    for i, lab in enumerate(labels.tolist()):
        groups.setdefault(lab, set()).add(i)
    return {frozenset(g) for g in groups.values()}


def test_unions_match_scipy_connected_components() -> None:
    rng = np.random.default_rng(7)
    n = 2_000
    a = rng.integers(0, n, 1_500)
    b = rng.integers(0, n, 1_500)
    parent, rank = uf.new_forest(n)
    for x, y in zip(a.tolist(), b.tolist(), strict=True):
        uf.union(parent, rank, x, y)
    graph = sp.coo_matrix((np.ones(a.size), (a, b)), shape=(n, n))
    _, scipy_labels = connected_components(graph, directed=False)
    assert _partition(uf.min_id_labels(parent)) == _partition(scipy_labels)


def test_cluster_id_is_smallest_member_and_survives_merges() -> None:
    parent, rank = uf.new_forest(10)
    uf.union(parent, rank, 7, 3)
    uf.union(parent, rank, 9, 8)
    labels = uf.min_id_labels(parent)
    assert labels[7] == 3 and labels[3] == 3 and labels[9] == 8
    uf.union(parent, rank, 8, 7)
    labels = uf.min_id_labels(parent)
    assert set(labels[[3, 7, 8, 9]].tolist()) == {3}
    assert labels[5] == 5


def test_union_tx_inputs_merges_inputs_and_skips_flagged_txs() -> None:
    # tx0 inputs: addrs 0,1,2 ; tx1 (flagged CoinJoin) inputs 2,3 ; tx2 inputs 4,-1,5
    tx_in_start = np.array([0, 3, 5], np.int64)
    tx_n_in = np.array([3, 2, 3], np.int32)
    in_addr = np.array([0, 1, 2, 2, 3, 4, -1, 5], np.int32)
    skip = np.array([False, True, False])
    parent, rank = uf.new_forest(6)
    merges = uf.union_tx_inputs(parent, rank, tx_in_start, tx_n_in, in_addr, skip, 0, 3)
    assert merges == 3
    assert uf.min_id_labels(parent).tolist() == [0, 0, 0, 3, 4, 4]


def test_grow_forest_keeps_old_sets_and_adds_singletons() -> None:
    parent, rank = uf.new_forest(3)
    uf.union(parent, rank, 0, 2)
    parent, rank = uf.grow_forest(parent, rank, 5)
    assert uf.min_id_labels(parent).tolist() == [0, 1, 0, 3, 4]
    assert parent.dtype == np.int32 and rank.dtype == np.int8


def test_guarded_change_merge_refuses_joining_two_large_sets() -> None:
    parent, rank = uf.new_forest(8)
    for x in (1, 2, 3):
        uf.union(parent, rank, 0, x)  # {0,1,2,3}
    for x in (5, 6):
        uf.union(parent, rank, 4, x)  # {4,5,6}
    size = uf.set_sizes(parent)
    # tx0 spends addr 0, change to addr 5 (both sets >= 3: refused); tx1 spends 0, change 7
    tx_in_start = np.array([0, 1], np.int64)
    tx_n_in = np.array([1, 1], np.int32)
    in_addr = np.array([0, 0], np.int32)
    ref = (
        np.zeros(2, np.int64),
        np.zeros(2, np.int32),
        np.zeros(2, np.int32),
        np.zeros(2, np.uint8),
    )
    merges, refused = uf.union_change_guarded(
        parent, rank, size, np.array([0, 1]), np.array([5, 7]), tx_in_start, tx_n_in, in_addr,
        3, 10, 0, *ref,
    )  # fmt: skip
    assert (merges, refused) == (1, 1)
    assert ref[0][0] == 0 and ref[1][0] == 4 and ref[2][0] == 3 and ref[3][0] == 1
    labels = uf.min_id_labels(parent)
    assert labels[7] == 0 and labels[5] == 4


def test_change_merge_may_not_absorb_a_sender_into_a_much_larger_cluster() -> None:
    """A user's payment to a service taken for change would join the user to the service's
    big cluster: refused (reason 2) when the change side is >= absorb_min and > ratio x the
    sender's; a change address of the sender's size is merged."""
    parent, rank = uf.new_forest(30)
    for x in range(11, 25):
        uf.union(parent, rank, 10, x)  # a service cluster of 15 addresses
    uf.union(parent, rank, 0, 1)  # the sender: 2 addresses
    size = uf.set_sizes(parent)
    tx_in_start = np.array([0, 1], np.int64)
    tx_n_in = np.array([1, 1], np.int32)
    in_addr = np.array([0, 0], np.int32)
    ref = (
        np.zeros(2, np.int64),
        np.zeros(2, np.int32),
        np.zeros(2, np.int32),
        np.zeros(2, np.uint8),
    )
    merges, refused = uf.union_change_guarded(
        parent, rank, size, np.array([0, 1]), np.array([10, 2]), tx_in_start, tx_n_in, in_addr,
        1000, 10, 5, *ref,
    )  # fmt: skip
    assert (merges, refused) == (1, 1)
    assert ref[0][0] == 0 and ref[3][0] == 2 and (ref[1][0], ref[2][0]) == (2, 15)
    labels = uf.min_id_labels(parent)
    assert labels[2] == 0 and labels[10] == 10  # the service stays apart
    # with the guard off (ratio 0) the same merge goes through
    parent, rank = uf.new_forest(30)
    for x in range(11, 25):
        uf.union(parent, rank, 10, x)
    size = uf.set_sizes(parent)
    merges, refused = uf.union_change_guarded(
        parent, rank, size, np.array([0]), np.array([10]), tx_in_start, tx_n_in, in_addr,
        1000, 10, 0, *ref,
    )  # fmt: skip
    assert (merges, refused) == (1, 0)
