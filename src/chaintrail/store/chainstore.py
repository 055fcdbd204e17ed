"""ChainStore: the read side of a store directory, plus the door to its one writer.

A ChainStore may be shared by threads: :meth:`ChainStore.con` gives each thread its own
cursor of the generation's DuckDB connection (one connection object must never run two
statements at once: it refuses, or worse, hands one caller the rows of another's query), and
the lookup indexes are immutable arrays built once under a lock.
"""

from __future__ import annotations

import functools
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np

from chaintrail.chains.model import hex_to_hash
from chaintrail.errors import AddressError, NotFoundError, StoreError
from chaintrail.store import views
from chaintrail.store.arrays import ChainArrays
from chaintrail.store.layout import MANIFEST, Manifest, read_manifest, write_json_atomic
from chaintrail.store.queries import address_info, block_info, tx_info

if TYPE_CHECKING:  # the index modules load numba kernels: imported where first needed
    from chaintrail.store.indexes import AddressIdIndex, TxIndex


class ChainStore:
    """A store directory at one committed generation (call :meth:`refresh` to see newer ones)."""

    def __init__(self, root: Path, manifest: Manifest) -> None:
        self.root = root
        self.manifest = manifest
        self._con: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.RLock()
        self._local = threading.local()

    @classmethod
    def open(cls, path: str | os.PathLike[str], create: bool = False) -> ChainStore:
        """Open the store at ``path``; with ``create`` make an empty one if there is none."""
        root = Path(path)
        if not (root / MANIFEST).exists():
            if not create:
                raise StoreError(
                    f"{root}: no chaintrail store here (run `chaintrail ingest` or pass --store)"
                )
            if root.exists() and not root.is_dir():
                raise StoreError(f"{root}: exists and is not a directory")
            root.mkdir(parents=True, exist_ok=True)
            (root / "LOCK").touch()
            write_json_atomic(root / MANIFEST, Manifest().to_json())
        return cls(root, read_manifest(root))

    def refresh(self) -> None:
        """Re-read the manifest; drops caches of the previous generation.

        Not for a store other threads are reading: a server opens a new ChainStore per
        generation instead (see ``api.services.context``).
        """
        m = read_manifest(self.root)
        if m.generation != self.manifest.generation:
            with self._lock:
                self.manifest = m
                self.close()
                for name in ("_tx_index", "_address_index"):
                    self.__dict__.pop(name, None)

    def close(self) -> None:
        """Close the DuckDB connection and every thread's cursor (reopened on demand)."""
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None

    @property
    def generation(self) -> int:
        """Bumps on every commit; derived data is keyed by it."""
        return self.manifest.generation

    def tip(self) -> dict[str, Any] | None:
        """``{"height", "hash"}`` of the last committed block, or None for an empty store."""
        m = self.manifest
        if m.tip_hash is None:
            return None
        return {"height": m.tip_height, "hash": m.tip_hash}

    def con(self) -> duckdb.DuckDBPyConnection:
        """This thread's DuckDB cursor over the tables and derived views of this generation.

        Every thread gets its own cursor (a connection of its own to the one in-memory
        database holding the views), so concurrent queries never share a connection.
        """
        base = self._con
        local = self._local
        if base is None or getattr(local, "base", None) is not base:
            with self._lock:
                if self._con is None:
                    self._con = views.connect(self.root, self.manifest)
                base = self._con
                local.cursor = base.cursor()
                local.base = base
        cursor: duckdb.DuckDBPyConnection = local.cursor
        return cursor

    def writer(self, **kwargs: Any):  # type: ignore[no-untyped-def]
        """The exclusive :class:`~chaintrail.store.writer.StoreWriter` (StoreError if locked)."""
        from chaintrail.store.writer import StoreWriter

        self.close()
        return StoreWriter(self.root, **kwargs)

    def arrays(self) -> ChainArrays:
        """The chain as memory-mapped numpy arrays, built once per generation."""
        from chaintrail.store.build_arrays import load_chain_arrays

        return load_chain_arrays(self.root, self.manifest)

    def derived_dir(self, name: str) -> Path:
        """A folder for analysis outputs named ``name`` (created)."""
        path = self.root / "derived" / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    # ------------------------------------------------------------------ lookups
    # the index modules load numba kernels (~0.2 s): imported when a lookup first needs them
    @functools.cached_property
    def _tx_index(self) -> TxIndex:
        from chaintrail.store.indexes import TxIndex

        with self._lock:
            return TxIndex(self.root, self.manifest)

    @functools.cached_property
    def _address_index(self) -> AddressIdIndex:
        from chaintrail.store.indexes import AddressIdIndex

        with self._lock:
            return AddressIdIndex(self.root, self.manifest, self.con)

    def tx_id(self, txid_hex: str) -> int:
        """Dense id of a txid (display hex); NotFoundError if unknown or malformed."""
        try:
            internal = hex_to_hash(txid_hex.strip().lower())
        except ValueError as exc:
            raise NotFoundError(f"txid {txid_hex!r} is not 64 hex characters") from exc
        found = self._tx_index.lookup(internal)
        if found < 0:
            raise NotFoundError(f"txid {txid_hex} is not in the store")
        return found

    def txids_hex(self, tx_ids: np.ndarray | list[int]) -> list[str]:
        """Display hex txids of dense tx ids."""
        txid = self._tx_index.txid
        return [txid[int(t)][::-1].tobytes().hex() for t in np.asarray(tx_ids).tolist()]

    def address_id(self, address: str) -> int:
        """Dense id of an address string; AddressError if malformed, NotFoundError if unknown."""
        found = int(self.address_ids([address])[0])
        if found < 0:
            raise NotFoundError(f"address {address} is not in the store")
        return found

    def address_ids(self, addresses: list[str]) -> np.ndarray:
        """Dense ids of address strings, -1 where unknown (AddressError if one is malformed)."""
        from chaintrail.chains.bitcoin.address import address_string_to_key

        keys = np.zeros((len(addresses), 33), np.uint8)
        for i, a in enumerate(addresses):
            key = address_string_to_key(a.strip())
            if len(key) != 33:
                raise AddressError("not an address key", source=a)
            keys[i] = np.frombuffer(key, np.uint8)
        return self._address_index.ids_of_keys(keys)

    def address_strings(self, ids: np.ndarray | list[int]) -> list[str | None]:
        """Address strings of dense address ids (None for -1)."""
        return self._address_index.strings(np.asarray(ids, np.int64))

    def tx_of_outputs(self, out_ids: np.ndarray) -> np.ndarray:
        """Dense tx id that created each output id."""
        return self._tx_index.tx_of_output(np.asarray(out_ids, np.int64))

    # ------------------------------------------------------------------ JSON views
    def block(self, ref: str | int) -> dict[str, Any]:
        """A block by height or hash as a JSON-ready dict (NotFoundError if absent)."""
        return block_info(self, ref)

    def tx(self, txid_hex: str) -> dict[str, Any]:
        """A transaction with its inputs and outputs as a JSON-ready dict."""
        return tx_info(self, txid_hex)

    def address(self, address: str) -> dict[str, Any]:
        """Balance, totals, tx count and first/last seen height of an address."""
        return address_info(self, address)

    def stats(self) -> dict[str, Any]:
        """Counts, tip and bytes on disk."""
        m = self.manifest
        size = sum(
            f.stat().st_size for f in (self.root / "segments").rglob("*") if f.is_file()
        ) if (self.root / "segments").exists() else 0  # fmt: skip
        total = sum(f.stat().st_size for f in self.root.rglob("*") if f.is_file())
        return {
            "generation": m.generation,
            "blocks": m.n_blocks,
            "tip_height": m.tip_height if m.tip_hash else None,
            "tip_hash": m.tip_hash,
            "txs": m.n_txs,
            "inputs": m.n_inputs,
            "outputs": m.n_outputs,
            "addresses": m.n_addresses,
            "utxos": m.n_utxos,
            "segments": len(m.segments),
            "gaps": m.gaps,
            "parquet_bytes": size,
            "store_bytes": total,
        }
