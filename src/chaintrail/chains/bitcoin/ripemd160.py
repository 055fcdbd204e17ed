"""RIPEMD-160: a numba kernel for the decoder and a pure-Python fallback for hashlib.

Some OpenSSL builds drop RIPEMD-160 from :mod:`hashlib`; :func:`ripemd160` then uses the
plain-Python implementation. Kernel scratch arrays are those of :mod:`hashing`.
"""

from __future__ import annotations

import hashlib

import numpy as np
from numba import njit

M32 = 0xFFFFFFFF

# RIPEMD-160: message word order, rotation amounts and constants of the two lines.
_RMD_R = np.array(
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
     7, 4, 13, 1, 10, 6, 15, 3, 12, 0, 9, 5, 2, 14, 11, 8,
     3, 10, 14, 4, 9, 15, 8, 1, 2, 7, 0, 6, 13, 11, 5, 12,
     1, 9, 11, 10, 0, 8, 12, 4, 13, 3, 7, 15, 14, 5, 6, 2,
     4, 0, 5, 9, 7, 12, 2, 10, 14, 1, 3, 8, 11, 6, 15, 13],
    dtype=np.int64,
)  # fmt: skip
_RMD_RP = np.array(
    [5, 14, 7, 0, 9, 2, 11, 4, 13, 6, 15, 8, 1, 10, 3, 12,
     6, 11, 3, 7, 0, 13, 5, 10, 14, 15, 8, 12, 4, 9, 1, 2,
     15, 5, 1, 3, 7, 14, 6, 9, 11, 8, 12, 2, 10, 0, 4, 13,
     8, 6, 4, 1, 3, 11, 15, 0, 5, 12, 2, 13, 9, 7, 10, 14,
     12, 15, 10, 4, 1, 5, 8, 7, 6, 2, 13, 14, 0, 3, 9, 11],
    dtype=np.int64,
)  # fmt: skip
_RMD_S = np.array(
    [11, 14, 15, 12, 5, 8, 7, 9, 11, 13, 14, 15, 6, 7, 9, 8,
     7, 6, 8, 13, 11, 9, 7, 15, 7, 12, 15, 9, 11, 7, 13, 12,
     11, 13, 6, 7, 14, 9, 13, 15, 14, 8, 13, 6, 5, 12, 7, 5,
     11, 12, 14, 15, 14, 15, 9, 8, 9, 14, 5, 6, 8, 6, 5, 12,
     9, 15, 5, 11, 6, 8, 13, 12, 5, 12, 13, 14, 11, 8, 5, 6],
    dtype=np.int64,
)  # fmt: skip
_RMD_SP = np.array(
    [8, 9, 9, 11, 13, 15, 15, 5, 7, 7, 8, 11, 14, 14, 12, 6,
     9, 13, 15, 7, 12, 8, 9, 11, 7, 7, 12, 7, 6, 15, 13, 11,
     9, 7, 15, 11, 8, 6, 6, 14, 12, 13, 5, 14, 13, 13, 7, 5,
     15, 5, 8, 11, 14, 14, 6, 14, 6, 9, 12, 9, 12, 5, 15, 8,
     8, 5, 12, 9, 12, 5, 14, 6, 8, 13, 6, 5, 15, 13, 11, 11],
    dtype=np.int64,
)  # fmt: skip
_RMD_K = np.array([0x00000000, 0x5A827999, 0x6ED9EBA1, 0x8F1BBCDC, 0xA953FD4E], dtype=np.int64)
_RMD_KP = np.array([0x50A28BE6, 0x5C4DD124, 0x6D703EF3, 0x7A6D76E9, 0x00000000], dtype=np.int64)
_RMD_IV = np.array([0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0], dtype=np.int64)


@njit(cache=True, inline="always")
def _rotl(x: int, n: int) -> int:
    return ((x << n) | (x >> (32 - n))) & 0xFFFFFFFF


@njit(cache=True, inline="always")
def _rmd_f(j: int, x: int, y: int, z: int) -> int:
    if j < 16:
        return x ^ y ^ z
    if j < 32:
        return (x & y) | ((~x) & z)
    if j < 48:
        return ((x | ((~y) & 0xFFFFFFFF)) ^ z) & 0xFFFFFFFF
    if j < 64:
        return (x & z) | (y & (~z))
    return (x ^ (y | ((~z) & 0xFFFFFFFF))) & 0xFFFFFFFF


@njit(cache=True)
def _rmd_compress(h, data, off, x):  # type: ignore[no-untyped-def]
    for i in range(16):
        j = off + 4 * i
        x[i] = (
            np.int64(data[j])
            | (np.int64(data[j + 1]) << 8)
            | (np.int64(data[j + 2]) << 16)
            | (np.int64(data[j + 3]) << 24)
        )
    al = h[0]
    bl = h[1]
    cl = h[2]
    dl = h[3]
    el = h[4]
    ar = al
    br = bl
    cr = cl
    dr = dl
    er = el
    for j in range(80):
        rnd = j >> 4
        t = (al + _rmd_f(j, bl, cl, dl) + x[_RMD_R[j]] + _RMD_K[rnd]) & 0xFFFFFFFF
        t = (_rotl(t, _RMD_S[j]) + el) & 0xFFFFFFFF
        al = el
        el = dl
        dl = _rotl(cl, 10)
        cl = bl
        bl = t
        t = (ar + _rmd_f(79 - j, br, cr, dr) + x[_RMD_RP[j]] + _RMD_KP[rnd]) & 0xFFFFFFFF
        t = (_rotl(t, _RMD_SP[j]) + er) & 0xFFFFFFFF
        ar = er
        er = dr
        dr = _rotl(cr, 10)
        cr = br
        br = t
    t = (h[1] + cl + dr) & 0xFFFFFFFF
    h[1] = (h[2] + dl + er) & 0xFFFFFFFF
    h[2] = (h[3] + el + ar) & 0xFFFFFFFF
    h[3] = (h[4] + al + br) & 0xFFFFFFFF
    h[4] = (h[0] + bl + cr) & 0xFFFFFFFF
    h[0] = t


@njit(cache=True)
def ripemd160_into(state, block, w, data, start, end, out, out_off):  # type: ignore[no-untyped-def]
    """RIPEMD-160 of ``data[start:end]`` into ``out[out_off:out_off+20]``."""
    for i in range(5):
        state[i] = _RMD_IV[i]
    pos = start
    while end - pos >= 64:
        _rmd_compress(state, data, pos, w)
        pos += 64
    nb = end - pos
    for i in range(nb):
        block[i] = data[pos + i]
    block[nb] = 0x80
    nb += 1
    if nb > 56:
        for i in range(nb, 64):
            block[i] = 0
        _rmd_compress(state, block, 0, w)
        nb = 0
    for i in range(nb, 56):
        block[i] = 0
    bits = (end - start) * 8
    for i in range(8):
        block[56 + i] = (bits >> (8 * i)) & 0xFF
    _rmd_compress(state, block, 0, w)
    for i in range(5):
        v = state[i]
        out[out_off + 4 * i] = v & 0xFF
        out[out_off + 4 * i + 1] = (v >> 8) & 0xFF
        out[out_off + 4 * i + 2] = (v >> 16) & 0xFF
        out[out_off + 4 * i + 3] = (v >> 24) & 0xFF


def ripemd160_numba(data: bytes) -> bytes:
    """RIPEMD-160 computed by the numba kernel (tested against hashlib)."""
    state, block, w = np.zeros(10, np.int64), np.zeros(64, np.uint8), np.zeros(80, np.int64)
    out = np.zeros(20, np.uint8)
    buf = np.frombuffer(bytes(data), dtype=np.uint8)
    ripemd160_into(state, block, w, buf, 0, len(buf), out, 0)
    return out.tobytes()


def ripemd160_pure(data: bytes) -> bytes:
    """RIPEMD-160 in plain Python integers: the fallback when hashlib lacks ripemd160."""
    msg = bytes(data) + b"\x80"
    msg += b"\x00" * ((56 - len(msg)) % 64) + (8 * len(data)).to_bytes(8, "little")
    r, rp, s, sp = (list(map(int, a)) for a in (_RMD_R, _RMD_RP, _RMD_S, _RMD_SP))
    k, kp = list(map(int, _RMD_K)), list(map(int, _RMD_KP))
    h = list(map(int, _RMD_IV))

    def f(j: int, x: int, y: int, z: int) -> int:
        if j < 16:
            return x ^ y ^ z
        if j < 32:
            return (x & y) | (~x & z)
        if j < 48:
            return (x | (~y & M32)) ^ z
        if j < 64:
            return (x & z) | (y & ~z)
        return x ^ (y | (~z & M32))

    def rol(x: int, n: int) -> int:
        return ((x << n) | (x >> (32 - n))) & M32

    for off in range(0, len(msg), 64):
        x = [int.from_bytes(msg[off + 4 * i : off + 4 * i + 4], "little") for i in range(16)]
        al, bl, cl, dl, el = h
        ar, br, cr, dr, er = h
        for j in range(80):
            t = rol((al + f(j, bl, cl, dl) + x[r[j]] + k[j >> 4]) & M32, s[j]) + el
            al, el, dl, cl, bl = el, dl, rol(cl, 10), bl, t & M32
            t = rol((ar + f(79 - j, br, cr, dr) + x[rp[j]] + kp[j >> 4]) & M32, sp[j]) + er
            ar, er, dr, cr, br = er, dr, rol(cr, 10), br, t & M32
        h = [
            (h[1] + cl + dr) & M32,
            (h[2] + dl + er) & M32,
            (h[3] + el + ar) & M32,
            (h[4] + al + br) & M32,
            (h[0] + bl + cr) & M32,
        ]
    return b"".join(v.to_bytes(4, "little") for v in h)


def _hashlib_has_ripemd160() -> bool:
    try:
        hashlib.new("ripemd160", b"")
    except (ValueError, TypeError):
        return False
    return True


HASHLIB_RIPEMD160 = _hashlib_has_ripemd160()


def ripemd160(data: bytes) -> bytes:
    """RIPEMD-160 digest (hashlib if available, else the pure-Python implementation)."""
    if HASHLIB_RIPEMD160:
        return hashlib.new("ripemd160", bytes(data)).digest()
    return ripemd160_pure(data)
