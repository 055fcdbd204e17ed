"""Mainnet address strings <-> 33-byte address keys (see :mod:`chaintrail.chains.model`).

* :func:`address_key_to_string` / :func:`encode_address_keys` — key(s) to the address text
  explorers show (``None`` for keys that carry no address); :func:`encode_address_keys_flat`
  the same as one offsets + bytes buffer (for Arrow columns at ingest volumes);
* :func:`address_string_to_key` — parse user input, raising :class:`AddressError` that says
  what is wrong (checksum, prefix, length, case, network);
* :func:`script_to_address` — convenience: scriptPubKey bytes to address text.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from chaintrail.chains.bitcoin import params
from chaintrail.chains.bitcoin.encoding import (
    BECH32_CONST,
    BECH32M_CONST,
    b58check_decode,
    b58check_into,
    segwit_decode,
    segwit_into,
)
from chaintrail.chains.bitcoin.script import (
    T_P2PKH,
    T_P2SH,
    T_P2TR,
    T_P2WPKH,
    T_P2WSH,
    classify_script,
)
from chaintrail.chains.model import ADDR_KEY_LEN, ScriptType
from chaintrail.errors import AddressError

MAX_ADDRESS_LEN = 64  # a P2WSH/P2TR address is 62 characters
_HRP = np.frombuffer(params.BECH32_HRP.encode(), dtype=np.uint8).copy()


@njit(cache=True, inline="always")
def _encode_one(keys, r, hrp, out, orow, state, block, w, tmp, payload):  # type: ignore[no-untyped-def]
    """Encode ``keys[r]`` into ``out[orow]``; returns its length (0: no address)."""
    t = keys[r, 0]
    if t == T_P2PKH or t == T_P2SH:
        payload[0] = 0x00 if t == T_P2PKH else 0x05
        for i in range(20):
            payload[1 + i] = keys[r, 1 + i]
        return b58check_into(payload, 21, state, block, w, tmp, out, orow)
    if t == T_P2WPKH:
        return segwit_into(hrp, 0, keys[r], 1, 20, BECH32_CONST, out, orow)
    if t == T_P2WSH:
        return segwit_into(hrp, 0, keys[r], 1, 32, BECH32_CONST, out, orow)
    if t == T_P2TR:
        return segwit_into(hrp, 1, keys[r], 1, 32, BECH32M_CONST, out, orow)
    return 0


@njit(cache=True, nogil=True)
def _encode_keys_kernel(keys, hrp, out, lens):  # type: ignore[no-untyped-def]
    state = np.zeros(10, np.int64)
    block = np.zeros(64, np.uint8)
    w = np.zeros(80, np.int64)
    tmp = np.zeros(32, np.uint8)
    payload = np.zeros(21, np.uint8)
    for r in range(keys.shape[0]):
        lens[r] = _encode_one(keys, r, hrp, out, r, state, block, w, tmp, payload)


@njit(cache=True, nogil=True)
def _encode_keys_flat_kernel(keys, hrp, data, offsets):  # type: ignore[no-untyped-def]
    state = np.zeros(10, np.int64)
    block = np.zeros(64, np.uint8)
    w = np.zeros(80, np.int64)
    tmp = np.zeros(32, np.uint8)
    payload = np.zeros(21, np.uint8)
    row = np.zeros((1, MAX_ADDRESS_LEN), np.uint8)
    pos = 0
    offsets[0] = 0
    for r in range(keys.shape[0]):
        n = _encode_one(keys, r, hrp, row, 0, state, block, w, tmp, payload)
        for i in range(n):
            data[pos + i] = row[0, i]
        pos += n
        offsets[r + 1] = pos


def encode_address_keys_flat(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Address text of ``(n, 33)`` keys as one buffer: ``(offsets int32[n+1], data uint8)``.

    Row ``i`` is ``data[offsets[i]:offsets[i+1]]`` (ASCII); an empty row means the key has
    no address. One numba kernel that releases the GIL, no Python strings: this is what
    ingest uses to build Arrow string columns.
    """
    keys = np.ascontiguousarray(keys, dtype=np.uint8)
    if keys.ndim != 2 or keys.shape[1] != ADDR_KEY_LEN:
        raise ValueError(f"expected an (n, {ADDR_KEY_LEN}) uint8 array, got {keys.shape}")
    n = keys.shape[0]
    offsets = np.zeros(n + 1, np.int32)
    data = np.empty(max(1, n * MAX_ADDRESS_LEN), np.uint8)
    if n:
        _encode_keys_flat_kernel(keys, _HRP, data, offsets)
    return offsets, data[: int(offsets[-1])]


def encode_address_keys(keys: np.ndarray) -> list[str | None]:
    """Address text of every row of a ``(n, 33) uint8`` key array (``None`` where no address).

    Runs as one numba kernel plus one numpy conversion, for ingest-time volumes.
    """
    keys = np.ascontiguousarray(keys, dtype=np.uint8)
    if keys.ndim != 2 or keys.shape[1] != ADDR_KEY_LEN:
        raise ValueError(f"expected an (n, {ADDR_KEY_LEN}) uint8 array, got {keys.shape}")
    n = keys.shape[0]
    if n == 0:
        return []
    out = np.zeros((n, MAX_ADDRESS_LEN), np.uint8)
    lens = np.zeros(n, np.int64)
    _encode_keys_kernel(keys, _HRP, out, lens)
    texts: list[str | None] = out.view(f"S{MAX_ADDRESS_LEN}").ravel().astype(str).tolist()
    for i in np.flatnonzero(lens == 0).tolist():
        texts[i] = None
    return texts


def address_key_to_string(key: bytes | np.ndarray) -> str | None:
    """Address text of one 33-byte key, or ``None`` if the key carries no address."""
    arr = np.frombuffer(bytes(key), dtype=np.uint8)
    if arr.size != ADDR_KEY_LEN:
        raise ValueError(f"address key must be {ADDR_KEY_LEN} bytes, got {arr.size}")
    return encode_address_keys(arr.reshape(1, ADDR_KEY_LEN))[0]


def _key(script_type: int, payload: bytes) -> bytes:
    return bytes([script_type]) + payload + b"\x00" * (ADDR_KEY_LEN - 1 - len(payload))


def address_string_to_key(text: str) -> bytes:
    """33-byte key of a mainnet address string; AddressError saying what is wrong otherwise."""
    src = repr(text)
    if not isinstance(text, str) or not text:
        raise AddressError("empty address", source=src)
    if text != text.strip():
        raise AddressError("leading or trailing whitespace", source=src)
    low = text.lower()
    sep = low.rfind("1")
    hrp = low[:sep] if sep > 0 else ""
    if hrp in params.OTHER_NETWORK_HRPS:
        raise AddressError(
            f"{params.OTHER_NETWORK_HRPS[hrp]} address; chaintrail reads Bitcoin mainnet "
            f"(bech32 prefix {params.BECH32_HRP!r})",
            source=src,
        )
    if hrp == params.BECH32_HRP:
        version, program = segwit_decode(params.BECH32_HRP, text)
        if version == 0:
            return _key(T_P2WPKH if len(program) == 20 else T_P2WSH, program)
        if version == 1 and len(program) == 32:
            return _key(T_P2TR, program)
        raise AddressError(
            f"witness v{version} program of {len(program)} bytes: valid, but no "
            "address type is assigned to it yet (only v0 and v1 taproot)",
            source=src,
        )
    payload = b58check_decode(text)
    if len(payload) != 21:
        raise AddressError(
            f"decodes to {len(payload)} bytes, a legacy address has 21 (version + 20-byte hash)",
            source=src,
        )
    version = payload[0]
    if version == params.P2PKH_VERSION:
        return _key(T_P2PKH, payload[1:])
    if version == params.P2SH_VERSION:
        return _key(T_P2SH, payload[1:])
    if version in (params.TESTNET_P2PKH_VERSION, params.TESTNET_P2SH_VERSION):
        raise AddressError(
            "testnet address; chaintrail reads Bitcoin mainnet (prefix 1 or 3)", source=src
        )
    raise AddressError(
        f"unknown version byte 0x{version:02x} (mainnet P2PKH is 0x00, P2SH 0x05)", source=src
    )


def script_to_address(script: bytes) -> str | None:
    """Address text a scriptPubKey pays to (P2PK shown as its P2PKH), or ``None``."""
    _, key = classify_script(script)
    return address_key_to_string(key)


def key_script_type(key: bytes) -> ScriptType | None:
    """ScriptType an address key is shown as, or ``None`` for the no-address key."""
    return ScriptType(key[0]) if key[0] != 0xFF else None
