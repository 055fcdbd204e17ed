"""Work budgets: how much one trace, exposure, risk score, cluster search or neighbor listing may
do before it stops and says so.

A :class:`Budget` is the limit (wall time, outputs followed per hop, result records); a
:class:`Meter` measures one piece of work against it. Long loops ask :meth:`Meter.ok` between
steps (between trace hops, per CoinJoin demixed, per neighbor row, per search step: a clock
read, nanoseconds); when it answers False the work ends there and the answer carries
:meth:`Meter.report` (``{"cut": "time", ...}``) instead of running on. :meth:`Meter.cancel`
stops work from outside: the API when the client hangs up or the server shuts down, the CLI
on Ctrl-C.
"""

from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any

#: why work stopped early (the ``cut`` of a report)
TIME, RESULTS, CANCELLED, SHUTDOWN = "time", "results", "cancelled", "shutdown"


@dataclass(frozen=True)
class Budget:
    """Limits of one piece of work; None means no limit."""

    seconds: float | None = None  # wall-clock time for the work itself
    max_frontier: int | None = None  # outputs a trace follows per hop (the rest is cut)
    max_results: int | None = None  # flow records / rows a result may hold

    def start(self) -> Meter:
        """A meter for one piece of work starting now."""
        return Meter(self)

    def describe(self) -> str:
        """``"10 s, 10,000 outputs per hop, 50,000 results"`` (what is limited)."""
        parts = []
        if self.seconds is not None:
            parts.append(f"{self.seconds:g} s")
        if self.max_frontier is not None:
            parts.append(f"{self.max_frontier:,} outputs per hop")
        if self.max_results is not None:
            parts.append(f"{self.max_results:,} results")
        return ", ".join(parts) or "unlimited"


UNLIMITED = Budget()

_running: weakref.WeakSet[Meter] = weakref.WeakSet()
_running_lock = threading.Lock()


class Meter:
    """One piece of work measured against its budget; thread-safe to cancel."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.started = time.monotonic()
        self.deadline = None if budget.seconds is None else self.started + budget.seconds
        self.cut: str | None = None  # TIME, RESULTS, CANCELLED or SHUTDOWN once stopped
        self._cancel: str | None = None
        with _running_lock:
            _running.add(self)

    def ok(self, results: int = 0) -> bool:
        """True while the work may go on (``results``: how many it holds so far)."""
        if self.cut is not None:
            return False
        if self._cancel is not None:
            self.cut = self._cancel
        elif self.deadline is not None and time.monotonic() > self.deadline:
            self.cut = TIME
        elif self.budget.max_results is not None and results > self.budget.max_results:
            self.cut = RESULTS
        return self.cut is None

    def cancel(self, why: str = CANCELLED) -> None:
        """Ask the work to stop at its next check (from any thread or signal handler)."""
        self._cancel = why

    @property
    def cancel_requested(self) -> bool:
        """Whether :meth:`cancel` was called (the work may not have noticed yet)."""
        return self._cancel is not None

    def frontier(self, wanted: int) -> int:
        """``wanted`` outputs per hop, capped by the budget."""
        cap = self.budget.max_frontier
        return wanted if cap is None else min(wanted, cap)

    def report(self) -> dict[str, Any] | None:
        """None if the work ran to its end, else why it was cut and at which limits."""
        if self.cut is None:
            return None
        return {
            "cut": self.cut,
            "after_seconds": round(time.monotonic() - self.started, 3),
            "limits": {
                "seconds": self.budget.seconds,
                "max_frontier": self.budget.max_frontier,
                "max_results": self.budget.max_results,
            },
        }


def cancel_all(why: str = SHUTDOWN) -> int:
    """Cancel every meter still alive in this process (a server shutting down); returns how
    many."""
    with _running_lock:
        meters = list(_running)
    for m in meters:
        m.cancel(why)
    return len(meters)
