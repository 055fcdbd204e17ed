"""Unsigned 256-bit amounts as four uint64 limbs: the one representation of wei and token units.

An amount column is a ``(n, 4) uint64`` array, limb 0 the least significant:
``value = l0 + l1 * 2**64 + l2 * 2**128 + l3 * 2**192``. Every ERC-20 ``uint256`` fits, so no
asset can overflow; ETH amounts use limbs 0-1 only (all ether ever issued is < 2**88 wei) and
the two zero limbs cost nearly nothing in Parquet (run-length encoded). Why limbs and not a
32-byte string or a decimal: docs/DECISIONS.md D10.

Python ints are exact at any size, so conversions go through them at the edges
(:func:`to_ints`, :func:`from_ints`); columns are converted in bulk from hex
(:mod:`chaintrail.chains.ethereum.hexcodec`) without a Python int per value.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

LIMBS = 4
MAX_U256 = (1 << 256) - 1
_MASK64 = (1 << 64) - 1


def zeros(n: int) -> np.ndarray:
    """An amount column of ``n`` zeros."""
    return np.zeros((n, LIMBS), np.uint64)


def from_ints(values: Iterable[int]) -> np.ndarray:
    """Python ints (0 <= v < 2**256) -> ``(n, 4) uint64``; ValueError names the first bad one."""
    vals = list(values)
    for i, v in enumerate(vals):
        if not 0 <= v <= MAX_U256:
            raise ValueError(f"value #{i} ({v}) is outside 0 .. 2**256-1")
    out = np.empty((len(vals), LIMBS), np.uint64)
    for k in range(LIMBS):
        shift = 64 * k
        out[:, k] = [(v >> shift) & _MASK64 for v in vals]
    return out


def from_be_bytes(words: np.ndarray) -> np.ndarray:
    """``(n, 32) uint8`` big-endian words (ABI ``uint256``, a log's data) -> ``(n, 4) uint64``."""
    words = np.ascontiguousarray(words, dtype=np.uint8)
    return words.view(">u8").reshape(-1, LIMBS)[:, ::-1].astype(np.uint64)


def to_be_bytes(limbs: np.ndarray) -> np.ndarray:
    """``(n, 4) uint64`` -> ``(n, 32) uint8`` big-endian (byte order sorts as the number)."""
    be = np.ascontiguousarray(limbs[:, ::-1]).astype(">u8")
    return be.view(np.uint8).reshape(-1, 32)


def to_ints(limbs: np.ndarray) -> list[int]:
    """``(n, 4) uint64`` -> exact Python ints."""
    cols = [limbs[:, k].tolist() for k in range(LIMBS)]
    return [a | (b << 64) | (c << 128) | (d << 192) for a, b, c, d in zip(*cols, strict=True)]


def to_int(row: Sequence[int] | np.ndarray) -> int:
    """One amount (a ``(4,)`` row) -> Python int."""
    return sum(int(row[k]) << (64 * k) for k in range(LIMBS))


def to_float(limbs: np.ndarray) -> np.ndarray:
    """Nearest float64 of each amount (for ratios and charts, never for sums or display)."""
    f = np.zeros(limbs.shape[0], np.float64)
    for k in range(LIMBS - 1, -1, -1):
        f = f * 18446744073709551616.0 + limbs[:, k].astype(np.float64)
    return f


def total(limbs: np.ndarray) -> int:
    """Exact sum of an amount column as a Python int.

    Each limb is split into 32-bit halves and summed in uint64 (exact up to 2**32 rows), then
    recombined with Python ints: the same per-limb scheme as ``SUM(limb)`` in DuckDB.
    """
    s = 0
    for k in range(LIMBS):
        col = limbs[:, k]
        lo = int(np.sum(col & np.uint64(0xFFFFFFFF), dtype=np.uint64))
        hi = int(np.sum(col >> np.uint64(32), dtype=np.uint64))
        s += (lo + (hi << 32)) << (64 * k)
    return s
