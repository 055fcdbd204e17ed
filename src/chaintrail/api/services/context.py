"""ServiceContext: the per-app handle on the store, opened lazily and shared by all requests."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from chaintrail.errors import NotFoundError, StoreError
from chaintrail.rates import DailyRates, shipped_rates

SERVED = ("btc",)  # the store holds one Bitcoin chain


class ServiceContext:
    """Opens the store on first use; gives each request the :class:`ChainView` it asks for."""

    def __init__(self, store_dir: Path) -> None:
        self.store_dir = Path(store_dir)
        self._lock = threading.Lock()
        self._view = None
        self._store = None
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

    def store(self):  # noqa: ANN201 - chaintrail.store.ChainStore
        """The opened chain store (StoreError if the directory holds none)."""
        with self._lock:
            if self._store is None:
                from chaintrail.store import ChainStore

                if not (self.store_dir / "MANIFEST.json").exists():
                    raise StoreError(f"store {self.store_dir}: no chain store here")
                self._store = ChainStore.open(self.store_dir)
            return self._store

    def chain(self, currency: str):  # noqa: ANN201 - ChainView
        """The in-memory view of a served chain (built on first use)."""
        self.check_currency(currency)
        rates = self.rates(currency)
        store = self.store()
        with self._lock:
            if self._view is None:
                from chaintrail.api.services.chainview import ChainView

                self._view = ChainView(store, currency, rates)
            return self._view

    def warm(self) -> None:
        """Build every in-memory index now (what the first request would otherwise pay)."""
        from chaintrail.api.services.addresses import flows
        from chaintrail.api.services.analysis import trace_context

        view = self.chain(SERVED[0])
        view.clusters()
        trace_context(view)
        if view.arrays.n_addresses:  # load the numba kernels from their on-disk cache now
            flows(view, 0, outgoing=True)
            from chaintrail.analysis.trace_models import TraceParams

            tc = trace_context(view)
            params = TraceParams(hops=1)
            tc.tracer.run(tc.tracer.seeds_for_addresses(np.array([0]), params), params)
