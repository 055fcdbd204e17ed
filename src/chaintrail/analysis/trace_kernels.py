"""Numba kernels of one tracing hop over :class:`~chaintrail.store.arrays.ChainArrays` columns.

A hop takes a *frontier* of traced outputs (out id + traced amount + confidence-weighted
amount) and crosses one transaction per item: forward through the tx that spends the output,
backward through the tx that created it. Each kernel returns, per frontier item, a status and
the tx it crossed, and one record per coin the taint reached on the far side of that tx.

Kernels are stateless (they group the frontier by tx with a sort), so concurrent traces over
the same arrays are safe. Window checks use block height and block time.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# status of a frontier item after a hop
MOVED = 0  # crossed a tx; its taint is in that tx's records
UNSPENT = 1  # forward: the output is unspent (the taint rests here)
WINDOW = 2  # the next tx is outside the height/time window
MINED = 3  # backward: the output was created by a coinbase tx
DEFERRED = 4  # the tx is a CoinJoin: demixing decides where the taint goes
NO_DATA = 5  # backward: the creating tx's inputs are not resolved in this store


@njit(cache=True, nogil=True)
def _outside(tx: int, tx_height, tx_time, h_lo: int, h_hi: int, t_lo: int, t_hi: int) -> bool:
    h = tx_height[tx]
    tm = tx_time[tx]
    return h < h_lo or h > h_hi or tm < t_lo or tm > t_hi


@njit(cache=True, nogil=True)
def _tx_in_value(tx: int, tx_in_start, tx_n_in, in_value) -> float:
    s = 0
    start = tx_in_start[tx]
    for i in range(start, start + tx_n_in[tx]):
        v = in_value[i]
        if v > 0:
            s += v
    return float(s)


@njit(cache=True, nogil=True)
def _tx_out_value(tx: int, tx_out_start, tx_n_out, out_value) -> float:
    s = 0
    start = tx_out_start[tx]
    for k in range(start, start + tx_n_out[tx]):
        s += out_value[k]
    return float(s)


@njit(cache=True, nogil=True)
def route_forward(f_out, out_spent_by, in_tx, tx_height, tx_time, h_lo, h_hi, t_lo, t_hi, defer_tx):
    """Status and spending tx of each frontier output (forward)."""
    n = f_out.shape[0]
    status = np.zeros(n, np.int8)
    via = np.full(n, -1, np.int64)
    use_defer = defer_tx.shape[0] > 0
    for j in range(n):
        i = out_spent_by[f_out[j]]
        if i < 0:
            status[j] = UNSPENT
            continue
        t = in_tx[i]
        via[j] = t
        if _outside(t, tx_height, tx_time, h_lo, h_hi, t_lo, t_hi):
            status[j] = WINDOW
        elif use_defer and defer_tx[t]:
            status[j] = DEFERRED
    return status, via


@njit(cache=True, nogil=True)
def route_backward(
    f_out, out_tx, tx_coinbase, tx_n_in, tx_height, tx_time, h_lo, h_hi, t_lo, t_hi, defer_tx
):
    """Status and creating tx of each frontier output (backward)."""
    n = f_out.shape[0]
    status = np.zeros(n, np.int8)
    via = np.full(n, -1, np.int64)
    use_defer = defer_tx.shape[0] > 0
    for j in range(n):
        t = out_tx[f_out[j]]
        via[j] = t
        if tx_coinbase[t]:
            status[j] = MINED
        elif tx_n_in[t] == 0:
            status[j] = NO_DATA
        elif _outside(t, tx_height, tx_time, h_lo, h_hi, t_lo, t_hi):
            status[j] = WINDOW
        elif use_defer and defer_tx[t]:
            status[j] = DEFERRED
    return status, via


@njit(cache=True, nogil=True)
def _moved_groups(status, via):
    """Indices of MOVED items sorted by tx, and the group boundaries."""
    idx = np.nonzero(status == MOVED)[0]
    order = idx[np.argsort(via[idx], kind="mergesort")]
    bounds = np.empty(order.shape[0] + 1, np.int64)
    bounds[0] = 0
    nb = 1
    for g in range(1, order.shape[0]):
        if via[order[g]] != via[order[g - 1]]:
            bounds[nb] = g
            nb += 1
    if order.shape[0] > 0:
        bounds[nb] = order.shape[0]
        nb += 1
    return order, bounds[:nb]


@njit(cache=True, nogil=True)
def spread_forward(
    status,
    via,
    f_amt,
    f_cam,
    seen_tx,
    poison,
    tx_in_start,
    tx_n_in,
    in_value,
    tx_out_start,
    tx_n_out,
    out_value,
):
    """Haircut/poison forward: each crossed tx passes its taint to its outputs by value.

    Haircut gives output ``k`` the share ``taint_in * value(k) / value_in`` (the fee keeps its
    share); poison gives every output of a touched tx its whole value, once per tx (``seen_tx``
    is the sorted array of txs already expanded). Returns records ``(tx, out, amt, cam)``, the
    taint that went to fees, and the txs newly expanded.
    """
    order, bounds = _moved_groups(status, via)
    n_groups = bounds.shape[0] - 1
    n_emit = 0
    for g in range(n_groups):
        t = via[order[bounds[g]]]
        if poison:
            p = np.searchsorted(seen_tx, t)
            if p < seen_tx.shape[0] and seen_tx[p] == t:
                continue
        n_emit += tx_n_out[t]
    rec_tx = np.empty(n_emit, np.int64)
    rec_out = np.empty(n_emit, np.int64)
    rec_amt = np.empty(n_emit, np.float64)
    rec_cam = np.empty(n_emit, np.float64)
    new_seen = np.empty(n_groups, np.int64)
    n_seen = 0
    fee = 0.0
    e = 0
    for g in range(n_groups):
        t = via[order[bounds[g]]]
        if poison:
            p = np.searchsorted(seen_tx, t)
            if p < seen_tx.shape[0] and seen_tx[p] == t:
                continue
            new_seen[n_seen] = t
            n_seen += 1
        acc = 0.0
        cacc = 0.0
        for q in range(bounds[g], bounds[g + 1]):
            acc += f_amt[order[q]]
            cacc += f_cam[order[q]]
        v_out = _tx_out_value(t, tx_out_start, tx_n_out, out_value)
        v_in = max(_tx_in_value(t, tx_in_start, tx_n_in, in_value), v_out)
        conf = cacc / acc if acc > 0 else 0.0
        if not poison and v_in > 0:
            fee += acc * (v_in - v_out) / v_in
        start = tx_out_start[t]
        for k in range(start, start + tx_n_out[t]):
            v = float(out_value[k])
            if poison:
                a = v
            else:
                a = acc * v / v_in if v_in > 0 else 0.0
            rec_tx[e] = t
            rec_out[e] = k
            rec_amt[e] = a
            rec_cam[e] = a * conf
            e += 1
    return rec_tx, rec_out, rec_amt, rec_cam, fee, new_seen[:n_seen]


@njit(cache=True, nogil=True)
def spread_backward(
    status, via, f_amt, f_cam, seen_tx, poison, tx_in_start, tx_n_in, in_value, in_prev_out
):
    """Haircut/poison backward: a tx's traced outputs draw on its inputs in proportion to value.

    Haircut gives input ``i`` the share ``taint * value(i) / value_in``; poison gives each
    input its whole value, once per tx. Records name the spent output (``-1`` if unresolved).
    """
    order, bounds = _moved_groups(status, via)
    n_groups = bounds.shape[0] - 1
    n_emit = 0
    for g in range(n_groups):
        t = via[order[bounds[g]]]
        if poison:
            p = np.searchsorted(seen_tx, t)
            if p < seen_tx.shape[0] and seen_tx[p] == t:
                continue
        n_emit += tx_n_in[t]
    rec_tx = np.empty(n_emit, np.int64)
    rec_out = np.empty(n_emit, np.int64)
    rec_amt = np.empty(n_emit, np.float64)
    rec_cam = np.empty(n_emit, np.float64)
    new_seen = np.empty(n_groups, np.int64)
    n_seen = 0
    e = 0
    for g in range(n_groups):
        t = via[order[bounds[g]]]
        if poison:
            p = np.searchsorted(seen_tx, t)
            if p < seen_tx.shape[0] and seen_tx[p] == t:
                continue
            new_seen[n_seen] = t
            n_seen += 1
        acc = 0.0
        cacc = 0.0
        for q in range(bounds[g], bounds[g + 1]):
            acc += f_amt[order[q]]
            cacc += f_cam[order[q]]
        conf = cacc / acc if acc > 0 else 0.0
        v_in = _tx_in_value(t, tx_in_start, tx_n_in, in_value)
        start = tx_in_start[t]
        n_in = tx_n_in[t]
        for i in range(start, start + n_in):
            v = float(max(in_value[i], 0))
            if poison:
                a = v
            elif v_in > 0:
                a = acc * v / v_in
            else:
                a = acc / n_in
            rec_tx[e] = t
            rec_out[e] = in_prev_out[i]
            rec_amt[e] = a
            rec_cam[e] = a * conf
            e += 1
    return rec_tx, rec_out, rec_amt, rec_cam, new_seen[:n_seen]
