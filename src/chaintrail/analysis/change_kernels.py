"""Numba kernels behind the change heuristics (:mod:`chaintrail.analysis.change`)."""

from __future__ import annotations

import numpy as np

from chaintrail.kernels import kernel


@kernel()
def min_input_value(tx_in_start, tx_n_in, in_value):
    """Smallest input value per tx; -1 if any input value is unknown or the tx has none."""
    n = tx_n_in.shape[0]
    out = np.full(n, -1, np.int64)
    for t in range(n):
        s = tx_in_start[t]
        k = tx_n_in[t]
        if k == 0:
            continue
        best = in_value[s]
        ok = True
        for i in range(s, s + k):
            v = in_value[i]
            if v < 0:
                ok = False
                break
            if v < best:
                best = v
        if ok:
            out[t] = best
    return out


@kernel()
def uniform_input_type(tx_in_start, tx_n_in, in_addr, addr_type):
    """The one address type all of a tx's inputs share, or 255 (mixed, none or unresolved)."""
    n = tx_n_in.shape[0]
    out = np.full(n, 255, np.uint8)
    for t in range(n):
        s = tx_in_start[t]
        k = tx_n_in[t]
        if k == 0:
            continue
        ty = -1
        ok = True
        for i in range(s, s + k):
            a = in_addr[i]
            if a < 0:
                ok = False
                break
            at = addr_type[a]
            if ty < 0:
                ty = at
            elif at != ty:
                ok = False
                break
        if ok:
            out[t] = ty
    return out


@kernel()
def output_addr_in_inputs(tx_in_start, tx_n_in, tx_out_start, tx_n_out, in_addr, out_addr):
    """Per output: does its address also appear among its own transaction's inputs?

    ``tx_out_start`` is relative to ``out_addr`` (a window of the output column)."""
    res = np.zeros(out_addr.shape[0], np.bool_)
    for t in range(tx_n_in.shape[0]):
        k = tx_n_in[t]
        if k == 0:
            continue
        ins = np.sort(in_addr[tx_in_start[t] : tx_in_start[t] + k])
        for o in range(tx_out_start[t], tx_out_start[t] + tx_n_out[t]):
            a = out_addr[o]
            if a >= 0:
                j = np.searchsorted(ins, a)
                res[o] = j < k and ins[j] == a
    return res


@kernel()
def first_output_of_address(out_addr, out_lo, out_hi):
    """Per output in ``[out_lo, out_hi)``: is it the first output ever paying its address?"""
    top = 0
    for o in range(out_lo, out_hi):
        top = max(top, out_addr[o] + 1)
    mark = np.zeros(top, np.bool_)
    for o in range(out_lo, out_hi):
        if out_addr[o] >= 0:
            mark[out_addr[o]] = True
    seen = np.zeros(top, np.bool_)
    for o in range(out_lo):  # addresses of the window already paid before it
        a = out_addr[o]
        if a >= 0 and a < top and mark[a]:
            seen[a] = True
    first = np.zeros(out_hi - out_lo, np.bool_)
    for o in range(out_lo, out_hi):
        a = out_addr[o]
        if a >= 0 and not seen[a]:
            seen[a] = True
            first[o - out_lo] = True
    return first


@kernel()
def unique_per_tx(tx_out_start, tx_n_out, candidate, eligible):
    """Per tx, the one candidate output (window-relative) if exactly one, else -1."""
    n = tx_n_out.shape[0]
    res = np.full(n, -1, np.int64)
    for t in range(n):
        if not eligible[t] or tx_n_out[t] < 2:
            continue
        pick = -1
        count = 0
        for o in range(tx_out_start[t], tx_out_start[t] + tx_n_out[t]):
            if candidate[o]:
                count += 1
                pick = o
        if count == 1:
            res[t] = pick
    return res
