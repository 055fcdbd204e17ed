"""Token metadata (name, symbol, decimals, total supply) from ``eth_call`` answers.

ERC-20 leaves ``name``/``symbol`` optional and early tokens return them as ``bytes32`` instead
of ``string`` (EOS, MKR): an answer is read as an ABI string when it has that shape, else as
a NUL-padded bytes32, as ethereum-etl does. Text is cleaned of NULs and control characters
(token contracts are attacker-written). A call that reverts or returns nothing is unknown
(None), never a guess.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from chaintrail.chains.ethereum import u256
from chaintrail.chains.ethereum.address import address_column
from chaintrail.chains.ethereum.batch import EthBatch

MAX_DECIMALS = 255  # decimals() is a uint8


def _bytes(answer: str | None) -> bytes | None:
    if not answer or answer == "0x":
        return None
    try:
        return bytes.fromhex(answer[2:] if answer.startswith("0x") else answer)
    except ValueError:
        return None


def _clean(text: str) -> str:
    return "".join(c for c in text if c.isprintable()).strip()


def decode_text(answer: str | None) -> str | None:
    """An ``eth_call`` answer of ``name()``/``symbol()``: ABI string, else bytes32 text."""
    raw = _bytes(answer)
    if raw is None:
        return None
    if len(raw) >= 64:
        off = int.from_bytes(raw[:32], "big")
        if off + 32 <= len(raw):
            n = int.from_bytes(raw[off : off + 32], "big")
            if off + 32 + n <= len(raw):
                return _clean(raw[off + 32 : off + 32 + n].decode("utf-8", "replace"))
    return _clean(raw[:32].rstrip(b"\0").decode("utf-8", "replace"))


def decode_uint(answer: str | None, limit: int = (1 << 256) - 1) -> int | None:
    """An ``eth_call`` answer of a ``uint`` getter; None if empty or above ``limit``."""
    raw = _bytes(answer)
    if raw is None or len(raw) < 32:
        return None
    v = int.from_bytes(raw[:32], "big")
    return v if v <= limit else None


def set_tokens(b: EthBatch, addresses: Sequence[str], names: Sequence[str | None],
               symbols: Sequence[str | None], decimals: Sequence[int | None],
               supplies: Sequence[int | None], block_number: int | None = None) -> None:  # fmt: skip
    """Fill the ``tok_*`` registry columns of ``b``."""
    b.tok_address = address_column(addresses)
    b.tok_name, b.tok_symbol = list(names), list(symbols)
    b.tok_decimals = np.array([-1 if d is None else d for d in decimals], np.int16)
    b.tok_total_supply = u256.from_ints([s or 0 for s in supplies])
    b.tok_total_supply_has = np.array([s is not None for s in supplies], bool)
    b.tok_block_number = np.full(len(addresses), -1 if block_number is None else block_number, np.int64)
