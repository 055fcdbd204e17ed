"""Clustering accuracy against ground truth, by contingency counts (pairs never materialised).

Pairwise scores treat every unordered pair of labelled addresses as a decision "same owner?":
precision = pairs together in both / pairs together in the prediction, recall = pairs together
in both / pairs together in the truth. Counting ``C(n, 2)`` per contingency cell gives both in
O(n log n).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _pairs(counts: np.ndarray) -> int:
    c = counts.astype(np.int64)
    return int(np.sum(c * (c - 1) // 2))


def pairwise_scores(predicted: np.ndarray, truth: np.ndarray) -> dict[str, Any]:
    """Precision/recall over address pairs plus split/impurity counts.

    ``predicted[i]`` and ``truth[i]`` are the cluster id and true entity id of the same
    address; addresses with ``truth < 0`` (unknown owner) are ignored.
    """
    keep = np.asarray(truth) >= 0
    pred = np.asarray(predicted, dtype=np.int64)[keep]
    true = np.asarray(truth, dtype=np.int64)[keep]
    if pred.size == 0:
        return {"addresses": 0, "precision": 1.0, "recall": 1.0}
    _, pred_dense = np.unique(pred, return_inverse=True)
    _, true_dense = np.unique(true, return_inverse=True)
    n_true = int(true_dense.max()) + 1
    cells, cell_counts = np.unique(pred_dense * n_true + true_dense, return_counts=True)
    pred_sizes = np.bincount(pred_dense)
    true_sizes = np.bincount(true_dense)
    together_both = _pairs(cell_counts)
    together_pred = _pairs(pred_sizes)
    together_true = _pairs(true_sizes)
    cell_pred = cells // n_true
    cell_true = cells % n_true
    return {
        "addresses": int(pred.size),
        "precision": together_both / together_pred if together_pred else 1.0,
        "recall": together_both / together_true if together_true else 1.0,
        "pairs_true_positive": together_both,
        "pairs_predicted": together_pred,
        "pairs_true": together_true,
        "clusters": int(pred_sizes.size),
        "entities": int(true_sizes.size),
        "entities_split": int(np.count_nonzero(np.bincount(cell_true) > 1)),
        "impure_clusters": int(np.count_nonzero(np.bincount(cell_pred) > 1)),
        "largest_cluster": int(pred_sizes.max()),
    }


def cross_entity_merges(
    tx_ids: np.ndarray,
    tx_in_start: np.ndarray,
    tx_n_in: np.ndarray,
    in_addr: np.ndarray,
    labels: np.ndarray,
    entity: np.ndarray,
) -> int:
    """How many of ``tx_ids`` have two inputs of different true entities in one predicted
    cluster (for CoinJoins: a merge of strangers the CoinJoin could have caused)."""
    bad = 0
    for t in np.asarray(tx_ids).tolist():
        s, k = int(tx_in_start[t]), int(tx_n_in[t])
        addrs = in_addr[s : s + k]
        addrs = addrs[addrs >= 0]
        if addrs.size < 2:
            continue
        ent = entity[addrs]
        lab = labels[addrs]
        known = ent >= 0
        pairs = set(zip(lab[known].tolist(), ent[known].tolist(), strict=True))
        per_label: dict[int, int] = {}
        for lab_id, _ in pairs:
            per_label[lab_id] = per_label.get(lab_id, 0) + 1
        if any(v > 1 for v in per_label.values()):
            bad += 1
    return bad
