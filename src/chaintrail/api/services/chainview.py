"""One served chain in memory: ids <-> strings, blocks, per-address aggregates, clusters, prices.

Everything a request needs is an array lookup: the store's memory-mapped ``ChainArrays``,
its txid and address indexes, the block columns, this package's :class:`AddressActivity`, and
the cluster labels (address -> smallest address id of its cluster) plus per-cluster sums.

A view is one store generation; what is derived from the clustering run and the intel
database (cluster sums, the tracing context with its tags) is built on first use and dropped
by :meth:`ChainView.refreshed` when those change (see ``context.ServiceContext``).
"""

from __future__ import annotations

import copy
import functools
import threading
from pathlib import Path

import numpy as np

from chaintrail.analysis.clustering import load_clusters
from chaintrail.analysis.trace_store import TraceContext
from chaintrail.api.services.addrindex import AddressActivity, load_or_build
from chaintrail.chains.bitcoin.address import address_string_to_key
from chaintrail.chains.model import hash_to_hex
from chaintrail.errors import NotFoundError, ValidationError
from chaintrail.intel.tracing import open_trace_context
from chaintrail.rates import DAY, DailyRates
from chaintrail.store import ChainStore
from chaintrail.store.cache import fixed_column, numpy_column
from chaintrail.store.indexes import AddressIdIndex, TxIndex


class ChainView:
    """Read-only, thread-safe lookups over one opened store generation (one currency)."""

    def __init__(self, store: ChainStore, currency: str, rates: DailyRates) -> None:
        self.store = store
        self.currency = currency
        self.rates = rates
        root, m = Path(store.root), store.manifest
        self.manifest = m
        self.arrays = store.arrays()
        self.txidx = TxIndex(root, m)
        self.addridx = AddressIdIndex(root, m, store.con)
        self.block_time = numpy_column(root, m, "blocks", "time", "i8")
        self.block_height = numpy_column(root, m, "blocks", "height", "i8")
        self.block_ntx = numpy_column(root, m, "blocks", "tx_count", "i8")
        self.block_first_tx = numpy_column(root, m, "blocks", "first_tx_id", "i8")
        self.tx_usd = self._tx_usd()
        self.index: AddressActivity = load_or_build(
            root / "derived" / "api",
            {"generation": int(m.generation), "n_txs": int(m.n_txs)},
            lambda: self.arrays,
            lambda _a: self.tx_usd,
        )
        self.tip_time = int(self.block_time[-1]) if self.block_time.size else 0
        self._derived_lock = threading.Lock()
        self._clusters: tuple[np.ndarray, dict[str, np.ndarray]] | None = None
        self._trace_context: TraceContext | None = None

    def refreshed(self, clusters: bool, intel: bool) -> ChainView:
        """This generation's view with the caches derived from a changed clustering run
        (``clusters``) or changed tags (``intel``) left to be rebuilt on first use."""
        view = copy.copy(self)
        view._derived_lock = threading.Lock()
        if clusters:
            view._clusters = None
        if clusters or intel:
            view._trace_context = None
        return view

    def trace_context(self) -> TraceContext:
        """The tracing context (tracer, clusters, attribution, stop mask), built on first use."""
        if self._trace_context is None:
            with self._derived_lock:
                if self._trace_context is None:
                    self._trace_context = open_trace_context(self.store)
        return self._trace_context

    # -- prices -----------------------------------------------------------------------------
    def _tx_usd(self) -> np.ndarray:
        days = np.asarray(self.arrays.tx_time, dtype=np.int64) // DAY - self.rates.first_day
        ok = (days >= 0) & (days < self.rates.usd.shape[0])
        usd = np.full(days.shape[0], np.nan)
        usd[ok] = self.rates.usd[days[ok]]
        return usd

    def value(self, amount: int, timestamp: int | None = None) -> dict:
        """Value object of ``amount`` priced at ``timestamp`` (default: the chain tip's time)."""
        return self.rates.value(int(amount), self.tip_time if timestamp is None else timestamp)

    # -- ids and strings --------------------------------------------------------------------
    def address_id(self, text: str) -> int:
        """Address id of an address string: AddressError if malformed, NotFoundError if unseen."""
        key = address_string_to_key(text)
        aid = int(self.addridx.ids_of_keys(np.frombuffer(key, np.uint8))[0])
        if aid < 0:
            raise NotFoundError(f"address {text!r} not found in the {self.currency} store")
        return aid

    def address_str(self, aid: int) -> str:
        """Address string of an id."""
        return self.addridx.strings(np.array([aid]))[0] or ""

    def address_strs(self, ids: np.ndarray) -> list[str]:
        """Address strings of many ids."""
        return [s or "" for s in self.addridx.strings(np.asarray(ids, np.int64))]

    def tx_id(self, text: str) -> int:
        """Tx id of a display-hex txid: ValidationError if malformed, NotFoundError if absent."""
        raw = text.strip().lower()
        if len(raw) != 64 or any(c not in "0123456789abcdef" for c in raw):
            raise ValidationError(f"tx hash {text[:80]!r}: expected 64 hex characters")
        tid = self.txidx.lookup(bytes.fromhex(raw)[::-1])
        if tid < 0:
            raise NotFoundError(f"transaction {raw} not found in the {self.currency} store")
        return tid

    def tx_hash(self, tid: int) -> str:
        """Display-hex txid of a tx id."""
        return hash_to_hex(self.txidx.txid[tid])

    def tx_stamp(self, tid: int) -> dict | None:
        """``{height, timestamp, tx_hash}`` of a tx id, None for -1."""
        if tid < 0:
            return None
        a = self.arrays
        return {
            "height": int(a.tx_height[tid]),
            "timestamp": int(a.tx_time[tid]),
            "tx_hash": self.tx_hash(tid),
        }

    @functools.cached_property
    def block_hashes(self) -> np.ndarray:
        """(n_blocks, 32) block hashes in display order, as the store keeps them."""
        return fixed_column(Path(self.store.root), self.manifest, "blocks", "hash", 32)

    def block_row(self, height: int) -> int:
        """Row of a block height in the block columns; NotFoundError if not stored."""
        row = int(np.searchsorted(self.block_height, height))
        if row >= self.block_height.shape[0] or int(self.block_height[row]) != height:
            raise NotFoundError(f"block {height} not found in the {self.currency} store")
        return row

    # -- clusters ---------------------------------------------------------------------------
    def clusters(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """(cluster label per address, per-cluster sums indexed by cluster id)."""
        if self._clusters is None:
            with self._derived_lock:
                if self._clusters is None:
                    self._clusters = self._build_clusters()
        return self._clusters

    def _build_clusters(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        n = self.arrays.n_addresses
        try:
            labels = np.asarray(load_clusters(self.store).labels, dtype=np.int64)
        except NotFoundError:
            labels = np.zeros(0, np.int64)
        full = np.arange(n, dtype=np.int64)
        full[: min(n, labels.shape[0])] = labels[:n]
        ix = self.index
        sums = {
            "received": np.bincount(full, weights=ix.received, minlength=n).astype(np.int64),
            "spent": np.bincount(full, weights=ix.spent, minlength=n).astype(np.int64),
            "size": np.bincount(full, minlength=n).astype(np.int64),
        }
        order = np.argsort(full, kind="stable")
        sums["members"] = order
        sums["member_start"] = np.concatenate([[0], np.cumsum(sums["size"])])
        return full, sums

    def cluster_of(self, aid: int) -> int:
        """Cluster id of an address id."""
        return int(self.clusters()[0][aid])

    def members(self, cid: int) -> np.ndarray:
        """Address ids of a cluster (ascending); NotFoundError if ``cid`` is no cluster id."""
        labels, sums = self.clusters()
        if cid < 0 or cid >= labels.shape[0] or sums["size"][cid] == 0:
            raise NotFoundError(f"cluster {cid} not found in the {self.currency} store")
        lo, hi = sums["member_start"][cid], sums["member_start"][cid + 1]
        return sums["members"][lo:hi]
