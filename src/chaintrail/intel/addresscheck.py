"""Address checks for intel: typed addresses are refused when invalid (:func:`checked_address`),
imported tags only warned about (as GraphSense does).

Bitcoin addresses are judged by the chain codec (:mod:`chaintrail.chains.bitcoin.address`), one
at a time or vectorised; Ethereum-style addresses by shape (``0x`` + 40 hex digits). Other
currencies are only checked for stray whitespace.
"""

from __future__ import annotations

import numpy as np

from chaintrail.chains.bitcoin.address import address_string_to_key, valid_address_mask
from chaintrail.errors import AddressError

_HEX = frozenset("0123456789abcdefABCDEF")


def _btc_ok(address: str) -> bool:
    try:
        address_string_to_key(address)
    except AddressError:
        return False
    return True


def invalid_btc_addresses(addresses: list[str]) -> list[int]:
    """Indexes of the strings in ``addresses`` that are not valid Bitcoin (mainnet) addresses,
    judged by the chain codec in one vectorised pass."""
    return np.flatnonzero(~valid_address_mask(addresses)).tolist()


#: Currencies whose addresses are 0x + 40 hex digits (Ethereum and its tokens and sidechains).
ETH_STYLE = frozenset({"ETH", "USDT", "USDC", "BSC", "ARB", "BEP20", "ETC", "MATIC"})


def checked_address(address: str, currency: str = "BTC") -> str:
    """The lookup key (:func:`canonical_address`) of a typed address; AddressError naming it and
    what is wrong when it cannot be an address of ``currency`` (Bitcoin: the chain codec, every
    checksum; Ethereum-style: 0x + 40 hex digits; others: no whitespace, not empty)."""
    cur = (currency or "BTC").upper()
    if cur == "BTC":
        address_string_to_key(address)
    elif cur in ETH_STYLE:
        if len(address) != 42 or not address.startswith(("0x", "0X")) or not set(address[2:]) <= _HEX:
            raise AddressError(f"not a {cur} address (expected 0x + 40 hex digits)", source=repr(address))
    elif not address or address != address.strip() or any(c.isspace() for c in address):
        raise AddressError(f"not a {cur} address (empty or contains whitespace)", source=repr(address))
    return canonical_address(address)


def address_warning(currency: str | None, address: str) -> str | None:
    """A one-line warning if ``address`` looks wrong for ``currency``; None if it looks fine."""
    if address != address.strip() or not address:
        return f"address contains whitespace or is empty: {address!r}"
    cur = (currency or "").upper()
    if cur == "BTC":
        if not _btc_ok(address):
            return f"possibly invalid BTC address (checksum or format): {address}"
    elif cur in ETH_STYLE:
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
