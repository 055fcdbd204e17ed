"""Pseudo keys and address payloads for simulated addresses, consistent with their scripts.

No elliptic-curve maths: a public key is 33 bytes, ``02``/``03`` + 32 bytes drawn from a
SplitMix64 stream keyed by (seed, address id, key index). Everything else follows the real
script rules, so a checker can verify it:

* P2PKH / P2WPKH payload = hash160(pubkey)
* P2SH payload = hash160(redeem script ``0014 || hash160(pubkey)``) (P2SH-P2WPKH)
* P2WSH payload = sha256(``52 <pk0> <pk1> <pk2> 53 ae``) (2-of-3 multisig)
* P2TR payload = a 32-byte pseudo x-only output key
"""

from __future__ import annotations

import numpy as np
from numba import njit

from chaintrail.chains.bitcoin.hashing import (
    hash160_into,
    new_scratch,
    sha256_final,
    sha256_init,
    sha256_update,
)
from chaintrail.sim.ledger import MULTISIG_SCRIPT_LEN, P2PKH, P2SH, P2TR, P2WPKH, P2WSH

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


@njit(cache=True)
def splitmix(x):  # type: ignore[no-untyped-def]
    """One SplitMix64 output for state ``x`` (uint64 in, uint64 out)."""
    z = x + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@njit(cache=True)
def pseudo_bytes(seed, item, domain, out, off, n):  # type: ignore[no-untyped-def]
    """Write ``n`` pseudo-random bytes for (seed, item, domain) to ``out[off:off+n]``."""
    x = splitmix(np.uint64(seed) ^ splitmix(np.uint64(item) * np.uint64(4) + np.uint64(domain)))
    i = 0
    while i < n:
        x = splitmix(x)
        for k in range(8):
            if i + k < n:
                out[off + i + k] = np.uint8((x >> np.uint64(8 * k)) & np.uint64(0xFF))
        i += 8


@njit(cache=True)
def pubkey_into(seed, addr, index, out, off):  # type: ignore[no-untyped-def]
    """Compressed pseudo public key ``index`` (0..2) of address ``addr`` into ``out[off:off+33]``."""
    pseudo_bytes(seed, addr * 3 + index, 1, out, off, 33)
    out[off] = 0x02 + (out[off] & 1)


@njit(cache=True)
def multisig_script_into(seed, addr, out, off):  # type: ignore[no-untyped-def]
    """The 2-of-3 witness script of a P2WSH address into ``out[off:off+105]``."""
    out[off] = 0x52
    p = off + 1
    for k in range(3):
        out[p] = 33
        pubkey_into(seed, addr, k, out, p + 1)
        p += 34
    out[p] = 0x53
    out[p + 1] = 0xAE


@njit(cache=True)
def derive_payloads(seed, addr_type, payload, first):  # type: ignore[no-untyped-def]
    """Fill ``payload[a]`` (20 or 32 bytes, zero-padded) for addresses ``first``.. of ``addr_type``."""
    state, block, w = np.zeros(10, np.int64), np.zeros(64, np.uint8), np.zeros(80, np.int64)
    tmp = np.zeros(32, np.uint8)
    scratch = np.zeros(128, np.uint8)
    for a in range(first, addr_type.shape[0]):
        t = addr_type[a]
        row = payload[a]
        if t == P2TR:
            pseudo_bytes(seed, a, 2, row, 0, 32)
        elif t == P2WSH:
            multisig_script_into(seed, a, scratch, 0)
            sha256_init(state)
            sha256_update(state, block, w, scratch, 0, MULTISIG_SCRIPT_LEN)
            sha256_final(state, block, w, row, 0)
        else:
            pubkey_into(seed, a, 0, scratch, 0)
            if t == P2SH:
                scratch[40] = 0x00
                scratch[41] = 0x14
                hash160_into(state, block, w, scratch, 0, 33, tmp, scratch, 42)
                hash160_into(state, block, w, scratch, 40, 62, tmp, row, 0)
            else:  # P2PKH, P2WPKH
                hash160_into(state, block, w, scratch, 0, 33, tmp, row, 0)


def payloads_for(seed: int, addr_type: np.ndarray) -> np.ndarray:
    """The ``(n, 32) uint8`` payload of every address, consistent with its pseudo keys."""
    payload = np.zeros((addr_type.shape[0], 32), np.uint8)
    derive_payloads(np.uint64(seed), addr_type, payload, 0)
    return payload


def pubkey(seed: int, addr: int, index: int = 0) -> bytes:
    """The pseudo public key ``index`` of address ``addr`` (for checks and docs)."""
    out = np.zeros(33, np.uint8)
    pubkey_into(np.uint64(seed), addr, index, out, 0)
    return out.tobytes()


__all__ = [
    "P2PKH",
    "P2SH",
    "P2TR",
    "P2WPKH",
    "P2WSH",
    "derive_payloads",
    "multisig_script_into",
    "new_scratch",
    "payloads_for",
    "pseudo_bytes",
    "pubkey",
    "pubkey_into",
    "splitmix",
]
