"""Address sanity checks for imported tags: warnings, never errors (as GraphSense does).

Bitcoin addresses are checked with the chain module's ``address_string_to_key`` when it exists;
otherwise with the local Base58Check / Bech32(m) checks below. Ethereum-style addresses get a
shape check (``0x`` + 40 hex digits). Other currencies are only checked for stray whitespace.
"""

from __future__ import annotations

import hashlib

import numpy as np

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58)}
_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_INDEX = {c: i for i, c in enumerate(_BECH32)}
_BTC_VERSIONS = {0x00, 0x05, 0x6F, 0xC4}
_HEX = frozenset("0123456789abcdefABCDEF")


def _base58check_ok(s: str) -> bool:
    num = 0
    for ch in s:
        idx = _B58_INDEX.get(ch)
        if idx is None:
            return False
        num = num * 58 + idx
    pad = len(s) - len(s.lstrip("1"))
    raw = b"\x00" * pad + (num.to_bytes((num.bit_length() + 7) // 8, "big") if num else b"")
    if len(raw) != 25 or raw[0] not in _BTC_VERSIONS:
        return False
    return hashlib.sha256(hashlib.sha256(raw[:-4]).digest()).digest()[:4] == raw[-4:]


def _bech32_polymod(values: list[int]) -> int:
    gen = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (top >> i) & 1 else 0
    return chk


def _bech32_ok(s: str) -> bool:
    if s.lower() != s and s.upper() != s:
        return False
    s = s.lower()
    pos = s.rfind("1")
    hrp, data = s[:pos], s[pos + 1 :]
    if hrp not in ("bc", "tb", "bcrt") or len(data) < 7 or len(s) > 90:
        return False
    try:
        vals = [_BECH32_INDEX[c] for c in data]
    except KeyError:
        return False
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    const = _bech32_polymod(expanded + vals)
    witver = vals[0]
    return (witver == 0 and const == 1) or (witver > 0 and const == 0x2BC830A3)


def _btc_ok(address: str) -> bool:
    try:
        from chaintrail.chains.bitcoin.address import address_string_to_key  # type: ignore
    except ImportError:
        address_string_to_key = None
    if address_string_to_key is not None:
        try:
            address_string_to_key(address)
            return True
        except Exception:  # noqa: BLE001 - any rejection is "not a valid address" here
            return False
    low = address.lower()
    if low.startswith(("bc1", "tb1", "bcrt1")):
        return _bech32_ok(address)
    return _base58check_ok(address)


def invalid_btc_addresses(addresses: list[str]) -> list[int]:
    """Indexes of the strings in ``addresses`` that are not valid Bitcoin addresses.

    Vectorised: a numba kernel decodes Base58 and checks Bech32(m) checksums, hashlib checks the
    Base58Check checksums; each suspect is then confirmed by the chain module's
    ``address_string_to_key`` when available (else by the local pure-Python check).
    """
    from chaintrail.intel.address_kernel import KIND_BASE58, KIND_SEGWIT, decode_btc_addresses

    kind, raw = decode_btc_addresses(addresses)
    sha = hashlib.sha256
    suspects = np.flatnonzero(kind != KIND_SEGWIT).tolist()
    bad = []
    for i in suspects:
        if kind[i] == KIND_BASE58:
            r = raw[i].tobytes()
            if r[0] in _BTC_VERSIONS and sha(sha(r[:21]).digest()).digest()[:4] == r[21:]:
                continue
        if not _btc_ok(addresses[i]):
            bad.append(i)
    return bad


def address_warning(currency: str | None, address: str) -> str | None:
    """A one-line warning if ``address`` looks wrong for ``currency``; None if it looks fine."""
    if address != address.strip() or not address:
        return f"address contains whitespace or is empty: {address!r}"
    cur = (currency or "").upper()
    if cur == "BTC":
        if not _btc_ok(address):
            return f"possibly invalid BTC address (checksum or format): {address}"
    elif cur in ("ETH", "USDT", "USDC", "BSC", "ARB", "BEP20", "ETC", "MATIC"):
        if address.startswith(("0x", "0X")) and (
            len(address) != 42 or not set(address[2:]) <= _HEX
        ):
            return f"possibly invalid {cur} address (expected 0x + 40 hex digits): {address}"
    return None


def canonical_address(address: str) -> str:
    """The lookup key of an address: lower-cased for 0x/bc1/tb1/ltc1 forms, else unchanged."""
    low = address.lower()
    if low.startswith(("0x", "bc1", "tb1", "ltc1", "bcrt1")):
        return low
    return address
