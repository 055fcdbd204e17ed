"""FIFO taint kernels: traced coins are satoshi intervals that keep their place in line.

A transaction lines its inputs up in vin order (input ``i`` covers ``[c_i, c_i + value_i)`` of
the tx's coin line) and its outputs in vout order; a traced interval of an input lands on the
outputs that cover the same positions (what passes the last output went to the fee).
Backward is the mirror image: an output interval draws on the inputs at the same positions.
Each traced item is ``(out, lo, hi, conf)``: satoshis ``[lo, hi)`` of that output.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from chaintrail.analysis.trace_kernels import _moved_groups


@njit(cache=True, nogil=True)
def _map_line(a, b, conf, starts, values, ids, rec_out, rec_lo, rec_hi, rec_conf, e):
    """Map line interval [a, b) onto items laid end to end; append to records from ``e``."""
    for m in range(starts.shape[0]):
        lo = max(a, starts[m])
        hi = min(b, starts[m] + values[m])
        if hi <= lo:
            continue
        x_lo = lo - starts[m]
        x_hi = hi - starts[m]
        if (
            e > 0
            and ids[m] >= 0
            and rec_out[e - 1] == ids[m]
            and rec_hi[e - 1] == x_lo
            and rec_conf[e - 1] == conf
        ):
            rec_hi[e - 1] = x_hi  # contiguous with the previous piece: merge
            continue
        rec_out[e] = ids[m]
        rec_lo[e] = x_lo
        rec_hi[e] = x_hi
        rec_conf[e] = conf
        e += 1
    return e


@njit(cache=True, nogil=True)
def fifo_step(
    forward,
    status,
    via,
    f_out,
    f_lo,
    f_hi,
    f_conf,
    out_spent_by,
    tx_in_start,
    tx_n_in,
    in_value,
    in_prev_out,
    tx_out_start,
    tx_n_out,
    out_value,
):
    """One FIFO hop over the MOVED items; returns records and the satoshis that went to fees."""
    order, bounds = _moved_groups(status, via)
    n_groups = bounds.shape[0] - 1
    cap = 0
    for g in range(n_groups):
        t = via[order[bounds[g]]]
        width = tx_n_out[t] if forward else tx_n_in[t]
        cap += (bounds[g + 1] - bounds[g]) * width
    rec_tx = np.empty(cap, np.int64)
    rec_out = np.empty(cap, np.int64)
    rec_lo = np.empty(cap, np.int64)
    rec_hi = np.empty(cap, np.int64)
    rec_conf = np.empty(cap, np.float64)
    fee = 0
    e = 0
    for g in range(n_groups):
        t = via[order[bounds[g]]]
        in_s = tx_in_start[t]
        n_in = tx_n_in[t]
        out_s = tx_out_start[t]
        n_out = tx_n_out[t]
        in_starts = np.empty(n_in, np.int64)
        in_vals = np.empty(n_in, np.int64)
        c = 0
        for m in range(n_in):
            in_starts[m] = c
            in_vals[m] = max(in_value[in_s + m], 0)
            c += in_vals[m]
        out_starts = np.empty(n_out, np.int64)
        out_vals = np.empty(n_out, np.int64)
        c = 0
        for m in range(n_out):
            out_starts[m] = c
            out_vals[m] = out_value[out_s + m]
            c += out_vals[m]
        v_out = c
        # each item's interval in the tx's coin line, sorted by position
        size = bounds[g + 1] - bounds[g]
        line_a = np.empty(size, np.int64)
        line_b = np.empty(size, np.int64)
        confs = np.empty(size, np.float64)
        for q in range(size):
            j = order[bounds[g] + q]
            if forward:
                off = in_starts[out_spent_by[f_out[j]] - in_s]
            else:
                off = out_starts[f_out[j] - out_s]
            line_a[q] = off + f_lo[j]
            line_b[q] = off + f_hi[j]
            confs[q] = f_conf[j]
        pos = np.argsort(line_a, kind="mergesort")
        e0 = e
        for q in pos:
            if forward:
                e = _map_line(
                    line_a[q],
                    line_b[q],
                    confs[q],
                    out_starts,
                    out_vals,
                    np.arange(out_s, out_s + n_out),
                    rec_out,
                    rec_lo,
                    rec_hi,
                    rec_conf,
                    e,
                )
                if line_b[q] > v_out:
                    fee += line_b[q] - max(line_a[q], v_out)
            else:
                e = _map_line(
                    line_a[q],
                    line_b[q],
                    confs[q],
                    in_starts,
                    in_vals,
                    in_prev_out[in_s : in_s + n_in],
                    rec_out,
                    rec_lo,
                    rec_hi,
                    rec_conf,
                    e,
                )
        rec_tx[e0:e] = t
    return rec_tx[:e], rec_out[:e], rec_lo[:e], rec_hi[:e], rec_conf[:e], fee
