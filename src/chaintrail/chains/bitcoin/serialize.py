"""Consensus serialisation of transactions and blocks as numba kernels, plus Python helpers.

Writers take ``(buf, pos, ...)`` and return the position after what they wrote, so a kernel
can serialise a whole block into one preallocated ``uint8`` buffer without allocating.
Covered: little-endian integers and CompactSize, output scripts of every standard kind,
DER-shaped signatures, BIP34 coinbase heights (CScriptNum), merkle roots (Bitcoin's
duplicate-last rule), BIP141 witness commitments and block headers with a proof-of-work
nonce search. Hashes are in internal byte order throughout (see :mod:`chaintrail.chains.model`).
"""

from __future__ import annotations

import hashlib

import numpy as np
from numba import njit

from chaintrail.chains.bitcoin.hashing import (
    sha256_final,
    sha256_init,
    sha256_of_32,
    sha256_update,
    sha256d_into,
)
from chaintrail.chains.model import ScriptType

T_P2PKH = int(ScriptType.P2PKH)
T_P2SH = int(ScriptType.P2SH)
T_P2WPKH = int(ScriptType.P2WPKH)
T_P2WSH = int(ScriptType.P2WSH)
T_P2TR = int(ScriptType.P2TR)

REGTEST_BITS = 0x207FFFFF  # the easiest target Bitcoin Core accepts (regtest's powLimit)
WITNESS_COMMITMENT_HEADER = bytes.fromhex("aa21a9ed")


@njit(cache=True)
def put_u32(buf, pos, v):  # type: ignore[no-untyped-def]
    """Write ``v`` as 4 little-endian bytes; returns the next position."""
    for i in range(4):
        buf[pos + i] = (v >> (8 * i)) & 0xFF
    return pos + 4


@njit(cache=True)
def put_u64(buf, pos, v):  # type: ignore[no-untyped-def]
    """Write ``v`` (non-negative) as 8 little-endian bytes; returns the next position."""
    for i in range(8):
        buf[pos + i] = (v >> (8 * i)) & 0xFF
    return pos + 8


@njit(cache=True)
def put_varint(buf, pos, n):  # type: ignore[no-untyped-def]
    """Write Bitcoin's CompactSize encoding of ``n``; returns the next position."""
    if n < 0xFD:
        buf[pos] = n
        return pos + 1
    if n <= 0xFFFF:
        buf[pos] = 0xFD
        buf[pos + 1] = n & 0xFF
        buf[pos + 2] = (n >> 8) & 0xFF
        return pos + 3
    buf[pos] = 0xFE
    return put_u32(buf, pos + 1, n)


@njit(cache=True)
def put_copy(buf, pos, src, src_off, n):  # type: ignore[no-untyped-def]
    """Copy ``src[src_off:src_off+n]`` to ``buf[pos:]``; returns the next position."""
    for i in range(n):
        buf[pos + i] = src[src_off + i]
    return pos + n


@njit(cache=True)
def output_script_len(script_type):  # type: ignore[no-untyped-def]
    """Length of the scriptPubKey of an address-carrying output of ``script_type``."""
    if script_type == T_P2PKH:
        return 25
    if script_type == T_P2SH:
        return 23
    if script_type == T_P2WPKH:
        return 22
    return 34  # P2WSH, P2TR


@njit(cache=True)
def put_output_script(buf, pos, script_type, payload, row):  # type: ignore[no-untyped-def]
    """Write CompactSize length + scriptPubKey paying ``payload[row]`` (20 or 32 bytes)."""
    n = output_script_len(script_type)
    buf[pos] = n
    pos += 1
    if script_type == T_P2PKH:
        buf[pos] = 0x76
        buf[pos + 1] = 0xA9
        buf[pos + 2] = 0x14
        for i in range(20):
            buf[pos + 3 + i] = payload[row, i]
        buf[pos + 23] = 0x88
        buf[pos + 24] = 0xAC
    elif script_type == T_P2SH:
        buf[pos] = 0xA9
        buf[pos + 1] = 0x14
        for i in range(20):
            buf[pos + 2 + i] = payload[row, i]
        buf[pos + 22] = 0x87
    elif script_type == T_P2WPKH:
        buf[pos] = 0x00
        buf[pos + 1] = 0x14
        for i in range(20):
            buf[pos + 2 + i] = payload[row, i]
    else:
        buf[pos] = 0x00 if script_type == T_P2WSH else 0x51
        buf[pos + 1] = 0x20
        for i in range(32):
            buf[pos + 2 + i] = payload[row, i]
    return pos + n


@njit(cache=True)
def put_der_signature(buf, pos, rs, rs_off, total_len):  # type: ignore[no-untyped-def]
    """Write a DER-shaped ECDSA signature + SIGHASH_ALL of ``total_len`` (71 or 72) bytes.

    ``rs[rs_off:rs_off+64]`` supplies r and s; their leading bytes are adjusted so the
    encoding is canonical (positive, minimal, low-S) for the requested length.
    """
    long_r = total_len == 72
    buf[pos] = 0x30
    buf[pos + 1] = total_len - 3
    buf[pos + 2] = 0x02
    p = pos + 3
    if long_r:
        buf[p] = 0x21
        buf[p + 1] = 0x00
        buf[p + 2] = rs[rs_off] | 0x80
        p += 3
    else:
        buf[p] = 0x20
        buf[p + 1] = (rs[rs_off] & 0x7F) | 0x01
        p += 2
    for i in range(1, 32):
        buf[p + i - 1] = rs[rs_off + i]
    p += 31
    buf[p] = 0x02
    buf[p + 1] = 0x20
    buf[p + 2] = (rs[rs_off + 32] & 0x7F) | 0x01
    for i in range(1, 32):
        buf[p + 2 + i] = rs[rs_off + 32 + i]
    p += 34
    buf[p] = 0x01  # SIGHASH_ALL
    return p + 1


@njit(cache=True)
def scriptnum_len(n):  # type: ignore[no-untyped-def]
    """Bytes of the minimal CScriptNum encoding of non-negative ``n`` (0 for n == 0)."""
    k = 0
    v = n
    while v > 0:
        k += 1
        last = v & 0xFF
        v >>= 8
        if v == 0 and last & 0x80:
            k += 1
    return k


@njit(cache=True)
def put_bip34_height(buf, pos, height):  # type: ignore[no-untyped-def]
    """Write the BIP34 height push (``CScript() << height``) that starts a coinbase scriptSig."""
    if height == 0:
        buf[pos] = 0x00  # OP_0
        return pos + 1
    if height <= 16:
        buf[pos] = 0x50 + height  # OP_1..OP_16
        return pos + 1
    k = scriptnum_len(height)
    buf[pos] = k
    for i in range(k):
        buf[pos + 1 + i] = (height >> (8 * i)) & 0xFF if i < 8 else 0
    return pos + 1 + k


@njit(cache=True)
def merkle_root_into(hashes, n, work, state, block, w, out, out_off):  # type: ignore[no-untyped-def]
    """Merkle root of the first ``n`` rows of ``hashes`` ((m,32) uint8) into ``out``.

    ``work`` is a scratch (>= n+1, 32) array; ``hashes`` is not modified.
    """
    for i in range(n):
        for j in range(32):
            work[i, j] = hashes[i, j]
    pair = np.empty(64, np.uint8)
    while n > 1:
        if n & 1:
            for j in range(32):
                work[n, j] = work[n - 1, j]
            n += 1
        for i in range(n // 2):
            for j in range(32):
                pair[j] = work[2 * i, j]
                pair[32 + j] = work[2 * i + 1, j]
            sha256d_into(state, block, w, pair, 0, 64, work[i], 0)
        n //= 2
    for j in range(32):
        out[out_off + j] = work[0, j]


@njit(cache=True)
def witness_commitment_into(witness_root, state, block, w, out, out_off):  # type: ignore[no-untyped-def]
    """BIP141 commitment sha256d(witness_root || 32 zero bytes) into ``out[out_off:]``.

    The coinbase's witness reserved value is 32 zero bytes.
    """
    pair = np.zeros(64, np.uint8)
    for j in range(32):
        pair[j] = witness_root[j]
    sha256d_into(state, block, w, pair, 0, 64, out, out_off)


@njit(cache=True)
def put_header_and_mine(
    buf, pos, version, prev_hash, merkle, time, bits, state, block, w, hash_out
):  # type: ignore[no-untyped-def]
    """Write an 80-byte header and search the nonce until its hash meets ``bits``' target.

    The header hash (internal order) is left in ``hash_out``; returns the next position.
    Only targets whose mantissa fills the top bytes (like regtest's 0x207fffff) are supported:
    the search checks the hash's most significant byte against the target's.
    """
    p = put_u32(buf, pos, version)
    p = put_copy(buf, p, prev_hash, 0, 32)
    p = put_copy(buf, p, merkle, 0, 32)
    p = put_u32(buf, p, time)
    p = put_u32(buf, p, bits)
    exponent = (bits >> 24) & 0xFF
    top = (bits >> 16) & 0xFF  # most significant mantissa byte, at byte index exponent-1
    nonce = 0
    while True:
        put_u32(buf, p, nonce)
        sha256d_into(state, block, w, buf, pos, pos + 80, hash_out, 0)
        ok = True
        for i in range(31, exponent - 1, -1):
            if hash_out[i] != 0:
                ok = False
                break
        if ok and hash_out[exponent - 1] < top:
            break
        nonce += 1
    return p + 4


@njit(cache=True)
def txid_of_segwit(buf, start, body_start, body_end, lock_pos, state, block, w, out, out_off):  # type: ignore[no-untyped-def]
    """Txid (sha256d without marker, flag and witness) of a segwit tx serialised in ``buf``.

    ``buf[start:start+4]`` is the version, ``buf[body_start:body_end]`` the inputs and
    outputs, ``buf[lock_pos:lock_pos+4]`` the locktime.
    """
    sha256_init(state)
    sha256_update(state, block, w, buf, start, start + 4)
    sha256_update(state, block, w, buf, body_start, body_end)
    sha256_update(state, block, w, buf, lock_pos, lock_pos + 4)
    sha256_final(state, block, w, out, out_off)
    sha256_of_32(state, block, w, out, out_off, out, out_off)


# ---------------------------------------------------------------- Python helpers


def merkle_root(txids: list[bytes]) -> bytes:
    """Merkle root (internal order) of internal-order txids, with hashlib (for checks)."""
    if not txids:
        raise ValueError("a block has at least one transaction")
    level = list(txids)
    while len(level) > 1:
        if len(level) % 2:
            level.append(level[-1])
        level = [
            hashlib.sha256(hashlib.sha256(level[i] + level[i + 1]).digest()).digest()
            for i in range(0, len(level), 2)
        ]
    return level[0]


def witness_commitment(wtxids: list[bytes]) -> bytes:
    """BIP141 commitment for a block whose wtxids (coinbase's taken as zero) are given."""
    root = merkle_root([b"\x00" * 32, *wtxids[1:]])
    return hashlib.sha256(hashlib.sha256(root + b"\x00" * 32).digest()).digest()
