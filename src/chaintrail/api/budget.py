"""Work budgets of API requests: one :class:`~chaintrail.budget.Meter` per request, by role.

:class:`BudgetMiddleware` (inside the access middleware, which has set the caller's role)
gives every request a meter from its role's :class:`~chaintrail.budget.Budget`, puts it in
``request.state.meter`` for the routes, and watches the connection while the work runs: when
the client hangs up, the meter is cancelled and the work stops at its next check instead of
running on for nobody. A reply cut by its budget says so in ``Chaintrail-Budget`` (e.g.
``cut=time; limit=6s``), for the GraphSense-shaped endpoints whose bodies cannot carry it; the
``/v1`` bodies also have a ``budget`` field.

:func:`install_shutdown_hook` makes SIGTERM/SIGINT cancel every running meter before uvicorn's
own handler runs, so a shutdown waits for no long request.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections.abc import Awaitable, Callable
from types import FrameType
from typing import Any

from fastapi import Request

from chaintrail.budget import CANCELLED, Budget, Meter, cancel_all
from chaintrail.errors import UsageError

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

#: what one request may do unless the server is told otherwise (`chaintrail serve --budget`):
#: about 6 s of work plus building and sending at most 50,000 result rows keeps every
#: reply under ~10 s on a 2-core machine (BENCHMARKS.md)
DEFAULT_BUDGET = Budget(seconds=6.0, max_frontier=10_000, max_results=50_000)
ROLES = ("reader", "analyst")
HEADER = b"chaintrail-budget"


def default_budgets() -> dict[str, Budget]:
    """The default budget for every role."""
    return dict.fromkeys(ROLES, DEFAULT_BUDGET)


def parse_budget(text: str, budgets: dict[str, Budget]) -> dict[str, Budget]:
    """``ROLE=SECONDS[,RESULTS]`` applied to ``budgets`` (UsageError naming what is wrong)."""
    role, sep, rest = text.partition("=")
    role = role.strip()
    if not sep or role not in ROLES:
        raise UsageError(f"--budget {text!r}: expected ROLE=SECONDS[,RESULTS], ROLE one of "
                         f"{', '.join(ROLES)}")  # fmt: skip
    seconds_text, _, results_text = rest.partition(",")
    try:
        seconds = float(seconds_text)
        results = int(results_text) if results_text.strip() else budgets[role].max_results
    except ValueError as exc:
        raise UsageError(f"--budget {text!r}: SECONDS and RESULTS must be numbers") from exc
    if not 0 < seconds <= 3600 or (results is not None and results < 1):
        raise UsageError(f"--budget {text!r}: SECONDS must be in (0, 3600], RESULTS >= 1")
    old = budgets[role]
    return {**budgets, role: Budget(seconds, old.max_frontier, results)}


def request_meter(request: Request) -> Meter:
    """Route dependency: the meter of this request (unlimited outside the middleware)."""
    meter = getattr(request.state, "meter", None)
    return meter if meter is not None else Budget().start()


class BudgetMiddleware:
    """Meter every HTTP request by its caller's role and cancel it when the client leaves."""

    def __init__(
        self, app: Callable[[Scope, Receive, Send], Awaitable[None]], budgets: dict[str, Budget]
    ) -> None:
        self.app = app
        self.budgets = budgets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        meter = self.budgets.get(state.get("role", "reader"), DEFAULT_BUDGET).start()
        state["meter"] = meter
        inbox: asyncio.Queue[Message] = asyncio.Queue()

        async def watch() -> None:
            while True:
                message = await receive()
                await inbox.put(message)
                if message["type"] == "http.disconnect":
                    meter.cancel(CANCELLED)
                    return

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start" and meter.cut is not None:
                limit = meter.budget.seconds
                value = f"cut={meter.cut}" + (f"; limit={limit:g}s" if limit else "")
                message = {**message, "headers": [*message.get("headers", []),
                                                  (HEADER, value.encode())]}  # fmt: skip
            await send(message)

        watcher = asyncio.create_task(watch())
        try:
            await self.app(scope, inbox.get, send_with_header)
        finally:
            watcher.cancel()


def install_shutdown_hook() -> None:
    """Make SIGTERM and SIGINT cancel every running meter, then do what they did before
    (uvicorn's graceful shutdown). Only in the main thread (where signals are handled)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(sig)

        def handler(signum: int, frame: FrameType | None, previous: Any = previous) -> None:
            cancel_all()
            if callable(previous):
                previous(signum, frame)
            elif previous == signal.SIG_DFL:  # what the signal would have done: do it
                signal.signal(signum, signal.SIG_DFL)
                os.kill(os.getpid(), signum)

        signal.signal(sig, handler)
