"""Ethereum addresses: 20 bytes; text is ``0x`` + 40 hex digits, EIP-55 mixed case or one case.

* :func:`parse_address` — user or list input to 20 bytes. All-lower or all-upper hex carries no
  checksum and is accepted; mixed case must be the EIP-55 checksum, else :class:`AddressError`
  names the address and the checksummed form expected.
* :func:`checksum_address` — 20 bytes to the EIP-55 form explorers show.

Columns of addresses stay ``(n, 20) uint8``; :func:`chaintrail.chains.ethereum.hexcodec.fixed_to_hex`
gives their lower-case text (what nodes, ethereum-etl and the store use; the checksum is a
display form, computed on demand).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from chaintrail.chains.ethereum import hexcodec
from chaintrail.chains.ethereum.hashing import keccak256
from chaintrail.errors import AddressError

ADDRESS_LEN = 20
_HEX = frozenset("0123456789abcdefABCDEF")


def checksum_address(raw: bytes | np.ndarray) -> str:
    """EIP-55 text of a 20-byte address (``0x`` + mixed-case hex)."""
    low = bytes(raw).hex()
    if len(low) != 2 * ADDRESS_LEN:
        raise ValueError(f"expected {ADDRESS_LEN} bytes, got {len(low) // 2}")
    digest = keccak256(low.encode("ascii")).hex()
    return "0x" + "".join(
        c.upper() if c > "9" and digest[i] > "7" else c for i, c in enumerate(low)
    )


def parse_address(text: str, *, source: str | None = None) -> bytes:
    """20 bytes of an address string; AddressError saying what is wrong and what was expected.

    ``source`` names where the text came from (a file and line, a request field) in the error.
    """
    where = source
    if not isinstance(text, str):
        raise AddressError(f"expected an address string, got {type(text).__name__}", source=where)
    s = text.strip()
    body = s[2:] if s[:2] in ("0x", "0X") else s
    if s[:2] not in ("0x", "0X"):
        hint = " (it lacks the 0x prefix)" if len(s) == 40 else ""
        raise AddressError(f"{text!r} is not an Ethereum address: expected 0x + 40 hex digits{hint}",
                           source=where)  # fmt: skip
    if len(body) != 2 * ADDRESS_LEN:
        raise AddressError(
            f"{text!r} has {len(body)} hex digits after 0x; an Ethereum address has 40",
            source=where,
        )
    bad = next((c for c in body if c not in _HEX), None)
    if bad is not None:
        raise AddressError(f"{text!r} has the non-hex character {bad!r}", source=where)
    raw = bytes.fromhex(body)
    if body != body.lower() and body != body.upper():
        expected = checksum_address(raw)
        if "0x" + body != expected:
            raise AddressError(
                f"{text!r} fails its EIP-55 checksum (mixed case must read {expected}); "
                "check for a mistyped character",
                source=where,
            )
    return raw


def is_address(text: str) -> bool:
    """True if :func:`parse_address` accepts ``text``."""
    try:
        parse_address(text)
    except AddressError:
        return False
    return True


def address_hex(raw: bytes | np.ndarray) -> str:
    """Lower-case ``0x`` text of one 20-byte address."""
    return "0x" + bytes(raw).hex()


def address_column(values: Sequence[str]) -> np.ndarray:
    """``(n, 20)`` column of address strings; mixed-case ones must pass EIP-55.

    Raises HexColumnError naming the row (a malformed address) or AddressError naming the
    address (a failed checksum).
    """
    col = hexcodec.fixed(values, ADDRESS_LEN)
    joined = "".join(values)
    if joined != joined.lower():
        for i, v in enumerate(values):
            if v != v.lower():
                try:
                    parse_address(v)
                except AddressError as exc:
                    raise hexcodec.HexColumnError(i, str(exc)) from None
    return col


def address_column_nullable(values: Sequence[str | None]) -> tuple[np.ndarray, np.ndarray]:
    """Like :func:`address_column`, ``None`` allowed: ``(column, present mask)``."""
    present = np.array([v is not None for v in values], dtype=bool)
    out = np.zeros((len(values), ADDRESS_LEN), np.uint8)
    idx = np.flatnonzero(present).tolist()
    if idx:
        try:
            out[idx] = address_column([values[i] for i in idx])  # type: ignore[misc]
        except hexcodec.HexColumnError as exc:
            raise hexcodec.HexColumnError(idx[exc.row], str(exc)) from None
    return out, present
