"""Mainnet address strings <-> 33-byte address keys (see :mod:`chaintrail.chains.model`).

* :func:`address_key_to_string` / :func:`encode_address_keys` — key(s) to the address text
  explorers show (``None`` for keys that carry no address); :func:`encode_address_keys_flat`
  the same as one offsets + bytes buffer (for Arrow columns at ingest volumes);
* :func:`address_string_to_key` — parse user input, raising :class:`AddressError` that says
  what is wrong (checksum, prefix, length, case, network);
* :func:`valid_address_mask` — the same verdict for many strings at once (imports).

Parsing is plain Python (no numba at import: a lookup of one typed address never starts it);
the vectorised functions run the kernels of :mod:`address_kernels`, imported on first use.
"""

from __future__ import annotations

import numpy as np

from chaintrail.chains.bitcoin import params
from chaintrail.chains.bitcoin.encoding import BECH32_MAX_LEN, b58check_decode, segwit_decode
from chaintrail.chains.model import ADDR_KEY_LEN, ScriptType
from chaintrail.errors import AddressError

_HRP = np.frombuffer(params.BECH32_HRP.encode(), dtype=np.uint8).copy()


def _kernels():  # type: ignore[no-untyped-def]
    # heavy optional dependency: the kernels import numba; loaded when keys are first encoded
    from chaintrail.chains.bitcoin import address_kernels

    return address_kernels


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
    if n == 0:
        return offsets, np.zeros(0, np.uint8)
    k = _kernels()
    data = np.empty(n * k.MAX_ADDRESS_LEN, np.uint8)
    k.encode_keys_flat_kernel(keys, _HRP, data, offsets)
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
    k = _kernels()
    out = np.zeros((n, k.MAX_ADDRESS_LEN), np.uint8)
    lens = np.zeros(n, np.int64)
    k.encode_keys_kernel(keys, _HRP, out, lens)
    texts: list[str | None] = out.view(f"S{k.MAX_ADDRESS_LEN}").ravel().astype(str).tolist()
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
            return _key(ScriptType.P2WPKH if len(program) == 20 else ScriptType.P2WSH, program)
        if version == 1 and len(program) == 32:
            return _key(ScriptType.P2TR, program)
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
        return _key(ScriptType.P2PKH, payload[1:])
    if version == params.P2SH_VERSION:
        return _key(ScriptType.P2SH, payload[1:])
    if version in (params.TESTNET_P2PKH_VERSION, params.TESTNET_P2SH_VERSION):
        raise AddressError(
            "testnet address; chaintrail reads Bitcoin mainnet (prefix 1 or 3)", source=src
        )
    raise AddressError(
        f"unknown version byte 0x{version:02x} (mainnet P2PKH is 0x00, P2SH 0x05)", source=src
    )


FEW_ADDRESSES = 4096  # up to this many: the codec (~20 µs an address) beats starting numba


def _accepted(text: str) -> bool:
    try:
        address_string_to_key(text)
    except AddressError:
        return False
    return True


def valid_address_mask(addresses: list[str]) -> np.ndarray:
    """``bool`` per string: would :func:`address_string_to_key` accept it? One kernel pass over
    all of them (checksums included), for imports of many thousands of addresses."""
    if len(addresses) <= FEW_ADDRESSES:  # the codec itself: faster than starting numba
        return np.array([_accepted(a) for a in addresses], np.bool_)
    return _mask_by_kernel(addresses)


def _mask_by_kernel(addresses: list[str]) -> np.ndarray:
    """:func:`valid_address_mask` in one numba kernel pass."""
    n = len(addresses)
    ok = np.zeros(n, np.bool_)
    enc = [a.encode("ascii", "replace") for a in addresses]
    lens = np.array([len(e) if len(e) <= BECH32_MAX_LEN else 0 for e in enc], np.int64)
    text = np.array([e[:BECH32_MAX_LEN] for e in enc], dtype=f"S{BECH32_MAX_LEN}")
    text = text.view(np.uint8).reshape(n, BECH32_MAX_LEN)
    k = _kernels()
    k.valid_addresses_kernel(text, lens, _HRP, k.B58_INDEX, k.BECH32_INDEX, ok)
    return ok
