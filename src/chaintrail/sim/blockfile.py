"""Serialise the planned ledger into Bitcoin Core ``blk*.dat`` files (numba kernel + writer).

Each block is ``f9beb4d9 | u32 size | header | CompactSize n_tx | txs``; files roll over
before they would pass 128 MiB, as Bitcoin Core's do. Blocks are consensus-exact: txids
and merkle roots computed over the bytes written, BIP144 witness serialisation, BIP34 height
in the coinbase, a BIP141 witness commitment in the coinbase of blocks with segwit spends,
and a nonce meeting regtest difficulty (``bits = 0x207fffff``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
from numba import njit

from chaintrail.chains.bitcoin.hashing import hash160_into, sha256d_into
from chaintrail.chains.bitcoin.params import MAX_BLOCK_WEIGHT
from chaintrail.chains.bitcoin.serialize import (
    REGTEST_BITS,
    merkle_root_into,
    put_bip34_height,
    put_copy,
    put_der_signature,
    put_header_and_mine,
    put_output_script,
    put_u32,
    put_u64,
    put_varint,
    txid_of_segwit,
    witness_commitment_into,
)
from chaintrail.sim.keys import multisig_script_into, pseudo_bytes, pubkey_into
from chaintrail.sim.ledger import (
    FLAG_BIP69,
    FLAG_LOW_R,
    MULTISIG_SCRIPT_LEN,
    P2PKH,
    P2SH,
    P2TR,
    P2WSH,
    FrozenLedger,
)

MAGIC = bytes.fromhex("f9beb4d9")
MAX_BLOCKFILE_SIZE = 128 * 1024 * 1024  # Bitcoin Core's MAX_BLOCKFILE_SIZE
BLOCK_VERSION = 0x20000000
_CB_RESERVE = 512  # coinbase bytes reserved ahead of the other txs (a coinbase is < 300)
_CHUNK_BYTES = 48 * 1024 * 1024


@njit(cache=True)
def _sig_len(in_id, which, low_r):  # type: ignore[no-untyped-def]
    if low_r:
        return 71
    return 71 + (((in_id * 40503) >> (11 + which)) & 1)


@njit(cache=True)
def _bip69_before(x, y, in_prev, out_tx, tx_out_start, txid):  # type: ignore[no-untyped-def]
    """Does input ``x`` sort before input ``y`` under BIP69 (display txid, then vout)?"""
    ox = in_prev[x]
    oy = in_prev[y]
    tx_x = out_tx[ox]
    tx_y = out_tx[oy]
    if tx_x != tx_y:
        for i in range(31, -1, -1):  # display order = internal bytes reversed
            if txid[tx_x, i] != txid[tx_y, i]:
                return txid[tx_x, i] < txid[tx_y, i]
    return ox - tx_out_start[tx_x] < oy - tx_out_start[tx_y]


@njit(cache=True)
def _input_order(t, flags, tx_in_start, tx_n_in, in_prev, out_tx, tx_out_start, txid):  # type: ignore[no-untyped-def]
    """Input ids of tx ``t`` in written order: ledger order, or BIP69 order if flagged."""
    i0 = tx_in_start[t]
    k = tx_n_in[t]
    order = np.empty(k, np.int64)
    for q in range(k):
        order[q] = i0 + q
    if flags & FLAG_BIP69:
        for a in range(1, k):
            cur = order[a]
            b = a - 1
            while b >= 0 and _bip69_before(cur, order[b], in_prev, out_tx, tx_out_start, txid):
                order[b + 1] = order[b]
                b -= 1
            order[b + 1] = cur
    return order


@njit(cache=True)
def _write_tx(t, buf, p, seed, L, payload, txid, wtxid_row, scr, state, block, w, tmp):  # type: ignore[no-untyped-def]
    (tx_version, tx_locktime, tx_n_in, tx_n_out, tx_in_start, tx_out_start,
     in_prev, in_seq, out_value, out_addr, out_tx, addr_type, tx_flags) = L  # fmt: skip
    i0 = tx_in_start[t]
    i1 = i0 + tx_n_in[t]
    low_r = (tx_flags[t] & FLAG_LOW_R) != 0
    order = _input_order(t, tx_flags[t], tx_in_start, tx_n_in, in_prev, out_tx, tx_out_start, txid)
    segwit = False
    for j in range(i0, i1):
        if addr_type[out_addr[in_prev[j]]] != P2PKH:
            segwit = True
            break
    start = p
    p = put_u32(buf, p, tx_version[t])
    if segwit:
        buf[p] = 0
        buf[p + 1] = 1
        p += 2
    body = p
    p = put_varint(buf, p, i1 - i0)
    for j in order:
        o = in_prev[j]
        pt = out_tx[o]
        p = put_copy(buf, p, txid[pt], 0, 32)
        p = put_u32(buf, p, o - tx_out_start[pt])
        a = out_addr[o]
        ty = addr_type[a]
        if ty == P2PKH:
            sl = _sig_len(j, 0, low_r)
            buf[p] = sl + 35
            buf[p + 1] = sl
            pseudo_bytes(seed, 2 * j, 3, scr, 0, 64)
            p = put_der_signature(buf, p + 2, scr, 0, sl)
            buf[p] = 33
            pubkey_into(seed, a, 0, buf, p + 1)
            p += 34
        elif ty == P2SH:
            buf[p] = 23
            buf[p + 1] = 22
            buf[p + 2] = 0x00
            buf[p + 3] = 0x14
            pubkey_into(seed, a, 0, scr, 64)
            hash160_into(state, block, w, scr, 64, 97, tmp, buf, p + 4)
            p += 24
        else:
            buf[p] = 0
            p += 1
        p = put_u32(buf, p, in_seq[j])
    o0 = tx_out_start[t]
    o1 = o0 + tx_n_out[t]
    p = put_varint(buf, p, o1 - o0)
    for k in range(o0, o1):
        p = put_u64(buf, p, out_value[k])
        a = out_addr[k]
        if a >= 0:
            p = put_output_script(buf, p, addr_type[a], payload, a)
        else:
            n = -a
            buf[p] = n + 2
            buf[p + 1] = 0x6A
            buf[p + 2] = n
            pseudo_bytes(seed, k, 0, buf, p + 3, n)
            p += 3 + n
    body_end = p
    if segwit:
        for j in order:
            a = out_addr[in_prev[j]]
            ty = addr_type[a]
            if ty == P2PKH:
                buf[p] = 0
                p += 1
            elif ty == P2TR:
                buf[p] = 1
                buf[p + 1] = 64
                pseudo_bytes(seed, 2 * j, 3, buf, p + 2, 64)
                p += 66
            elif ty == P2WSH:
                buf[p] = 4
                buf[p + 1] = 0
                p += 2
                for which in range(2):
                    sl = _sig_len(j, which, low_r)
                    buf[p] = sl
                    pseudo_bytes(seed, 2 * j + which, 3, scr, 0, 64)
                    p = put_der_signature(buf, p + 1, scr, 0, sl)
                buf[p] = MULTISIG_SCRIPT_LEN
                multisig_script_into(seed, a, buf, p + 1)
                p += 1 + MULTISIG_SCRIPT_LEN
            else:  # P2SH-P2WPKH, P2WPKH
                sl = _sig_len(j, 0, low_r)
                buf[p] = 2
                buf[p + 1] = sl
                pseudo_bytes(seed, 2 * j, 3, scr, 0, 64)
                p = put_der_signature(buf, p + 2, scr, 0, sl)
                buf[p] = 33
                pubkey_into(seed, a, 0, buf, p + 1)
                p += 34
    lock = p
    p = put_u32(buf, p, tx_locktime[t])
    if segwit:
        txid_of_segwit(buf, start, body, body_end, lock, state, block, w, txid[t], 0)
        sha256d_into(state, block, w, buf, start, p, wtxid_row, 0)
    else:
        sha256d_into(state, block, w, buf, start, p, txid[t], 0)
        for i in range(32):
            wtxid_row[i] = txid[t, i]
    # marker/flag + witness: the bytes that weigh 1 instead of 4
    return p, segwit, (2 + lock - body_end) if segwit else 0


@njit(cache=True)
def _write_coinbase(
    t, height, segwit, commitment, buf, p, seed, L, payload, tag, txid, state, block, w
):  # type: ignore[no-untyped-def]
    (tx_version, tx_locktime, tx_n_in, tx_n_out, tx_in_start, tx_out_start,
     in_prev, in_seq, out_value, out_addr, out_tx, addr_type, tx_flags) = L  # fmt: skip
    start = p
    p = put_u32(buf, p, tx_version[t])
    if segwit:
        buf[p] = 0
        buf[p + 1] = 1
        p += 2
    body = p
    buf[p] = 1
    p += 1
    for i in range(32):
        buf[p + i] = 0
    p = put_u32(buf, p + 32, 0xFFFFFFFF)
    len_pos = p
    p = put_bip34_height(buf, p + 1, height)
    buf[p] = 8
    pseudo_bytes(seed, height, 2, buf, p + 1, 8)  # extranonce
    p += 9
    buf[p] = tag.shape[0]
    p = put_copy(buf, p + 1, tag, 0, tag.shape[0])
    buf[len_pos] = p - len_pos - 1
    p = put_u32(buf, p, 0xFFFFFFFF)
    o0 = tx_out_start[t]
    o1 = o0 + tx_n_out[t]
    p = put_varint(buf, p, o1 - o0 + (1 if segwit else 0))
    for k in range(o0, o1):
        p = put_u64(buf, p, out_value[k])
        p = put_output_script(buf, p, addr_type[out_addr[k]], payload, out_addr[k])
    if segwit:
        p = put_u64(buf, p, 0)
        buf[p] = 38
        buf[p + 1] = 0x6A
        buf[p + 2] = 0x24
        buf[p + 3] = 0xAA
        buf[p + 4] = 0x21
        buf[p + 5] = 0xA9
        buf[p + 6] = 0xED
        p = put_copy(buf, p + 7, commitment, 0, 32)
    body_end = p
    if segwit:  # witness reserved value: one 32-byte zero item
        buf[p] = 1
        buf[p + 1] = 32
        for i in range(32):
            buf[p + 2 + i] = 0
        p += 34
    lock = p
    p = put_u32(buf, p, tx_locktime[t])
    if segwit:
        txid_of_segwit(buf, start, body, body_end, lock, state, block, w, txid[t], 0)
    else:
        sha256d_into(state, block, w, buf, start, p, txid[t], 0)
    return p, (2 + lock - body_end) if segwit else 0


@njit(cache=True)
def serialize_blocks(
    seed,
    b0,
    b1,
    prev_hash,
    blocks,
    L,
    payload,
    tags,
    txid,
    block_hash,
    block_len,
    block_weight,
    buf,
):  # type: ignore[no-untyped-def]
    """Write blocks ``b0..b1-1`` (framed) into ``buf``; returns the bytes used.

    ``blocks`` = (tx_start, n_tx, time, pool); ``tags[pool]`` is the coinbase tag of a pool.
    Fills ``txid`` rows of the written txs, ``block_hash[b]``, ``block_len[b-b0]`` and
    ``block_weight[b-b0]`` (BIP141 weight: 4 x non-witness bytes + witness bytes).
    """
    tx_start, n_tx, times, pools = blocks
    state, block, w = np.zeros(10, np.int64), np.zeros(64, np.uint8), np.zeros(80, np.int64)
    tmp = np.zeros(32, np.uint8)
    scr = np.zeros(128, np.uint8)
    root = np.zeros(32, np.uint8)
    commitment = np.zeros(32, np.uint8)
    max_n = 1
    for b in range(b0, b1):
        max_n = max(max_n, n_tx[b])
    wtxid = np.zeros((max_n, 32), np.uint8)
    work = np.zeros((max_n + 1, 32), np.uint8)
    prev = prev_hash.copy()
    pos = 0
    for b in range(b0, b1):
        start = pos
        t0 = tx_start[b]
        n = n_tx[b]
        p = put_varint(buf, start + 88, n)
        cb_pos = p
        tx_area = cb_pos + _CB_RESERVE
        p = tx_area
        any_segwit = False
        witness_bytes = 0
        for t in range(t0 + 1, t0 + n):
            p, seg, wit = _write_tx(
                t, buf, p, seed, L, payload, txid, wtxid[t - t0], scr, state, block, w, tmp
            )
            any_segwit = any_segwit or seg
            witness_bytes += wit
        tx_end = p
        if any_segwit:
            for i in range(32):
                wtxid[0, i] = 0
            merkle_root_into(wtxid, n, work, state, block, w, root, 0)
            witness_commitment_into(root, state, block, w, commitment, 0)
        pool = pools[b]
        q, cb_wit = _write_coinbase(
            t0,
            b,
            any_segwit,
            commitment,
            buf,
            cb_pos,
            seed,
            L,
            payload,
            tags[pool],
            txid,
            state,
            block,
            w,
        )
        for i in range(tx_end - tx_area):
            buf[q + i] = buf[tx_area + i]
        end = q + tx_end - tx_area
        merkle_root_into(txid[t0 : t0 + n], n, work, state, block, w, root, 0)
        put_header_and_mine(
            buf,
            start + 8,
            BLOCK_VERSION,
            prev,
            root,
            times[b],
            REGTEST_BITS,
            state,
            block,
            w,
            block_hash[b],
        )
        for i in range(32):
            prev[i] = block_hash[b, i]
        buf[start] = 0xF9
        buf[start + 1] = 0xBE
        buf[start + 2] = 0xB4
        buf[start + 3] = 0xD9
        put_u32(buf, start + 4, end - start - 8)
        block_len[b - b0] = end - start
        block_weight[b - b0] = 4 * (end - start - 8) - 3 * (witness_bytes + cb_wit)
        pos = end
    return pos


def _block_bounds(fl: FrozenLedger) -> np.ndarray:
    """An upper bound of each block's framed size in bytes."""
    per_tx = 16 + fl.tx_n_in.astype(np.int64) * 260 + fl.tx_n_out.astype(np.int64) * 90
    csum = np.concatenate([[0], np.cumsum(per_tx)])
    ends = fl.block_tx_start + fl.block_n_tx
    return csum[ends] - csum[fl.block_tx_start] + 8 + 80 + 9 + _CB_RESERVE + 200


def write_block_files(
    fl: FrozenLedger,
    payload: np.ndarray,
    tags: list[bytes],
    seed: int,
    blocks_dir: Path,
    on_blocks: Callable[[int], None] | None = None,
    max_weight: int | None = None,
) -> tuple[np.ndarray, np.ndarray, list[Path]]:
    """Serialise every block of ``fl`` into ``blocks_dir/blk%05d.dat``.

    Returns (txid (n_tx,32), block_hash (n_blocks,32), files written). Files are written to a
    temporary name and renamed when complete. ``on_blocks(k)`` reports progress. A block the
    planner made heavier than ``max_weight`` (default: the consensus 4,000,000) stops generation with a
    ValueError naming it, instead of writing a chain that ingest would reject.
    """
    limit = MAX_BLOCK_WEIGHT if max_weight is None else max_weight
    blocks_dir.mkdir(parents=True, exist_ok=True)
    n_blocks = fl.block_tx_start.shape[0]
    txid = np.zeros((fl.tx_kind.shape[0], 32), np.uint8)
    block_hash = np.zeros((n_blocks, 32), np.uint8)
    L = (fl.tx_version, fl.tx_locktime, fl.tx_n_in, fl.tx_n_out, fl.tx_in_start,
         fl.tx_out_start, fl.in_prev, fl.in_seq, fl.out_value, fl.out_addr, fl.out_tx,
         fl.addr_type, fl.tx_flags)  # fmt: skip
    blocks = (fl.block_tx_start, fl.block_n_tx, fl.block_time, fl.block_pool)
    tag_arrays = tuple(np.frombuffer(t, np.uint8).copy() for t in tags)
    bounds = _block_bounds(fl)
    buf = np.zeros(max(_CHUNK_BYTES, int(bounds.max()) + 1), np.uint8)
    files: list[Path] = []
    fh = None
    file_size = 0
    prev = np.zeros(32, np.uint8)
    b = 0
    ok = False
    try:
        while b < n_blocks:
            e = b
            total = 0
            while e < n_blocks and (e == b or total + bounds[e] <= buf.shape[0]):
                total += bounds[e]
                e += 1
            block_len = np.zeros(e - b, np.int64)
            block_weight = np.zeros(e - b, np.int64)
            serialize_blocks(np.uint64(seed), b, e, prev, blocks, L, payload, tag_arrays, txid,
                             block_hash, block_len, block_weight, buf)  # fmt: skip
            heavy = np.flatnonzero(block_weight > limit)
            if heavy.size:
                k = int(heavy[0])
                raise ValueError(
                    f"planner bug: block {b + k} weighs {int(block_weight[k]):,} weight units, "
                    f"over the limit of {limit:,}"
                )
            prev = block_hash[e - 1].copy()
            off = 0
            for size in block_len.tolist():
                if fh is None or file_size + size > MAX_BLOCKFILE_SIZE:
                    if fh is not None:
                        fh.close()
                        os.replace(files[-1].with_suffix(".tmp"), files[-1])
                    files.append(blocks_dir / f"blk{len(files):05d}.dat")
                    fh = open(files[-1].with_suffix(".tmp"), "wb")  # noqa: SIM115
                    file_size = 0
                fh.write(buf[off : off + size].data)
                off += size
                file_size += size
            if on_blocks is not None:
                on_blocks(e - b)
            b = e
        ok = True
    finally:
        if fh is not None:
            fh.close()
            if ok:
                os.replace(files[-1].with_suffix(".tmp"), files[-1])
    return txid, block_hash, files
