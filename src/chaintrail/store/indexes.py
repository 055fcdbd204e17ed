"""Point lookups: txid -> tx id, address -> address id, and back, in microseconds.

* txids: a per-generation cache of every txid (internal order, by tx id), the first word of
  each sorted with its tx id (binary search), and each tx's first output id;
* addresses: the writer's address-map snapshot (memory-mapped numba hash table and keys
  file) plus, if a crash left it behind the manifest, a DuckDB look at the addresses
  committed after it;
  address strings by id come from a per-generation cache (offsets + UTF-8 bytes).

Both are read-only arrays once built, so threads may share them; the DuckDB fallback asks
for the calling thread's own cursor each time.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from chaintrail.store.addressmap import KEYS_FILE, lookup, map_keys
from chaintrail.store.cache import cached_arrays, fixed_column, numpy_column, read_column
from chaintrail.store.layout import Manifest
from chaintrail.store.maps import find_snapshot


class TxIndex:
    """txid <-> tx id for one store generation."""

    def __init__(self, root: Path, m: Manifest) -> None:
        def build() -> dict[str, np.ndarray]:
            txid = np.ascontiguousarray(fixed_column(root, m, "txs", "txid", 32)[:, ::-1])
            word0 = txid.view("<u8")[:, 0] if txid.shape[0] else np.zeros(0, np.uint64)
            order = np.argsort(word0, kind="stable")
            return {
                "txid": txid,
                "sorted_word0": word0[order],
                "sorted_tx": order.astype(np.int64),
                "first_out": numpy_column(root, m, "txs", "first_out_id", "i8"),
            }

        a = cached_arrays(root, m, "txindex", build)
        self.txid: np.ndarray = a["txid"]
        self._word0: np.ndarray = a["sorted_word0"]
        self._tx: np.ndarray = a["sorted_tx"]
        self.first_out: np.ndarray = a["first_out"]

    def lookup(self, txid_internal: bytes) -> int:
        """Tx id of a txid (internal byte order), -1 if absent (last one if duplicated)."""
        w = np.frombuffer(txid_internal[:8], "<u8")[0]
        lo = int(np.searchsorted(self._word0, w, "left"))
        hi = int(np.searchsorted(self._word0, w, "right"))
        found = -1
        for i in range(lo, hi):
            t = int(self._tx[i])
            if self.txid[t].tobytes() == txid_internal:
                found = max(found, t)
        return found

    def tx_of_output(self, out_ids: np.ndarray) -> np.ndarray:
        """Tx id that created each output id."""
        return np.searchsorted(self.first_out, out_ids, "right") - 1


_NO_KEYS = np.zeros((1, 33), np.uint8)


class AddressIdIndex:
    """Address key -> address id, and address id -> string, for one store generation.

    ``cursor`` gives the calling thread's DuckDB cursor (``ChainStore.con``); it is only
    needed when the map snapshot is behind the manifest.
    """

    def __init__(
        self, root: Path, m: Manifest, cursor: Callable[[], duckdb.DuckDBPyConnection]
    ) -> None:
        self.root, self.m, self.cursor = root, m, cursor
        self._lock = threading.Lock()
        snap = find_snapshot(root, m)
        self._covered = 0
        self._table: dict[str, np.ndarray] | None = None
        if snap is not None:
            meta = json.loads((snap / "meta.json").read_text())
            self._covered = int(meta["n_addresses"])
            self._table = {"slot": np.load(snap / "addr_slot.npy", mmap_mode="r")}
            self._keys = map_keys(root / "maps" / KEYS_FILE, self._covered)
        self._strings: dict[str, np.ndarray] | None = None

    def ids_of_keys(self, keys: np.ndarray) -> np.ndarray:
        """Address ids of (n,33) keys, -1 where unknown."""
        keys = np.ascontiguousarray(keys, np.uint8).reshape(-1, 33)
        out = np.full(keys.shape[0], -1, np.int64)
        if self._table is not None and keys.shape[0]:
            out = lookup(self._table, self._keys, _NO_KEYS, keys)
            out[out >= self.m.n_addresses] = -1
        if self._covered < self.m.n_addresses:
            con = self.cursor()
            for i in np.flatnonzero(out < 0):
                row = con.execute(
                    "SELECT address_id FROM addresses WHERE address_id >= ? AND key = ?",
                    [self._covered, keys[i].tobytes()],
                ).fetchall()
                if row:
                    out[i] = row[0][0]
        return out

    def strings(self, ids: np.ndarray) -> list[str | None]:
        """Address strings of ids (None for -1)."""
        if self._strings is None:
            root, m = self.root, self.m

            def build() -> dict[str, np.ndarray]:
                col = read_column(root, m, "addresses", "address")
                if col is None:
                    return {"offsets": np.zeros(1, np.int64), "data": np.zeros(0, np.uint8)}
                col = col.cast(pa.large_string()).combine_chunks()
                offsets = np.frombuffer(
                    col.buffers()[1], np.int64, count=len(col) + 1, offset=col.offset * 8
                )
                data = np.frombuffer(col.buffers()[2], np.uint8)
                return {"offsets": offsets - offsets[0], "data": data[offsets[0] : offsets[-1]]}

            with self._lock:
                if self._strings is None:
                    self._strings = cached_arrays(root, m, "address_strings", build)
        off, data = self._strings["offsets"], self._strings["data"]
        out: list[str | None] = []
        for i in np.asarray(ids, np.int64).tolist():
            out.append(None if i < 0 else data[off[i] : off[i + 1]].tobytes().decode())
        return out
