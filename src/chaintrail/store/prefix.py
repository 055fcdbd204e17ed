"""Prefix search over a store generation's address strings and txids (what a search box needs:
``1A1zP``, ``bc1qxy``, ``f4184fc5`` ...), like GraphSense's search.

Each side keeps, per generation (in the store's cache), its ids sorted by the first 8 bytes of
the text as a big-endian integer; a prefix is a range of that order, found by binary search,
and longer prefixes are confirmed on the candidates. Bech32 addresses are stored in lower case,
so a ``BC1...`` query is lowered; Base58 is case-sensitive.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from chaintrail.store.cache import cached_arrays, fixed_column, read_column
from chaintrail.store.layout import Manifest

_HEX = frozenset("0123456789abcdef")


def _range(prefix: bytes) -> tuple[np.uint64, np.uint64]:
    head = prefix[:8]
    lo = int.from_bytes(head.ljust(8, b"\x00"), "big")
    hi = int.from_bytes(head.ljust(8, b"\xff"), "big")
    return np.uint64(lo), np.uint64(hi)


class PrefixIndex:
    """Addresses and txids of one store generation by text prefix."""

    def __init__(self, root: Path, m: Manifest) -> None:
        self.root, self.m = root, m

    def _addresses(self) -> dict[str, np.ndarray]:
        def build() -> dict[str, np.ndarray]:
            col = read_column(self.root, self.m, "addresses", "address")
            if col is None or len(col) == 0:
                return {"key": np.zeros(0, np.uint64), "id": np.zeros(0, np.int64)}
            col = col.cast(pa.large_string()).combine_chunks()
            offsets = np.frombuffer(col.buffers()[1], np.int64, count=len(col) + 1, offset=col.offset * 8)
            data = np.frombuffer(col.buffers()[2], np.uint8)
            n = len(col)
            head = np.zeros((n, 8), np.uint8)
            lens = np.minimum(np.diff(offsets), 8)
            for j in range(8):  # byte j of each string that has one
                has = lens > j
                head[has, j] = data[offsets[:-1][has] + j]
            key = head.view(">u8").ravel().astype(np.uint64)
            order = np.argsort(key, kind="stable")
            return {"key": key[order], "id": order.astype(np.int64)}

        return cached_arrays(self.root, self.m, "address_prefix", build)

    def _txids(self) -> dict[str, np.ndarray]:
        def build() -> dict[str, np.ndarray]:
            display = fixed_column(self.root, self.m, "txs", "txid", 32)  # display byte order
            key = np.ascontiguousarray(display[:, :8]).view(">u8").ravel().astype(np.uint64)
            order = np.argsort(key, kind="stable")
            return {"key": key[order], "id": order.astype(np.int64)}

        return cached_arrays(self.root, self.m, "txid_prefix", build)

    def address_ids(self, prefix: str, limit: int, strings) -> list[str]:  # type: ignore[no-untyped-def]
        """Up to ``limit`` address strings starting with ``prefix`` (``strings``: ids -> text)."""
        if prefix.lower().startswith("bc1"):
            prefix = prefix.lower()
        raw = prefix.encode("ascii", "replace")
        a = self._addresses()
        lo, hi = _range(raw)
        start, end = np.searchsorted(a["key"], lo, "left"), np.searchsorted(a["key"], hi, "right")
        found: list[str] = []
        for chunk in range(int(start), int(end), 1024):
            ids = a["id"][chunk : min(int(end), chunk + 1024)]
            found += [s for s in strings(ids) if s and s.startswith(prefix)]
            if len(found) >= limit:
                break
        return sorted(found)[:limit]

    def txids(self, prefix: str, limit: int, names) -> list[str]:  # type: ignore[no-untyped-def]
        """Up to ``limit`` txids (display hex) starting with hex ``prefix`` (``names``: ids -> hex)."""
        prefix = prefix.lower()
        if not prefix or not set(prefix) <= _HEX:
            return []
        t = self._txids()
        lo = np.uint64(int(prefix[:16].ljust(16, "0"), 16))
        hi = np.uint64(int(prefix[:16].ljust(16, "f"), 16))
        start, end = np.searchsorted(t["key"], lo, "left"), np.searchsorted(t["key"], hi, "right")
        found: list[str] = []
        for chunk in range(int(start), int(end), 1024):
            ids = t["id"][chunk : min(int(end), chunk + 1024)]
            found += [h for h in names(ids) if h.startswith(prefix)]
            if len(found) >= limit:
                break
        return sorted(found)[:limit]
