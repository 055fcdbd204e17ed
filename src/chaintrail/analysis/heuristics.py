"""Per-transaction heuristic verdicts for ``chaintrail tx --json``: CoinJoin detectors and the
change output each change heuristic picks."""

from __future__ import annotations

from typing import Any

import numpy as np

from chaintrail.analysis.change import HEURISTICS, ChangeContext, unique_change
from chaintrail.analysis.change_expr import evaluate, parse_heuristic_set
from chaintrail.analysis.clustering import DEFAULT_HEURISTICS, plain_arrays
from chaintrail.analysis.coinjoin import DETECTORS, detect_coinjoins
from chaintrail.errors import NotFoundError
from chaintrail.kernels import interpreted
from chaintrail.store.arrays import ChainArrays


def tx_heuristics_arrays(
    arrays: ChainArrays,
    tx_id: int,
    heuristics: str = DEFAULT_HEURISTICS,
    verdict_all: np.ndarray | None = None,
    clusters: np.ndarray | None = None,
) -> dict[str, Any]:
    """Verdicts for one tx: ``coinjoin`` (detector -> bool), ``is_coinjoin``, ``change``
    (heuristic -> the vout it uniquely picks, or None), ``change_candidates`` (heuristic ->
    candidate vouts) and ``change_selected`` (the vout the clustering set ``heuristics`` merges,
    or None: also None for CoinJoins, coinbases and txs paying back to an input address,
    which never get change merges). ``verdict_all``/``clusters`` (a clustering run's CoinJoin
    verdicts and cluster ids) let the sender-cluster filters judge as that run did."""
    if not 0 <= tx_id < arrays.n_txs:
        raise NotFoundError(f"tx id {tx_id}: not in the store (0..{arrays.n_txs - 1})")
    arrays = plain_arrays(arrays)
    verdict = int(detect_coinjoins(arrays, tx_id, tx_id + 1)[0])
    usable = verdict_all is not None and verdict_all.shape[0] == arrays.n_txs
    ctx = ChangeContext(
        arrays, tx_id, tx_id + 1,
        coinjoin_verdict=verdict_all if usable else None,
        clusters=clusters if clusters is not None and clusters.shape[0] == arrays.n_addresses else None,
    )  # fmt: skip
    first_out = int(arrays.tx_out_start[tx_id])

    def vout(out_id: int) -> int | None:
        return None if out_id < 0 else int(out_id) - first_out

    change: dict[str, int | None] = {}
    candidates: dict[str, list[int]] = {}
    for name, heuristic in HEURISTICS.items():
        mask = heuristic(ctx)
        candidates[name] = [int(v) for v in np.flatnonzero(mask)]
        change[name] = vout(int(unique_change(ctx, mask)[0]))
    selected = None
    expr = parse_heuristic_set(heuristics)
    eligible = verdict == 0 and not arrays.tx_coinbase[tx_id] and not ctx.tx_pays_back()[0]
    if expr is not None and eligible:
        selected = vout(int(unique_change(ctx, evaluate(expr, ctx))[0]))
    return {
        "coinjoin": {name: bool(verdict & bit) for name, bit in DETECTORS.items()},
        "is_coinjoin": verdict != 0,
        "change": change,
        "change_candidates": candidates,
        "change_heuristics": heuristics,
        "change_selected": selected,
    }


def tx_heuristics(store: Any, tx_id: int) -> dict[str, Any]:
    """:func:`tx_heuristics_arrays` over a store, judged with the heuristic set of its last
    clustering run (the recommended set if it was never clustered)."""
    from chaintrail.analysis.cluster_state import load_state

    state = load_state(store.derived_dir("clusters"), mmap=True)
    heuristics = state.meta["heuristics"] if state is not None else DEFAULT_HEURISTICS
    verdict = np.asarray(state.verdict) if state is not None else None
    labels = np.asarray(state.labels) if state is not None else None
    with interpreted():  # one tx: plain Python answers long before numba would have started
        return tx_heuristics_arrays(store.arrays(), int(tx_id), heuristics, verdict, labels)
