"""Base58Check (legacy addresses), bech32 (BIP173) and bech32m (BIP350) codecs: the one place
their alphabets, checksums and rules live.

Python functions encode/decode one value and raise :class:`AddressError` naming the value and
what is wrong. The vectorised kernels in :mod:`chaintrail.chains.bitcoin.address_kernels` use
the alphabets and :func:`polymod_step` from here. No numba at import: parsing one address typed
by a user never starts it.
"""

from __future__ import annotations

import hashlib
from enum import Enum

import numpy as np

from chaintrail.errors import AddressError
from chaintrail.kernels import helper

B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(B58_ALPHABET)}
B58_ALPHABET_BYTES = np.frombuffer(B58_ALPHABET.encode(), dtype=np.uint8).copy()

BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
BECH32_CHARSET_BYTES = np.frombuffer(BECH32_CHARSET.encode(), dtype=np.uint8).copy()
BECH32_GEN = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
BECH32_CONST = 1
BECH32M_CONST = 0x2BC830A3
BECH32_MAX_LEN = 90


class Bech32Variant(Enum):
    """Which checksum constant a bech32 string uses."""

    BECH32 = BECH32_CONST
    BECH32M = BECH32M_CONST


# ---------------------------------------------------------------- Base58Check


def b58encode(data: bytes) -> str:
    """Base58 text of ``data`` (leading zero bytes become leading '1's)."""
    n_zeros = len(data) - len(data.lstrip(b"\x00"))
    num = int.from_bytes(data, "big")
    out = []
    while num:
        num, rem = divmod(num, 58)
        out.append(B58_ALPHABET[rem])
    return "1" * n_zeros + "".join(reversed(out))


def b58decode(text: str) -> bytes:
    """Bytes of Base58 ``text``; AddressError on a character outside the alphabet."""
    num = 0
    for pos, ch in enumerate(text):
        digit = _B58_INDEX.get(ch)
        if digit is None:
            raise AddressError(
                f"invalid Base58 character {ch!r} at position {pos} "
                "(0, O, I and l are not in the alphabet)",
                source=repr(text),
            )
        num = num * 58 + digit
    n_zeros = len(text) - len(text.lstrip("1"))
    body = num.to_bytes((num.bit_length() + 7) // 8, "big") if num else b""
    return b"\x00" * n_zeros + body


def b58check_checksum(payload: bytes) -> bytes:
    """The 4 checksum bytes Base58Check appends: the start of the payload's double SHA-256."""
    return hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]


def b58check_encode(payload: bytes) -> str:
    """Base58Check text: payload followed by :func:`b58check_checksum`."""
    return b58encode(payload + b58check_checksum(payload))


def b58check_decode(text: str) -> bytes:
    """Payload of Base58Check ``text``; AddressError if too short or the checksum is wrong."""
    raw = b58decode(text)
    if len(raw) < 4:
        raise AddressError(
            "too short for Base58Check (needs the 4-byte checksum)", source=repr(text)
        )
    payload, check = raw[:-4], raw[-4:]
    if b58check_checksum(payload) != check:
        raise AddressError("bad Base58Check checksum (mistyped address?)", source=repr(text))
    return payload


# ---------------------------------------------------------------- bech32 / bech32m


@helper
def polymod_step(chk: int, v: int) -> int:
    """One step of the bech32 checksum (BIP173 ``bech32_polymod``) over the 5-bit value ``v``."""
    top = chk >> 25
    chk = ((chk & 0x1FFFFFF) << 5) ^ v
    for i in range(5):
        if (top >> i) & 1:
            chk ^= BECH32_GEN[i]
    return chk


def _polymod(values: list[int]) -> int:
    chk = 1
    for v in values:
        chk = polymod_step(chk, v)
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def bech32_encode(hrp: str, data: list[int], variant: Bech32Variant) -> str:
    """bech32/bech32m string of 5-bit ``data`` under ``hrp`` (lower case)."""
    values = _hrp_expand(hrp) + list(data)
    mod = _polymod(values + [0] * 6) ^ variant.value
    checksum = [(mod >> (5 * (5 - i))) & 31 for i in range(6)]
    return hrp + "1" + "".join(BECH32_CHARSET[d] for d in list(data) + checksum)


def bech32_decode(text: str) -> tuple[str, list[int], Bech32Variant]:
    """Split a bech32/bech32m string into (hrp, 5-bit data, variant); AddressError if invalid."""
    src = repr(text)
    if any(ord(c) < 33 or ord(c) > 126 for c in text):
        raise AddressError("character outside printable US-ASCII", source=src)
    if text.lower() != text and text.upper() != text:
        raise AddressError("mixed upper and lower case in a bech32 string", source=src)
    if len(text) > BECH32_MAX_LEN:
        raise AddressError(f"longer than {BECH32_MAX_LEN} characters", source=src)
    low = text.lower()
    pos = low.rfind("1")
    if pos < 1:
        raise AddressError("no human-readable part before the '1' separator", source=src)
    if pos + 7 > len(low):
        raise AddressError("data part shorter than the 6-character checksum", source=src)
    data = []
    for i, ch in enumerate(low[pos + 1 :], start=pos + 1):
        v = BECH32_CHARSET.find(ch)
        if v < 0:
            raise AddressError(f"invalid bech32 character {ch!r} at position {i}", source=src)
        data.append(v)
    hrp = low[:pos]
    const = _polymod(_hrp_expand(hrp) + data)
    if const == BECH32_CONST:
        variant = Bech32Variant.BECH32
    elif const == BECH32M_CONST:
        variant = Bech32Variant.BECH32M
    else:
        raise AddressError("bad bech32/bech32m checksum (mistyped address?)", source=src)
    return hrp, data[:-6], variant


def convertbits(data: list[int] | bytes, frombits: int, tobits: int, pad: bool) -> list[int]:
    """Regroup ``data`` from ``frombits``- to ``tobits``-bit values; ValueError if impossible."""
    acc = 0
    bits = 0
    out = []
    maxv = (1 << tobits) - 1
    for value in data:
        if value < 0 or value >> frombits:
            raise ValueError(f"value {value} does not fit in {frombits} bits")
        acc = (acc << frombits) | value
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            out.append((acc >> bits) & maxv)
    if pad:
        if bits:
            out.append((acc << (tobits - bits)) & maxv)
    elif bits >= frombits:
        raise ValueError("more than 4 bits of padding")
    elif (acc << (tobits - bits)) & maxv:
        raise ValueError("non-zero padding bits")
    return out


def segwit_encode(hrp: str, version: int, program: bytes) -> str:
    """Segwit address of a witness program (bech32 for v0, bech32m for v1..v16)."""
    if not 0 <= version <= 16:
        raise ValueError(f"witness version {version} outside 0..16")
    if not 2 <= len(program) <= 40 or (version == 0 and len(program) not in (20, 32)):
        raise ValueError(f"witness v{version} program of {len(program)} bytes is invalid")
    if hrp != hrp.lower():
        raise ValueError("the human-readable part must be lower case")
    variant = Bech32Variant.BECH32 if version == 0 else Bech32Variant.BECH32M
    return bech32_encode(hrp, [version] + convertbits(program, 8, 5, True), variant)


def segwit_decode(hrp: str, text: str) -> tuple[int, bytes]:
    """(witness version, program) of a segwit address under ``hrp``; AddressError if invalid."""
    src = repr(text)
    got_hrp, data, variant = bech32_decode(text)
    if got_hrp != hrp:
        raise AddressError(f"human-readable part {got_hrp!r}, expected {hrp!r}", source=src)
    if not data:
        raise AddressError("empty data part (no witness version)", source=src)
    version = data[0]
    if version > 16:
        raise AddressError(f"witness version {version} is not 0..16", source=src)
    try:
        program = bytes(convertbits(data[1:], 5, 8, False))
    except ValueError as exc:
        raise AddressError(f"bad witness program padding: {exc}", source=src) from exc
    if not 2 <= len(program) <= 40:
        raise AddressError(f"witness program of {len(program)} bytes (needs 2..40)", source=src)
    if version == 0 and len(program) not in (20, 32):
        raise AddressError(
            f"witness v0 program of {len(program)} bytes (needs 20 or 32)", source=src
        )
    want = Bech32Variant.BECH32 if version == 0 else Bech32Variant.BECH32M
    if variant is not want:
        raise AddressError(
            f"witness v{version} must use {want.name.lower()}, not {variant.name.lower()}",
            source=src,
        )
    return version, program
