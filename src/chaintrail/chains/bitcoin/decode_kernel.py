"""The numba kernel that parses serialized Bitcoin blocks (consensus serialisation, BIP144).

One kernel, two passes over the same bytes (see :mod:`chaintrail.chains.bitcoin.decode`):

* ``fill=False`` checks the structure and counts transactions, inputs, outputs and script bytes
  per block (``counts[b] = n_tx, n_in, n_out, script_bytes``), allocating nothing;
* ``fill=True`` writes every column, hashes (txid, wtxid, block hash), classifies output
  scripts and recomputes the merkle root.

Errors are returned, not raised: ``(code, block_index, offset_in_block)``; :data:`ERRORS` in
``decode.py`` turns a code into a message. ``err_hash`` receives the computed merkle root.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from chaintrail.chains.bitcoin.hashing import sha256d_any, sha256d_parts
from chaintrail.chains.bitcoin.params import (
    BIP34_MIN_VERSION,
    MAX_BLOCK_WEIGHT,
    MAX_COMPACT_SIZE,
    MAX_MONEY,
)
from chaintrail.chains.bitcoin.script import classify_into, keeps_script

OK = 0
E_HEADER = 1
E_CS_TRUNC = 2
E_CS_NONMINIMAL = 3
E_CS_CAP = 4
E_NO_TX = 5
E_TX_VERSION = 6
E_FLAG = 7
E_NO_INPUTS = 8
E_OUTPOINT = 9
E_SCRIPTSIG = 10
E_SEQUENCE = 11
E_NO_OUTPUTS = 12
E_VALUE = 13
E_SCRIPTPUBKEY = 14
E_WITNESS_ITEM = 15
E_SUPERFLUOUS_WITNESS = 16
E_LOCKTIME = 17
E_LEFTOVER = 18
E_MONEY = 19
E_MERKLE = 20
E_COINBASE_FIRST = 21
E_COINBASE_LATER = 22
E_WEIGHT = 23
E_MERKLE_MUTATED = 24


@njit(cache=True, inline="always")
def _le32(buf, p):  # type: ignore[no-untyped-def]
    return (
        np.int64(buf[p])
        | (np.int64(buf[p + 1]) << 8)
        | (np.int64(buf[p + 2]) << 16)
        | (np.int64(buf[p + 3]) << 24)
    )


@njit(cache=True)
def read_compact(buf, p, end):  # type: ignore[no-untyped-def]
    """Read a minimal compact-size at ``buf[p]``: returns (value, next_pos, error_code)."""
    if p >= end:
        return 0, p, E_CS_TRUNC
    b0 = np.int64(buf[p])
    if b0 < 0xFD:
        return b0, p + 1, OK
    if b0 == 0xFD:
        if end - p < 3:
            return 0, p, E_CS_TRUNC
        v = np.int64(buf[p + 1]) | (np.int64(buf[p + 2]) << 8)
        if v < 0xFD:
            return 0, p, E_CS_NONMINIMAL
        n = 3
    elif b0 == 0xFE:
        if end - p < 5:
            return 0, p, E_CS_TRUNC
        v = _le32(buf, p + 1)
        if v < 0x10000:
            return 0, p, E_CS_NONMINIMAL
        n = 5
    else:
        if end - p < 9:
            return 0, p, E_CS_TRUNC
        # 9-byte form: minimal only for values >= 2**32, all of which exceed the cap
        if _le32(buf, p + 5) == 0:
            return 0, p, E_CS_NONMINIMAL
        return 0, p, E_CS_CAP
    if v > MAX_COMPACT_SIZE:
        return 0, p, E_CS_CAP
    return v, p + n, OK


@njit(cache=True)
def _compact_len(v: int) -> int:
    if v < 0xFD:
        return 1
    if v <= 0xFFFF:
        return 3
    return 5


@njit(cache=True)
def _bip34_height(buf, p, n):  # type: ignore[no-untyped-def]
    """Height pushed first in a coinbase scriptSig ``buf[p:p+n]`` as BIP34 asks, else -1."""
    if n < 1:
        return -1
    op = np.int64(buf[p])
    if op == 0x00:
        return 0
    if 0x51 <= op <= 0x60:
        return op - 0x50
    if op < 1 or op > 4 or n < 1 + op:
        return -1
    v = np.int64(0)
    for i in range(op):
        v |= np.int64(buf[p + 1 + i]) << (8 * i)
    last = np.int64(buf[p + op])
    if last & 0x80:
        return -1  # negative script number
    if last == 0 and (op == 1 or (np.int64(buf[p + op - 1]) & 0x80) == 0):
        return -1  # not minimally encoded
    if v <= 16:
        return -1  # a minimal push of 0..16 is OP_0/OP_1..OP_16
    return v


@njit(cache=True)
def _merkle_root(fns, txids, t0, n, work, pair, state, block, w, out):  # type: ignore[no-untyped-def]
    """Merkle root of ``txids[t0:t0+n]`` into ``out``; returns True if the tree is mutated
    (two equal adjacent hashes, CVE-2012-2459)."""
    for i in range(n):
        for j in range(32):
            work[i, j] = txids[t0 + i, j]
    mutated = False
    size = n
    while size > 1:
        half = (size + 1) // 2
        for i in range(half):
            a = 2 * i
            b = a + 1 if a + 1 < size else a
            same = True
            for j in range(32):
                pair[j] = work[a, j]
                pair[32 + j] = work[b, j]
                if pair[j] != pair[32 + j]:
                    same = False
            if same and b != a:
                mutated = True
            sha256d_any(fns, state, block, w, pair, 0, 64, work[i], 0)
        size = half
    for j in range(32):
        out[j] = work[0, j]
    return mutated


@njit(cache=True, nogil=True)
def decode_kernel(  # type: ignore[no-untyped-def]  # noqa: C901
    fns, buf, starts, lens, fill, counts, err_hash,
    block_hash, block_prev, block_merkle, block_version, block_time, block_bits, block_nonce,
    block_bip34, block_size, block_weight, block_tx_start, block_n_tx,
    txid, wtxid, tx_block, tx_version, tx_locktime, tx_size, tx_vsize, tx_weight,
    tx_coinbase, tx_segwit, tx_in_start, tx_n_in, tx_out_start, tx_n_out,
    in_tx, in_prev_txid, in_prev_vout, in_sequence, in_witness,
    out_tx, out_value, out_type, out_key, out_script_off, out_script_len, script_buf,
    merkle_work,
):  # fmt: skip
    """Parse blocks ``buf[starts[b]:starts[b]+lens[b]]``; returns (error, block, offset)."""
    state = np.zeros(10, np.int64)
    hblock = np.zeros(64, np.uint8)
    w = np.zeros(80, np.int64)
    tmp = np.zeros(32, np.uint8)
    pair = np.zeros(64, np.uint8)
    root = np.zeros(32, np.uint8)
    ti = 0
    ii = 0
    oi = 0
    si = 0
    for b in range(starts.shape[0]):
        s = starts[b]
        e = s + lens[b]
        if e - s < 80:
            return E_HEADER, b, 0
        n_tx, p, err = read_compact(buf, s + 80, e)
        if err != OK:
            return err, b, p - s
        if n_tx == 0:
            return E_NO_TX, b, 80
        base_size = 80 + _compact_len(n_tx)
        t_first = ti
        b_in = 0
        b_out = 0
        b_script = 0
        version = _le32(buf, s)
        if version >= 0x80000000:
            version -= 0x100000000
        if fill:
            sha256d_any(fns, state, hblock, w, buf, s, s + 80, block_hash[b], 0)
            for j in range(32):
                block_prev[b, j] = buf[s + 4 + j]
                block_merkle[b, j] = buf[s + 36 + j]
            block_version[b] = version
            block_time[b] = _le32(buf, s + 68)
            block_bits[b] = _le32(buf, s + 72)
            block_nonce[b] = _le32(buf, s + 76)
            block_tx_start[b] = ti
            block_n_tx[b] = n_tx
            block_bip34[b] = -1
        for k in range(n_tx):
            t0 = p
            if e - p < 4:
                return E_TX_VERSION, b, p - s
            tver = _le32(buf, p)
            p += 4
            n_in, p, err = read_compact(buf, p, e)
            if err != OK:
                return err, b, p - s
            segwit = False
            if n_in == 0:
                if p >= e or buf[p] != 1:
                    return E_FLAG, b, p - s
                p += 1
                segwit = True
                n_in, p, err = read_compact(buf, p, e)
                if err != OK:
                    return err, b, p - s
                if n_in == 0:
                    return E_NO_INPUTS, b, p - s
            body0 = p - _compact_len(n_in)
            coinbase = False
            for q in range(n_in):
                if e - p < 36:
                    return E_OUTPOINT, b, p - s
                op = p
                p += 36
                slen, p, err = read_compact(buf, p, e)
                if err != OK:
                    return err, b, p - s
                if e - p < slen:
                    return E_SCRIPTSIG, b, p - s
                sig0 = p
                p += slen
                if e - p < 4:
                    return E_SEQUENCE, b, p - s
                if n_in == 1:
                    coinbase = _le32(buf, op + 32) == 0xFFFFFFFF
                    for j in range(32):
                        if buf[op + j] != 0:
                            coinbase = False
                            break
                    if coinbase and k == 0 and fill and version >= BIP34_MIN_VERSION:
                        block_bip34[b] = _bip34_height(buf, sig0, slen)
                if fill:
                    r = ii + q
                    in_tx[r] = ti
                    for j in range(32):
                        in_prev_txid[r, j] = buf[op + j]
                    in_prev_vout[r] = _le32(buf, op + 32)
                    in_sequence[r] = _le32(buf, p)
                    in_witness[r] = False
                p += 4
            if coinbase != (k == 0):
                return (E_COINBASE_FIRST if k == 0 else E_COINBASE_LATER), b, t0 - s
            n_out, p, err = read_compact(buf, p, e)
            if err != OK:
                return err, b, p - s
            if n_out == 0:
                return E_NO_OUTPUTS, b, p - s
            for q in range(n_out):
                if e - p < 8:
                    return E_VALUE, b, p - s
                hi = _le32(buf, p + 4)
                if hi >= 0x80000000:
                    return E_MONEY, b, p - s
                value = _le32(buf, p) | (hi << 32)
                if value > MAX_MONEY:
                    return E_MONEY, b, p - s
                p += 8
                slen, p, err = read_compact(buf, p, e)
                if err != OK:
                    return err, b, p - s
                if e - p < slen:
                    return E_SCRIPTPUBKEY, b, p - s
                b_script += slen
                if fill:
                    r = oi + q
                    out_tx[r] = ti
                    out_value[r] = value
                    st = classify_into(buf, p, slen, out_key, r, state, hblock, w, tmp)
                    out_type[r] = st
                    out_script_off[r] = si
                    if keeps_script(st):
                        out_script_len[r] = slen
                        script_buf[si : si + slen] = buf[p : p + slen]
                        si += slen
                    else:
                        out_script_len[r] = 0
                p += slen
            body1 = p
            if segwit:
                any_witness = False
                for q in range(n_in):
                    n_items, p, err = read_compact(buf, p, e)
                    if err != OK:
                        return err, b, p - s
                    for _ in range(n_items):
                        ilen, p, err = read_compact(buf, p, e)
                        if err != OK:
                            return err, b, p - s
                        if e - p < ilen:
                            return E_WITNESS_ITEM, b, p - s
                        p += ilen
                    if n_items > 0:
                        any_witness = True
                        if fill:
                            in_witness[ii + q] = True
                if not any_witness:
                    return E_SUPERFLUOUS_WITNESS, b, body1 - s
            lock0 = p
            if e - p < 4:
                return E_LOCKTIME, b, p - s
            p += 4
            total = p - t0
            base = total - 2 - (lock0 - body1) if segwit else total
            base_size += base
            if fill:
                tx_block[ti] = b
                tx_version[ti] = tver - 0x100000000 if tver >= 0x80000000 else tver
                tx_locktime[ti] = _le32(buf, lock0)
                tx_size[ti] = total
                tx_weight[ti] = base * 3 + total
                tx_vsize[ti] = (base * 3 + total + 3) // 4
                tx_coinbase[ti] = coinbase
                tx_segwit[ti] = segwit
                tx_in_start[ti] = ii
                tx_n_in[ti] = n_in
                tx_out_start[ti] = oi
                tx_n_out[ti] = n_out
                if segwit:
                    sha256d_parts(
                        fns, state, hblock, w, buf, t0, t0 + 4, body0, body1, lock0, lock0 + 4,
                        txid[ti], 0,
                    )  # fmt: skip
                    sha256d_any(fns, state, hblock, w, buf, t0, p, wtxid[ti], 0)
                else:
                    sha256d_any(fns, state, hblock, w, buf, t0, p, txid[ti], 0)
                    for j in range(32):
                        wtxid[ti, j] = txid[ti, j]
            ti += 1
            ii += n_in
            oi += n_out
            b_in += n_in
            b_out += n_out
        if p != e:
            return E_LEFTOVER, b, p - s
        weight = base_size * 3 + (e - s)
        if weight > MAX_BLOCK_WEIGHT:
            return E_WEIGHT, b, 0
        counts[b, 0] = n_tx
        counts[b, 1] = b_in
        counts[b, 2] = b_out
        counts[b, 3] = b_script
        if fill:
            block_size[b] = e - s
            block_weight[b] = weight
            mutated = _merkle_root(
                fns, txid, t_first, n_tx, merkle_work, pair, state, hblock, w, root
            )
            for j in range(32):
                if root[j] != buf[s + 36 + j]:
                    for jj in range(32):
                        err_hash[jj] = root[jj]
                    return E_MERKLE, b, 36
            if mutated:
                return E_MERKLE_MUTATED, b, 36
    return OK, -1, 0
