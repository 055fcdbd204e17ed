"""Hex text columns (``0x``-prefixed, as JSON-RPC and ethereum-etl write them) -> numpy columns.

Each function converts a whole column with one ``bytes.fromhex`` over the joined text (C
speed, no Python object per byte). Only when that fails is the column walked row by row to
find the first bad value, so the error names the row and what was expected. The caller turns
:class:`HexColumnError` into an InputError naming block, transaction or log.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import repeat

import numpy as np

from chaintrail.chains.ethereum.u256 import LIMBS


def _decode_digits(digits: np.ndarray) -> np.ndarray | None:
    """ASCII hex digits (uint8, even count) -> bytes as uint8; None if any is not a hex digit.

    ``bytes.fromhex`` over the whole column: measured 2-4x faster than a numpy table lookup.
    It skips spaces between byte pairs, so the output length is checked.
    """
    try:
        out = bytearray.fromhex(digits.tobytes().decode("ascii"))  # writable for numpy
    except (ValueError, UnicodeDecodeError):
        return None
    if 2 * len(out) != digits.shape[0]:
        return None
    return np.frombuffer(out, np.uint8)


class HexColumnError(ValueError):
    """Row ``row`` of a column is not what was expected (``message`` says what)."""

    def __init__(self, row: int, message: str) -> None:
        super().__init__(message)
        self.row = row


def _is_hex(s: object) -> bool:
    if not isinstance(s, str) or s[:2] != "0x":
        return False
    try:
        bytes.fromhex(s[2:] if len(s) % 2 == 0 else "0" + s[2:])
    except ValueError:
        return False
    return True


def _first_bad_fixed(values: Sequence[str | None], nbytes: int, nullable: bool) -> HexColumnError:
    want = f"0x + {2 * nbytes} hex digits"
    for i, v in enumerate(values):
        if v is None and nullable:
            continue
        if not _is_hex(v) or len(v) != 2 + 2 * nbytes:  # type: ignore[arg-type]
            return HexColumnError(i, f"expected {want}, got {v!r:.80}")
    return HexColumnError(0, f"expected {want}")  # pragma: no cover - callers only call on failure


def fixed(values: Sequence[str], nbytes: int) -> np.ndarray:
    """``0x``-hex strings of exactly ``nbytes`` bytes (hashes, addresses, blooms) -> ``(n, nbytes)``."""
    n = len(values)
    width = 2 + 2 * nbytes
    try:
        joined = "".join(values).encode("ascii")
    except (TypeError, UnicodeEncodeError):
        raise _first_bad_fixed(values, nbytes, False) from None
    if len(joined) == n * width:
        a = np.frombuffer(joined, np.uint8).reshape(n, width)
        if (a[:, 0] == 48).all() and (a[:, 1] == 120).all():  # "0x"
            out = _decode_digits(a[:, 2:].reshape(-1))
            if out is not None:
                return out.reshape(n, nbytes)
    raise _first_bad_fixed(values, nbytes, False)


def fixed_nullable(values: Sequence[str | None], nbytes: int) -> tuple[np.ndarray, np.ndarray]:
    """Like :func:`fixed`, ``None`` allowed: ``(column with zero rows for None, present mask)``."""
    present = np.array([v is not None for v in values], dtype=bool)
    if present.all():
        return fixed(values, nbytes), present  # type: ignore[arg-type]
    out = np.zeros((len(values), nbytes), np.uint8)
    idx = np.flatnonzero(present)
    if idx.size:
        try:
            out[idx] = fixed([values[i] for i in idx.tolist()], nbytes)  # type: ignore[misc]
        except HexColumnError as exc:
            raise HexColumnError(int(idx[exc.row]), str(exc)) from None
    return out, present


def quantities(values: Sequence[str]) -> np.ndarray:
    """Hex quantities (``0x1a``) that fit int64 (gas, nonces, indexes, timestamps) -> int64."""
    try:
        return np.array(list(map(int, values, repeat(16))), dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        pass
    for i, v in enumerate(values):
        if not _is_hex(v) or v == "0x":
            raise HexColumnError(i, f"expected a hex quantity like 0x1a, got {v!r:.80}")
        if int(v, 16) >= 1 << 63:
            raise HexColumnError(i, f"{v} does not fit 63 bits")
    raise HexColumnError(0, "expected hex quantities")  # pragma: no cover


def quantities_nullable(values: Sequence[str | None], null: int = -1) -> np.ndarray:
    """Like :func:`quantities`, ``None`` becomes ``null`` (-1 unless told)."""
    if None not in values:
        return quantities(values)  # type: ignore[arg-type]
    idx = [i for i, v in enumerate(values) if v is not None]
    out = np.full(len(values), null, np.int64)
    try:
        out[idx] = quantities([values[i] for i in idx])  # type: ignore[misc]
    except HexColumnError as exc:
        raise HexColumnError(idx[exc.row], str(exc)) from None
    return out


def amounts(values: Sequence[str]) -> np.ndarray:
    """Hex quantities up to 2**256-1 (wei, token units) -> ``(n, 4) uint64`` limbs (u256.py).

    Digits are left-padded to 64, decoded in one pass as big-endian 32-byte words, and the
    words viewed as four big-endian uint64s: no Python int per value.
    """
    n = len(values)
    try:  # most amounts are below 2**64: int() and numpy, both in C
        low = np.array(list(map(int, values, repeat(16))), dtype=np.uint64)
        out = np.zeros((n, LIMBS), np.uint64)
        out[:, 0] = low
        return out
    except (TypeError, ValueError, OverflowError):
        pass
    try:
        padded = "".join([v[2:].rjust(64, "0") for v in values])
        if len(padded) == 64 * n and all(v[:2] == "0x" for v in values):
            raw = np.frombuffer(bytes.fromhex(padded), np.uint8)
            return raw.view(">u8").reshape(n, LIMBS)[:, ::-1].astype(np.uint64)
    except (TypeError, ValueError, AttributeError):
        pass
    for i, v in enumerate(values):
        if not _is_hex(v) or v == "0x":
            raise HexColumnError(i, f"expected a hex quantity like 0x1a, got {v!r:.80}")
        if len(v) > 66:
            raise HexColumnError(i, f"{v[:20]}... has more than 64 hex digits (above 2**256-1)")
    raise HexColumnError(0, "expected hex quantities")  # pragma: no cover


def amounts_nullable(values: Sequence[str | None]) -> tuple[np.ndarray, np.ndarray]:
    """Like :func:`amounts`, ``None`` allowed: ``(limbs with zeros for None, present mask)``."""
    present = np.array([v is not None for v in values], dtype=bool)
    if present.all():
        return amounts(values), present  # type: ignore[arg-type]
    out = np.zeros((len(values), LIMBS), np.uint64)
    idx = np.flatnonzero(present).tolist()
    if idx:
        try:
            out[idx] = amounts([values[i] for i in idx])  # type: ignore[misc]
        except HexColumnError as exc:
            raise HexColumnError(idx[exc.row], str(exc)) from None
    return out, present


def var_bytes(values: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Variable-length ``0x`` hex (input data, log data, bytecode) -> ``(offsets int64[n+1], buf)``.

    Row ``i`` is ``buf[offsets[i]:offsets[i+1]]``.
    """
    n = len(values)
    try:
        lens = np.array([len(v) for v in values], dtype=np.int64) - 2
        joined = "".join(values)
        if joined.count("0x") == n and not (lens % 2).any() and (lens >= 0).all():
            buf = np.frombuffer(bytes.fromhex(joined.replace("0x", "")), np.uint8).copy()
            offsets = np.zeros(n + 1, np.int64)
            np.cumsum(lens // 2, out=offsets[1:])
            return offsets, buf
    except (TypeError, ValueError):
        pass
    for i, v in enumerate(values):
        if not _is_hex(v) or len(v) % 2:
            raise HexColumnError(i, f"expected 0x + an even number of hex digits, got {v!r:.80}")
    raise HexColumnError(0, "expected hex data")  # pragma: no cover


def var_bytes_raw(values: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """Like :func:`var_bytes`, from raw JSON string tokens (``b'"0x..."'``, msgspec.Raw).

    The framing (quotes, ``0x``) is masked out and the digits decoded with one table lookup
    over the whole column: no Python string is made for the (often large) data.
    """
    n = len(values)
    lens = np.fromiter(map(len, values), np.int64, n)
    joined = np.frombuffer(b"".join(values), np.uint8)
    ends = np.cumsum(lens)
    starts = ends - lens
    ok = (lens >= 4) & (((lens - 4) % 2) == 0)
    if ok.all() and n:
        ok &= (joined[starts] == 34) & (joined[starts + 1] == 48) & (joined[starts + 2] == 120)
        ok &= joined[ends - 1] == 34
    if ok.all():
        keep = np.ones(joined.shape[0], bool)
        for k in (0, 1, 2):
            keep[starts + k] = False
        keep[ends - 1] = False
        buf = _decode_digits(joined[keep])
        if buf is not None:
            offsets = np.zeros(n + 1, np.int64)
            np.cumsum((lens - 4) // 2, out=offsets[1:])
            return offsets, buf
    for i, v in enumerate(values):
        text = bytes(v).decode("utf-8", "replace")
        if not (text.startswith('"0x') and text.endswith('"')) or not _is_hex(text[1:-1]) or len(text) % 2:
            raise HexColumnError(i, f"expected 0x + an even number of hex digits, got {text:.80}")
    raise HexColumnError(0, "expected hex data")  # pragma: no cover


def to_hex_rows(offsets: np.ndarray, buf: np.ndarray) -> list[str]:
    """``0x`` text of each row of an ``(offsets, buf)`` column (the inverse of :func:`var_bytes`)."""
    h = buf.tobytes().hex()
    o = (offsets * 2).tolist()
    return ["0x" + h[o[i] : o[i + 1]] for i in range(len(o) - 1)]


def fixed_to_hex(col: np.ndarray) -> list[str]:
    """``0x`` text of each row of a ``(n, w) uint8`` column (hashes, addresses, blooms)."""
    col = np.ascontiguousarray(col, dtype=np.uint8)
    w = 2 * col.shape[1]
    h = col.tobytes().hex()
    return ["0x" + h[i : i + w] for i in range(0, len(h), w)]
