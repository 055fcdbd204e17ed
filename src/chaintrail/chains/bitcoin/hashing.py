"""SHA-256, double SHA-256, RIPEMD-160 and HASH160 as numba kernels, plus Python wrappers.

The kernels hash slices of a ``uint8`` buffer without copying, and SHA-256 can be fed several
non-contiguous slices (a segwit transaction's txid skips the marker, flag and witness).
State lives in caller-owned arrays so a decode kernel allocates nothing per transaction:

* ``state``: ``int64[10]`` — eight chaining words, bytes buffered, total length
* ``block``: ``uint8[64]`` — the partial block
* ``w``:     ``int64[80]`` — message schedule scratch (SHA-256 uses 64, RIPEMD-160 16)

Words are held in int64 and masked to 32 bits, which keeps numba integer typing simple.
Where the platform's OpenSSL ``libcrypto`` is loadable, :func:`sha256d_any` calls its
``SHA256_Init/Update/Final`` (hardware SHA extensions, ~5x the numba kernel) through function
pointers passed in as integers, so compiled kernels stay cacheable; ``sha256_fns()`` returns
zeros when it is absent or ``CHAINTRAIL_NO_OPENSSL=1``, and the numba kernel is used instead.
``ripemd160`` uses :mod:`hashlib` when the OpenSSL build provides it and a pure-Python
implementation otherwise.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import os

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

from chaintrail.chains.bitcoin.ripemd160 import (
    HASHLIB_RIPEMD160,
    ripemd160,
    ripemd160_into,
    ripemd160_numba,
    ripemd160_pure,
)

__all__ = ["HASHLIB_RIPEMD160", "ripemd160", "ripemd160_numba", "ripemd160_pure"]

M32 = 0xFFFFFFFF

_SHA_K = np.array(
    [
        0x428A2F98, 0x71374491, 0xB5C0FBCF, 0xE9B5DBA5, 0x3956C25B, 0x59F111F1, 0x923F82A4,
        0xAB1C5ED5, 0xD807AA98, 0x12835B01, 0x243185BE, 0x550C7DC3, 0x72BE5D74, 0x80DEB1FE,
        0x9BDC06A7, 0xC19BF174, 0xE49B69C1, 0xEFBE4786, 0x0FC19DC6, 0x240CA1CC, 0x2DE92C6F,
        0x4A7484AA, 0x5CB0A9DC, 0x76F988DA, 0x983E5152, 0xA831C66D, 0xB00327C8, 0xBF597FC7,
        0xC6E00BF3, 0xD5A79147, 0x06CA6351, 0x14292967, 0x27B70A85, 0x2E1B2138, 0x4D2C6DFC,
        0x53380D13, 0x650A7354, 0x766A0ABB, 0x81C2C92E, 0x92722C85, 0xA2BFE8A1, 0xA81A664B,
        0xC24B8B70, 0xC76C51A3, 0xD192E819, 0xD6990624, 0xF40E3585, 0x106AA070, 0x19A4C116,
        0x1E376C08, 0x2748774C, 0x34B0BCB5, 0x391C0CB3, 0x4ED8AA4A, 0x5B9CCA4F, 0x682E6FF3,
        0x748F82EE, 0x78A5636F, 0x84C87814, 0x8CC70208, 0x90BEFFFA, 0xA4506CEB, 0xBEF9A3F7,
        0xC67178F2,
    ],
    dtype=np.int64,
)  # fmt: skip
_SHA_IV = np.array(
    [
        0x6A09E667,
        0xBB67AE85,
        0x3C6EF372,
        0xA54FF53A,
        0x510E527F,
        0x9B05688C,
        0x1F83D9AB,
        0x5BE0CD19,
    ],
    dtype=np.int64,
)


def new_scratch() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fresh ``(state, block, w)`` scratch arrays for the kernels of this module."""
    return np.zeros(10, np.int64), np.zeros(64, np.uint8), np.zeros(80, np.int64)


# ---------------------------------------------------------------- SHA-256 kernels


@njit(cache=True, inline="always")
def _rotr(x: int, n: int) -> int:
    return ((x >> n) | (x << (32 - n))) & 0xFFFFFFFF


@njit(cache=True)
def _sha_compress(state, data, off, w):  # type: ignore[no-untyped-def]
    for i in range(16):
        j = off + 4 * i
        w[i] = (
            (np.int64(data[j]) << 24)
            | (np.int64(data[j + 1]) << 16)
            | (np.int64(data[j + 2]) << 8)
            | np.int64(data[j + 3])
        )
    for i in range(16, 64):
        x = w[i - 15]
        y = w[i - 2]
        s0 = _rotr(x, 7) ^ _rotr(x, 18) ^ (x >> 3)
        s1 = _rotr(y, 17) ^ _rotr(y, 19) ^ (y >> 10)
        w[i] = (w[i - 16] + s0 + w[i - 7] + s1) & 0xFFFFFFFF
    a = state[0]
    b = state[1]
    c = state[2]
    d = state[3]
    e = state[4]
    f = state[5]
    g = state[6]
    h = state[7]
    for i in range(64):
        s1 = _rotr(e, 6) ^ _rotr(e, 11) ^ _rotr(e, 25)
        ch = (e & f) ^ ((~e) & g)
        t1 = h + s1 + ch + _SHA_K[i] + w[i]
        s0 = _rotr(a, 2) ^ _rotr(a, 13) ^ _rotr(a, 22)
        maj = (a & b) ^ (a & c) ^ (b & c)
        h = g
        g = f
        f = e
        e = (d + t1) & 0xFFFFFFFF
        d = c
        c = b
        b = a
        a = (t1 + s0 + maj) & 0xFFFFFFFF
    state[0] = (state[0] + a) & 0xFFFFFFFF
    state[1] = (state[1] + b) & 0xFFFFFFFF
    state[2] = (state[2] + c) & 0xFFFFFFFF
    state[3] = (state[3] + d) & 0xFFFFFFFF
    state[4] = (state[4] + e) & 0xFFFFFFFF
    state[5] = (state[5] + f) & 0xFFFFFFFF
    state[6] = (state[6] + g) & 0xFFFFFFFF
    state[7] = (state[7] + h) & 0xFFFFFFFF


@njit(cache=True)
def sha256_init(state):  # type: ignore[no-untyped-def]
    """Reset ``state`` to the SHA-256 initial value with nothing hashed."""
    for i in range(8):
        state[i] = _SHA_IV[i]
    state[8] = 0
    state[9] = 0


@njit(cache=True)
def sha256_update(state, block, w, data, start, end):  # type: ignore[no-untyped-def]
    """Feed ``data[start:end]`` into the running SHA-256 in ``state``/``block``."""
    pos = start
    state[9] += end - start
    nb = state[8]
    if nb > 0:
        take = min(64 - nb, end - pos)
        for i in range(take):
            block[nb + i] = data[pos + i]
        nb += take
        pos += take
        if nb < 64:
            state[8] = nb
            return
        _sha_compress(state, block, 0, w)
        nb = 0
    while end - pos >= 64:
        _sha_compress(state, data, pos, w)
        pos += 64
    for i in range(end - pos):
        block[i] = data[pos + i]
    state[8] = end - pos


@njit(cache=True)
def sha256_final(state, block, w, out, out_off):  # type: ignore[no-untyped-def]
    """Pad, finish and write the 32-byte digest to ``out[out_off:out_off+32]``."""
    nb = state[8]
    bits = state[9] * 8
    block[nb] = 0x80
    nb += 1
    if nb > 56:
        for i in range(nb, 64):
            block[i] = 0
        _sha_compress(state, block, 0, w)
        nb = 0
    for i in range(nb, 56):
        block[i] = 0
    for i in range(8):
        block[63 - i] = (bits >> (8 * i)) & 0xFF
    _sha_compress(state, block, 0, w)
    for i in range(8):
        v = state[i]
        out[out_off + 4 * i] = (v >> 24) & 0xFF
        out[out_off + 4 * i + 1] = (v >> 16) & 0xFF
        out[out_off + 4 * i + 2] = (v >> 8) & 0xFF
        out[out_off + 4 * i + 3] = v & 0xFF


@njit(cache=True)
def sha256_of_32(state, block, w, src, src_off, out, out_off):  # type: ignore[no-untyped-def]
    """SHA-256 of the 32 bytes at ``src[src_off:]`` (one padded block), written to ``out``."""
    sha256_init(state)
    for i in range(32):
        block[i] = src[src_off + i]
    block[32] = 0x80
    for i in range(33, 62):
        block[i] = 0
    block[62] = 0x01  # 256 bits, big-endian
    block[63] = 0x00
    _sha_compress(state, block, 0, w)
    for i in range(8):
        v = state[i]
        out[out_off + 4 * i] = (v >> 24) & 0xFF
        out[out_off + 4 * i + 1] = (v >> 16) & 0xFF
        out[out_off + 4 * i + 2] = (v >> 8) & 0xFF
        out[out_off + 4 * i + 3] = v & 0xFF


@njit(cache=True)
def sha256d_into(state, block, w, data, start, end, out, out_off):  # type: ignore[no-untyped-def]
    """Double SHA-256 of ``data[start:end]`` into ``out[out_off:out_off+32]``."""
    sha256_init(state)
    sha256_update(state, block, w, data, start, end)
    sha256_final(state, block, w, out, out_off)
    sha256_of_32(state, block, w, out, out_off, out, out_off)


# ---------------------------------------------------------------- OpenSSL SHA256 by pointer


def _load_openssl_sha256() -> np.ndarray:
    """Addresses of OpenSSL's ``SHA256_Init``/``_Update``/``_Final`` (zeros if unavailable).

    The low-level calls, not the one-shot ``SHA256()``: in OpenSSL 3 the one-shot fetches the
    algorithm from its provider on every call (~250 ns), several times the cost of hashing a
    32-byte digest with the SHA extensions (~50 ns).
    """
    none = np.zeros(3, np.int64)
    if os.environ.get("CHAINTRAIL_NO_OPENSSL") == "1":
        return none
    name = ctypes.util.find_library("crypto")
    if name is None:
        return none
    try:
        lib = ctypes.CDLL(name)
        fns = [lib.SHA256_Init, lib.SHA256_Update, lib.SHA256_Final]
    except (OSError, AttributeError):
        return none
    return np.array([int(ctypes.cast(f, ctypes.c_void_p).value or 0) for f in fns], np.int64)


_OPENSSL_SHA256 = _load_openssl_sha256()
_OPENSSL_SHA256.flags.writeable = False


def sha256_fns() -> np.ndarray:
    """``int64[3]`` addresses of OpenSSL's SHA256_Init/Update/Final; zeros: use numba."""
    return _OPENSSL_SHA256


def _fn_call(nargs: int):  # type: ignore[no-untyped-def]
    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        vals = [
            context.cast(builder, v, t, types.int64)
            for v, t in zip(args, signature.args, strict=True)
        ]
        fnty = ir.FunctionType(ir.IntType(32), [ir.IntType(64)] * nargs)
        builder.call(builder.inttoptr(vals[0], fnty.as_pointer()), vals[1:])
        return context.get_dummy_value()

    return codegen


@intrinsic
def _call1(typingctx, fn, a):  # type: ignore[no-untyped-def]
    """Call the C function at address ``fn`` with one pointer/integer argument."""
    return types.void(fn, a), _fn_call(1)


@intrinsic
def _call2(typingctx, fn, a, b):  # type: ignore[no-untyped-def]
    """Call the C function at address ``fn`` with two pointer/integer arguments."""
    return types.void(fn, a, b), _fn_call(2)


@intrinsic
def _call3(typingctx, fn, a, b, c):  # type: ignore[no-untyped-def]
    """Call the C function at address ``fn`` with three pointer/integer arguments."""
    return types.void(fn, a, b, c), _fn_call(3)


@njit(cache=True, inline="always")
def _ossl_sha256d(fns, ctx, tmp, data, s0, e0, s1, e1, s2, e2, out, out_off):  # type: ignore[no-untyped-def]
    base = np.int64(data.ctypes.data)
    _call1(fns[0], ctx)
    _call3(fns[1], ctx, base + s0, np.int64(e0 - s0))
    if e1 > s1:
        _call3(fns[1], ctx, base + s1, np.int64(e1 - s1))
    if e2 > s2:
        _call3(fns[1], ctx, base + s2, np.int64(e2 - s2))
    _call2(fns[2], tmp, ctx)
    _call1(fns[0], ctx)
    _call3(fns[1], ctx, tmp, np.int64(32))
    _call2(fns[2], np.int64(out.ctypes.data) + out_off, ctx)


@njit(cache=True)
def sha256d_any(fns, state, block, w, data, start, end, out, out_off):  # type: ignore[no-untyped-def]
    """Double SHA-256 of ``data[start:end]`` into ``out[out_off:out_off+32]`` (1-D ``out``),
    through OpenSSL when ``fns[0]`` is non-zero (``w`` then holds its SHA256_CTX), else numba."""
    if fns[0] != 0:
        ctx = np.int64(w.ctypes.data)
        tmp = np.int64(block.ctypes.data)
        _ossl_sha256d(fns, ctx, tmp, data, start, end, 0, 0, 0, 0, out, out_off)
    else:
        sha256d_into(state, block, w, data, start, end, out, out_off)


@njit(cache=True)
def sha256d_parts(fns, state, block, w, data, s0, e0, s1, e1, s2, e2, out, out_off):  # type: ignore[no-untyped-def]
    """Double SHA-256 of the concatenation ``data[s0:e0] + data[s1:e1] + data[s2:e2]`` (a
    segwit tx's txid skips marker, flag and witnesses) into ``out[out_off:out_off+32]``."""
    if fns[0] != 0:
        ctx = np.int64(w.ctypes.data)
        tmp = np.int64(block.ctypes.data)
        _ossl_sha256d(fns, ctx, tmp, data, s0, e0, s1, e1, s2, e2, out, out_off)
    else:
        sha256_init(state)
        sha256_update(state, block, w, data, s0, e0)
        sha256_update(state, block, w, data, s1, e1)
        sha256_update(state, block, w, data, s2, e2)
        sha256_final(state, block, w, out, out_off)
        sha256_of_32(state, block, w, out, out_off, out, out_off)


@njit(cache=True)
def hash160_into(state, block, w, data, start, end, tmp, out, out_off):  # type: ignore[no-untyped-def]
    """RIPEMD-160(SHA-256(``data[start:end]``)) into ``out[out_off:out_off+20]``.

    ``tmp`` is a ``uint8[32]`` scratch for the intermediate SHA-256 digest.
    """
    sha256_init(state)
    sha256_update(state, block, w, data, start, end)
    sha256_final(state, block, w, tmp, 0)
    ripemd160_into(state, block, w, tmp, 0, 32, out, out_off)


# ---------------------------------------------------------------- Python wrappers


def _as_u8(data: bytes | bytearray | memoryview) -> np.ndarray:
    return np.frombuffer(bytes(data), dtype=np.uint8)


def sha256_numba(data: bytes) -> bytes:
    """SHA-256 computed by the numba kernel (what the decoder uses; tested against hashlib)."""
    state, block, w = new_scratch()
    out = np.zeros(32, np.uint8)
    sha256_init(state)
    buf = _as_u8(data)
    sha256_update(state, block, w, buf, 0, len(buf))
    sha256_final(state, block, w, out, 0)
    return out.tobytes()


def sha256(data: bytes) -> bytes:
    """SHA-256 digest."""
    return hashlib.sha256(bytes(data)).digest()


def sha256d(data: bytes) -> bytes:
    """Double SHA-256 (Bitcoin's hash for txids, block hashes and checksums)."""
    return hashlib.sha256(hashlib.sha256(bytes(data)).digest()).digest()


def hash160(data: bytes) -> bytes:
    """RIPEMD-160(SHA-256(data)): the 20-byte hash inside P2PKH/P2SH/P2WPKH addresses."""
    return ripemd160(sha256(data))
