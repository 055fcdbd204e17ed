"""Numba kernels of the address graph (GraphSense's "address relations").

An edge a -> b exists when a transaction spends from address a and pays address b (a != b).
Its value is an estimate: each output's value split over the input addresses in proportion to
what they put in (integer floor), summed over the transactions on the edge.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _tx_pairs(lo_in, n_in, lo_out, n_out, in_addr, out_addr, buf, pos):
    """Write distinct (input addr, output addr) pairs of one tx into buf; return new pos."""
    for i in range(lo_in, lo_in + n_in):
        a = in_addr[i]
        if a < 0:
            continue
        dup = False
        for j in range(lo_in, i):
            if in_addr[j] == a:
                dup = True
                break
        if dup:
            continue
        for k in range(lo_out, lo_out + n_out):
            b = out_addr[k]
            if b < 0 or b == a:
                continue
            dup = False
            for m in range(lo_out, k):
                if out_addr[m] == b:
                    dup = True
                    break
            if not dup:
                buf[pos] = (np.int64(a) << 32) | np.int64(b)
                pos += 1
    return pos


@njit(cache=True)
def _all_pairs(tx_in_start, tx_n_in, tx_out_start, tx_n_out, in_addr, out_addr):
    total = 0
    for t in range(tx_n_in.shape[0]):
        total += np.int64(tx_n_in[t]) * np.int64(tx_n_out[t])
    buf = np.empty(total, dtype=np.int64)
    pos = 0
    for t in range(tx_n_in.shape[0]):
        if tx_n_in[t] == 0 or tx_n_out[t] == 0:
            continue
        pos = _tx_pairs(
            tx_in_start[t], tx_n_in[t], tx_out_start[t], tx_n_out[t], in_addr, out_addr, buf, pos
        )
    return buf[:pos]


def address_pair_degrees(
    tx_in_start, tx_n_in, tx_out_start, tx_n_out, in_addr, out_addr, n_addr: int
) -> tuple[np.ndarray, np.ndarray]:
    """(in_degree, out_degree) per address id: distinct addresses paying it / paid by it."""
    pairs = np.unique(_all_pairs(tx_in_start, tx_n_in, tx_out_start, tx_n_out, in_addr, out_addr))
    src = pairs >> 32
    dst = pairs & 0xFFFFFFFF
    out_deg = np.bincount(src, minlength=n_addr).astype(np.int32)
    in_deg = np.bincount(dst, minlength=n_addr).astype(np.int32)
    return in_deg, out_deg


@njit(cache=True)
def _add_flow(nb, tx_col, val, start, pos, b, t, share):
    """Add ``share`` to neighbor ``b``'s row of tx ``t`` (rows ``start:pos``); returns new pos."""
    for m in range(start, pos):
        if nb[m] == b:
            val[m] += share
            return pos
    nb[pos] = b
    tx_col[pos] = t
    val[pos] = share
    return pos + 1


@njit(cache=True)
def neighbor_flows(
    addr,
    txs,
    outgoing,
    tx_in_start,
    tx_n_in,
    tx_out_start,
    tx_n_out,
    in_addr,
    in_value,
    out_addr,
    out_value,
):
    """Per (tx, neighbor) edge rows of ``addr``: (neighbor ids, tx ids, estimated values).

    ``outgoing``: neighbors ``addr`` paid (it is among the inputs); else neighbors that paid it.
    A neighbor appears once per tx; callers aggregate over txs.
    """
    cap = 0
    for t in txs:
        cap += tx_n_out[t] if outgoing else tx_n_in[t]
    nb = np.empty(cap, dtype=np.int64)
    tx_col = np.empty(cap, dtype=np.int64)
    val = np.empty(cap, dtype=np.int64)
    pos = 0
    for t in txs:
        lo_i, hi_i = tx_in_start[t], tx_in_start[t] + tx_n_in[t]
        lo_o, hi_o = tx_out_start[t], tx_out_start[t] + tx_n_out[t]
        total_in = 0
        mine_in = 0
        for i in range(lo_i, hi_i):
            if in_value[i] > 0:
                total_in += in_value[i]
                if in_addr[i] == addr:
                    mine_in += in_value[i]
        if total_in == 0:
            continue
        if outgoing:
            if mine_in == 0:
                continue
            start = pos
            for k in range(lo_o, hi_o):
                b = out_addr[k]
                if b < 0 or b == addr:
                    continue
                share = np.int64(np.float64(out_value[k]) * mine_in / total_in)
                pos = _add_flow(nb, tx_col, val, start, pos, b, t, share)
        else:
            mine_out = 0
            for k in range(lo_o, hi_o):
                if out_addr[k] == addr:
                    mine_out += out_value[k]
            if mine_out == 0:
                continue
            start = pos
            for i in range(lo_i, hi_i):
                b = in_addr[i]
                if b < 0 or b == addr or in_value[i] <= 0:
                    continue
                share = np.int64(np.float64(mine_out) * in_value[i] / total_in)
                pos = _add_flow(nb, tx_col, val, start, pos, b, t, share)
    return nb[:pos], tx_col[:pos], val[:pos]
