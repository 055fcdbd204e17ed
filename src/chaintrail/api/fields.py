"""Checks of request fields the API takes as text: Bitcoin addresses and transaction hashes.

Each returns the value or raises ``ValueError`` whose message says what was expected, so a
pydantic validator (422) and a service (400, via :func:`require_address`) word it the same way.
"""

from __future__ import annotations

import re

from chaintrail.chains.bitcoin.address import address_string_to_key
from chaintrail.errors import AddressError, InputError

_TXID = re.compile(r"[0-9a-fA-F]{64}")


def tx_hash_field(value: str) -> str:
    """``value`` if it is a transaction hash (64 hex digits); ValueError otherwise."""
    if not _TXID.fullmatch(value):
        raise ValueError(
            f"expected a transaction hash of 64 hex digits, got {value[:80]!r} ({len(value)} characters)"
        )
    return value


def bitcoin_address_field(value: str) -> str:
    """``value`` if it parses as a Bitcoin mainnet address; ValueError saying why not otherwise."""
    if _TXID.fullmatch(value):
        raise ValueError("expected a Bitcoin address, got a transaction hash (that goes in tx_hash)")
    try:
        address_string_to_key(value)
    except AddressError as exc:
        reason = str(exc).removeprefix(f"{exc.source}: ") if exc.source else str(exc)
        raise ValueError(f"expected a Bitcoin address, got {value[:80]!r} ({reason})") from exc
    return value


def require_address(value: str, field: str = "address") -> str:
    """:func:`bitcoin_address_field` for a query or path parameter: InputError naming ``field``."""
    try:
        return bitcoin_address_field(value)
    except ValueError as exc:
        raise InputError(str(exc), field=field) from exc
