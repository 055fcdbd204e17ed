"""Base58Check (legacy addresses), bech32 (BIP173) and bech32m (BIP350) codecs.

Python functions encode/decode one value and raise :class:`AddressError` naming the value and
what is wrong. The ``*_into`` numba kernels encode into a character row for the vectorised
address encoder in :mod:`chaintrail.chains.bitcoin.address`.
"""

from __future__ import annotations

from enum import Enum

import numpy as np
from numba import njit

from chaintrail.chains.bitcoin.hashing import sha256d, sha256d_into
from chaintrail.errors import AddressError

B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(B58_ALPHABET)}
B58_ALPHABET_BYTES = np.frombuffer(B58_ALPHABET.encode(), dtype=np.uint8).copy()

BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
BECH32_CHARSET_BYTES = np.frombuffer(BECH32_CHARSET.encode(), dtype=np.uint8).copy()
_BECH32_GEN = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
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


def b58check_encode(payload: bytes) -> str:
    """Base58Check text: payload followed by the first 4 bytes of its double SHA-256."""
    return b58encode(payload + sha256d(payload)[:4])


def b58check_decode(text: str) -> bytes:
    """Payload of Base58Check ``text``; AddressError if too short or the checksum is wrong."""
    raw = b58decode(text)
    if len(raw) < 4:
        raise AddressError(
            "too short for Base58Check (needs the 4-byte checksum)", source=repr(text)
        )
    payload, check = raw[:-4], raw[-4:]
    if sha256d(payload)[:4] != check:
        raise AddressError("bad Base58Check checksum (mistyped address?)", source=repr(text))
    return payload


# ---------------------------------------------------------------- bech32 / bech32m


def _polymod(values: list[int]) -> int:
    chk = 1
    for v in values:
        top = chk >> 25
        chk = ((chk & 0x1FFFFFF) << 5) ^ v
        for i in range(5):
            if (top >> i) & 1:
                chk ^= _BECH32_GEN[i]
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


# ---------------------------------------------------------------- numba kernels


@njit(cache=True)
def b58check_into(payload, n, state, block, w, tmp, out, row):  # type: ignore[no-untyped-def]
    """Base58Check-encode ``payload[:n]`` (n <= 60) into ``out[row]``; returns the length."""
    sha256d_into(state, block, w, payload, 0, n, tmp, 0)
    full = np.empty(n + 4, np.uint8)
    for i in range(n):
        full[i] = payload[i]
    for i in range(4):
        full[n + i] = tmp[i]
    total = n + 4
    zeros = 0
    while zeros < total and full[zeros] == 0:
        zeros += 1
    digits = np.zeros(total * 138 // 100 + 2, np.int64)
    ndig = 0
    for i in range(zeros, total):
        carry = np.int64(full[i])
        for j in range(ndig):
            carry += digits[j] << 8
            digits[j] = carry % 58
            carry //= 58
        while carry > 0:
            digits[ndig] = carry % 58
            ndig += 1
            carry //= 58
    k = 0
    for _ in range(zeros):
        out[row, k] = B58_ALPHABET_BYTES[0]
        k += 1
    for j in range(ndig - 1, -1, -1):
        out[row, k] = B58_ALPHABET_BYTES[digits[j]]
        k += 1
    return k


@njit(cache=True)
def _polymod_step(chk: int, v: int) -> int:
    top = chk >> 25
    chk = ((chk & 0x1FFFFFF) << 5) ^ v
    if top & 1:
        chk ^= 0x3B6A57B2
    if top & 2:
        chk ^= 0x26508E6D
    if top & 4:
        chk ^= 0x1EA119FA
    if top & 8:
        chk ^= 0x3D4233DD
    if top & 16:
        chk ^= 0x2A1462B3
    return chk


@njit(cache=True)
def segwit_into(hrp, version, prog, start, n, const, out, row):  # type: ignore[no-untyped-def]
    """Encode witness program ``prog[start:start+n]`` with lower-case ``hrp`` (uint8) into
    ``out[row]`` using checksum constant ``const``; returns the length."""
    data = np.empty(1 + (n * 8 + 4) // 5, np.int64)
    data[0] = version
    nd = 1
    acc = 0
    bits = 0
    for i in range(n):
        acc = ((acc << 8) | np.int64(prog[start + i])) & 0xFFFFFF
        bits += 8
        while bits >= 5:
            bits -= 5
            data[nd] = (acc >> bits) & 31
            nd += 1
    if bits:
        data[nd] = (acc << (5 - bits)) & 31
        nd += 1
    chk = 1
    for c in hrp:
        chk = _polymod_step(chk, np.int64(c) >> 5)
    chk = _polymod_step(chk, 0)
    for c in hrp:
        chk = _polymod_step(chk, np.int64(c) & 31)
    for i in range(nd):
        chk = _polymod_step(chk, data[i])
    for _ in range(6):
        chk = _polymod_step(chk, 0)
    chk ^= const
    k = 0
    for c in hrp:
        out[row, k] = c
        k += 1
    out[row, k] = 0x31  # '1'
    k += 1
    for i in range(nd):
        out[row, k] = BECH32_CHARSET_BYTES[data[i]]
        k += 1
    for i in range(6):
        out[row, k] = BECH32_CHARSET_BYTES[(chk >> (5 * (5 - i))) & 31]
        k += 1
    return k
