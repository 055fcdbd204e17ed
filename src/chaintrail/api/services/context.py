"""ServiceContext: the app's handle on the store, kept up to date with what the store commits.

Every request asks :meth:`ServiceContext.chain` for the view it works on and uses that one
view to the end, so each answer comes from one consistent state. Before handing it out, the
context compares a :class:`StoreStamp` (a few ``stat`` calls: the manifest, the clustering
run's ``state.json``, the intel database and its log, and this process's own intel writes)
with the stamp the view was built at:

* a new store generation (an ingest committed): the next view is built in a background
  thread while requests keep getting the previous one (with fresh tags and clusters); it is
  swapped in whole when ready;
* a new clustering run or changed tags/links: the cluster sums and the tracing context (with
  its tags) are rebuilt on first use by the next request, which therefore already answers
  with them.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from chaintrail.analysis.cluster_state import DERIVED_NAME, STATE_FILE
from chaintrail.analysis.trace_models import TraceParams
from chaintrail.api.services.addresses import flows
from chaintrail.api.services.chainview import ChainView
from chaintrail.errors import NotFoundError, StoreError
from chaintrail.intel.database import IntelDatabase, intel_path
from chaintrail.rates import DailyRates, shipped_rates
from chaintrail.store import ChainStore
from chaintrail.store.layout import MANIFEST

SERVED = ("btc",)  # the store holds one Bitcoin chain
RETRY_FAILED_BUILD_SECONDS = 5.0
log = logging.getLogger("chaintrail.api")

FileSig = tuple[int, int, int] | None  # (inode, mtime ns, size) of a file, None if absent


def _sig(path: Path) -> FileSig:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


@dataclass(frozen=True)
class StoreStamp:
    """What a view was built from: equal stamps, same answers."""

    manifest: FileSig
    clusters: FileSig
    intel: tuple[FileSig, FileSig, int]

    @classmethod
    def read(cls, root: Path) -> StoreStamp:
        """The store's stamp now (files are replaced by rename, so a change shows in the inode)."""
        db = intel_path(root)
        return cls(
            manifest=_sig(root / MANIFEST),
            clusters=_sig(root / "derived" / DERIVED_NAME / STATE_FILE),
            intel=(_sig(db), _sig(db.with_name(db.name + ".wal")), IntelDatabase.of(root).writes),
        )


class ServiceContext:
    """Opens the store on first use and gives each request the current :class:`ChainView`."""

    def __init__(self, store_dir: Path) -> None:
        self.store_dir = Path(store_dir)
        self._lock = threading.Lock()  # guards the fields below
        self._view: ChainView | None = None
        self._stamp: StoreStamp | None = None
        self._building: StoreStamp | None = None  # a newer generation being built
        self._failed_at = 0.0
        self._rates: dict[str, DailyRates] = {}

    def check_currency(self, currency: str) -> str:
        """The currency if served; NotFoundError naming what is served otherwise."""
        if currency not in SERVED:
            raise NotFoundError(
                f"currency {currency[:20]!r} is not served here; served: {', '.join(SERVED)}"
            )
        return currency

    def rates(self, currency: str) -> DailyRates:
        """Shipped daily prices of a served currency."""
        self.check_currency(currency)
        if currency not in self._rates:
            self._rates[currency] = shipped_rates(currency)
        return self._rates[currency]

    def chain(self, currency: str) -> ChainView:
        """The view a request works on: the newest ready one (see the module doc)."""
        self.check_currency(currency)
        stamp = StoreStamp.read(self.store_dir)
        view, built = self._view, self._stamp
        if view is not None and built == stamp:
            return view
        if view is None:  # the first request waits for the first view
            with self._lock:
                if self._view is None:
                    self._view, self._stamp = self._build(stamp), stamp
                first: ChainView = self._view
            return first
        assert built is not None
        if stamp.manifest != built.manifest:
            self._build_in_background(stamp)
            stamp = replace(stamp, manifest=built.manifest)  # meanwhile: fresh tags, clusters
            if stamp == built:
                return view
        with self._lock:
            if self._view is view and self._stamp == built:
                self._view = view.refreshed(
                    clusters=stamp.clusters != built.clusters, intel=stamp.intel != built.intel
                )
                self._stamp = stamp
            current = self._view
        assert current is not None  # only ever replaced by a newer view, never emptied
        return current

    def _build(self, stamp: StoreStamp) -> ChainView:
        if stamp.manifest is None:
            raise StoreError(f"store {self.store_dir}: no chain store here")
        return ChainView(ChainStore.open(self.store_dir), SERVED[0], self.rates(SERVED[0]))

    def _build_in_background(self, stamp: StoreStamp) -> None:
        with self._lock:
            if self._building is not None:
                return
            if time.monotonic() - self._failed_at < RETRY_FAILED_BUILD_SECONDS:
                return
            self._building = stamp

        def build() -> None:
            try:
                view = self._build(stamp)
            except Exception:  # keep serving the last good view; retried a bit later
                log.exception("could not open the store's new generation; serving the last one")
                with self._lock:
                    self._building, self._failed_at = None, time.monotonic()
                return
            with self._lock:
                self._view, self._stamp, self._building = view, stamp, None

        threading.Thread(target=build, name="chaintrail-view", daemon=True).start()

    def warm(self) -> None:
        """Build every in-memory index now (what the first request would otherwise pay); nothing
        to do for a hub served without a chain store."""
        if not (self.store_dir / MANIFEST).exists():
            return
        view = self.chain(SERVED[0])
        view.clusters()
        tc = view.trace_context()
        if view.arrays.n_addresses:  # load the numba kernels from their on-disk cache now
            flows(view, 0, outgoing=True)
            params = TraceParams(hops=1)
            tc.tracer.run(tc.tracer.seeds_for_addresses(np.array([0]), params), params)
