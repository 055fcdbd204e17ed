"""Long analysis at the command line: a work budget, progress on a terminal, and Ctrl-C.

``--time-limit`` / ``--max-results`` set the :class:`~chaintrail.budget.Budget` of a trace,
exposure or risk run (no limit by default; the API's default is 6 s). While the work runs,
:func:`metered` shows the hop being traced (on a terminal only) and turns the first Ctrl-C
into "stop at the next hop and show what was found" (the result then says it was cut and the
command exits 130); a second Ctrl-C quits at once.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Annotated, Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from chaintrail.budget import CANCELLED, Budget, Meter
from chaintrail.cli.common import err_console

TimeLimitOption = Annotated[
    float | None,
    typer.Option(
        "--time-limit",
        min=0.001,
        help="Stop after this many seconds and show what was found (default: no limit).",
    ),
]
MaxResultsOption = Annotated[
    int | None,
    typer.Option(
        "--max-results",
        min=1,
        help="Stop once the result holds this many flow records (default: no limit).",
    ),
]

HopProgress = Callable[[int, int, int], None]


@contextmanager
def metered(
    what: str, time_limit: float | None, max_results: int | None
) -> Iterator[tuple[Meter, HopProgress]]:
    """A meter for one command's work and a per-hop progress callback (see module doc)."""
    meter = Budget(seconds=time_limit, max_results=max_results).start()
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    )
    task = progress.add_task(what, total=None)

    def on_hop(hop: int, hops: int, frontier: int) -> None:
        progress.update(
            task, description=f"{what}: hop {hop}/{hops}, {frontier:,} outputs (Ctrl-C: stop)"
        )

    def interrupt(signum: int, frame: FrameType | None) -> None:
        if meter.cancel_requested:  # the second Ctrl-C: quit now
            raise KeyboardInterrupt
        meter.cancel(CANCELLED)
        err_console.print("[yellow]stopping at the next hop (Ctrl-C again to quit)[/]")

    main = threading.current_thread() is threading.main_thread()
    previous: Any = signal.signal(signal.SIGINT, interrupt) if main else None
    try:
        with progress:
            yield meter, on_hop
    finally:
        if main:
            signal.signal(signal.SIGINT, previous)


def report_cut(meter: Meter) -> None:
    """One yellow line if the work was cut short; exit 130 after it if Ctrl-C cut it."""
    if meter.cut is None:
        return
    if meter.cut == CANCELLED:
        err_console.print("[yellow]stopped by Ctrl-C: the result above is partial[/]")
        raise typer.Exit(130)
    err_console.print(
        f"[yellow]cut at budget ({meter.cut}; limit {meter.budget.describe()}): the result "
        "is partial, trails still moving end as 'budget' (raise --time-limit/--max-results)[/]"
    )
