"""Kernels that turn a trace's output-level records into address edges and explaining paths."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def tx_edges(in_tx, in_key, in_amt, out_tx, out_key, out_amt, out_cam, out_rule):
    """Split each tx's traced outflow over its traced inflows: one row per (in, out) pair.

    Inputs must be sorted by tx. Edge ``a -> b`` through tx ``t`` carries
    ``amt_out(b) * amt_in(a) / sum_in(t)``. Returns (src, dst, tx, amount, cam, rule).
    """
    n = 0
    i = 0
    j = 0
    while i < in_tx.shape[0] and j < out_tx.shape[0]:
        if in_tx[i] < out_tx[j]:
            i += 1
        elif in_tx[i] > out_tx[j]:
            j += 1
        else:
            t = in_tx[i]
            i2 = i
            while i2 < in_tx.shape[0] and in_tx[i2] == t:
                i2 += 1
            j2 = j
            while j2 < out_tx.shape[0] and out_tx[j2] == t:
                j2 += 1
            n += (i2 - i) * (j2 - j)
            i = i2
            j = j2
    src = np.empty(n, np.int64)
    dst = np.empty(n, np.int64)
    txs = np.empty(n, np.int64)
    amt = np.empty(n, np.float64)
    cam = np.empty(n, np.float64)
    rule = np.empty(n, np.uint8)
    e = 0
    i = 0
    j = 0
    while i < in_tx.shape[0] and j < out_tx.shape[0]:
        if in_tx[i] < out_tx[j]:
            i += 1
        elif in_tx[i] > out_tx[j]:
            j += 1
        else:
            t = in_tx[i]
            i2 = i
            total = 0.0
            while i2 < in_tx.shape[0] and in_tx[i2] == t:
                total += in_amt[i2]
                i2 += 1
            j2 = j
            while j2 < out_tx.shape[0] and out_tx[j2] == t:
                j2 += 1
            for a in range(i, i2):
                w = in_amt[a] / total if total > 0 else 1.0 / (i2 - i)
                for b in range(j, j2):
                    src[e] = in_key[a]
                    dst[e] = out_key[b]
                    txs[e] = t
                    amt[e] = out_amt[b] * w
                    cam[e] = out_cam[b] * w
                    rule[e] = out_rule[b]
                    e += 1
            i = i2
            j = j2
    return src, dst, txs, amt, cam, rule


@njit(cache=True, nogil=True)
def walk_paths(starts, a_out, a_tx, a_amt, a_rule, b_tx, b_out, b_amt, max_len):
    """From each start output follow the largest record back to a seed: tx ids per step, and
    the rule of the record taken at each step (how that tx passed taint to the output).

    ``a_*`` (sorted by out) map an output to the tx on its far side; ``b_*`` (sorted by tx)
    map a tx to the outputs on the other side. Rows are padded with -1 (rules with 255).
    """
    res = np.full((starts.shape[0], max_len), -1, np.int64)
    rules = np.full((starts.shape[0], max_len), 255, np.uint8)
    for s in range(starts.shape[0]):
        cur = starts[s]
        for step in range(max_len):
            lo = np.searchsorted(a_out, cur)
            hi = np.searchsorted(a_out, cur, side="right")
            if lo == hi:
                break
            best = lo
            for q in range(lo + 1, hi):
                if a_amt[q] > a_amt[best]:
                    best = q
            t = a_tx[best]
            res[s, step] = t
            rules[s, step] = a_rule[best]
            lo = np.searchsorted(b_tx, t)
            hi = np.searchsorted(b_tx, t, side="right")
            if lo == hi:
                break
            best = lo
            for q in range(lo + 1, hi):
                if b_amt[q] > b_amt[best]:
                    best = q
            cur = b_out[best]
    return res, rules
