"""One raw transaction (what ``getrawtransaction TXID false`` and ZMQ ``rawtx`` carry): its
txid and the outpoints it spends, without decoding the rest.

Enough for watching the mempool: which outputs an unconfirmed transaction would spend.
"""

from __future__ import annotations

import hashlib

from chaintrail.errors import DecodeError


def _varint(raw: bytes, pos: int, source: str) -> tuple[int, int]:
    if pos >= len(raw):
        raise DecodeError("truncated transaction", source=source, offset=pos)
    first = raw[pos]
    if first < 0xFD:
        return first, pos + 1
    size = {0xFD: 2, 0xFE: 4, 0xFF: 8}[first]
    if pos + 1 + size > len(raw):
        raise DecodeError("truncated transaction", source=source, offset=pos)
    return int.from_bytes(raw[pos + 1 : pos + 1 + size], "little"), pos + 1 + size


def spent_outpoints(raw: bytes, source: str = "<tx>") -> tuple[str, list[tuple[bytes, int]]]:
    """``(txid display hex, [(prev txid internal order, vout)])`` of a serialised transaction
    (BIP144 witness form or legacy); DecodeError naming ``source`` and the offset if malformed."""
    segwit = len(raw) > 6 and raw[4] == 0 and raw[5] == 1
    pos = 6 if segwit else 4
    n_in, pos = _varint(raw, pos, source)
    ins: list[tuple[bytes, int]] = []
    for _ in range(n_in):
        if pos + 36 > len(raw):
            raise DecodeError("truncated input", source=source, offset=pos)
        ins.append((raw[pos : pos + 32], int.from_bytes(raw[pos + 32 : pos + 36], "little")))
        n, pos = _varint(raw, pos + 36, source)
        pos += n + 4
    n_out, pos = _varint(raw, pos, source)
    for _ in range(n_out):
        n, pos = _varint(raw, pos + 8, source)
        pos += n
    if pos + 4 > len(raw):
        raise DecodeError("truncated transaction", source=source, offset=pos)
    body = raw[6:pos] if segwit else raw[4:pos]
    stripped = raw[:4] + body + raw[-4:]
    if not segwit and pos + 4 != len(raw):
        raise DecodeError(f"{len(raw) - pos - 4} stray bytes after the transaction", source=source, offset=pos + 4)  # fmt: skip
    txid = hashlib.sha256(hashlib.sha256(stripped).digest()).digest()[::-1].hex()
    return txid, ins
