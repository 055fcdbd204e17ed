"""Pairwise scores by contingency counts agree with brute-force pair counting."""

from __future__ import annotations

import itertools

import numpy as np

from chaintrail.analysis.cluster_metrics import cross_entity_merges, pairwise_scores


def test_pairwise_scores_match_brute_force() -> None:
    rng = np.random.default_rng(1)
    pred = rng.integers(0, 15, 120)
    true = rng.integers(0, 10, 120)
    true[:5] = -1  # unknown owners are ignored
    scores = pairwise_scores(pred, true)
    idx = [i for i in range(120) if true[i] >= 0]
    both = sum(
        1 for i, j in itertools.combinations(idx, 2) if pred[i] == pred[j] and true[i] == true[j]
    )
    p_pairs = sum(1 for i, j in itertools.combinations(idx, 2) if pred[i] == pred[j])
    t_pairs = sum(1 for i, j in itertools.combinations(idx, 2) if true[i] == true[j])
    assert scores["precision"] == both / p_pairs
    assert scores["recall"] == both / t_pairs


def test_split_impure_and_largest() -> None:
    pred = np.array([0, 0, 0, 1, 2, 2])
    true = np.array([7, 7, 8, 8, 9, 9])
    s = pairwise_scores(pred, true)
    assert s["entities_split"] == 1  # entity 8 is in clusters 0 and 1
    assert s["impure_clusters"] == 1  # cluster 0 holds entities 7 and 8
    assert s["largest_cluster"] == 3
    assert s["precision"] == 2 / 4 and s["recall"] == 2 / 3


def test_cross_entity_merges_counts_mixed_clusters() -> None:
    in_addr = np.array([0, 1, 2, 3], np.int32)
    labels = np.array([0, 0, 2, 3])
    entity = np.array([5, 6, 5, 6])
    tx_in_start = np.array([0, 2], np.int64)
    tx_n_in = np.array([2, 2], np.int32)
    assert cross_entity_merges(np.array([0, 1]), tx_in_start, tx_n_in, in_addr, labels, entity) == 1
