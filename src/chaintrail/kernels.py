"""numba kernels that load numba only when one first runs, and can run as plain Python.

``@kernel(...)`` marks a function that ``numba.njit(cache=True, ...)`` compiles on its first call
(from the on-disk cache after the first run on a machine); ``@helper`` marks a function kernels
call (numba's ``register_jitable``: compiled into its callers, plain Python when called from
Python). Until a kernel runs, numba is not even imported: its import and its CPU target's
start-up cost 0.5-1.5 s, which a CLI lookup that needs no kernel no longer pays.

Inside ``with interpreted():`` kernels run as the plain Python they are written in -- the same
code, tested to give the same answers -- for work so small (one transaction, a few address keys)
that starting numba would cost a thousand times the work. Integer arithmetic wraps as it does in
numba (numpy scalars; overflow warnings are silenced there).

numba's cache is keyed on the kernel's own source file: a helper imported from another module
does not invalidate it, so keep a kernel's helpers in its module.
"""

from __future__ import annotations

import contextvars
import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

_INTERPRETED: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "chaintrail_interpreted", default=False
)
_HELPERS: list[tuple[Callable[..., Any], str]] = []
_lock = threading.RLock()
_n_registered = 0


def helper(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Mark ``fn`` as called by kernels: inlined into them when they compile, plain Python
    otherwise (returned unchanged)."""
    _HELPERS.append((fn, "never"))  # IR inlining warns on loops; LLVM still inlines small helpers
    return fn


def _register_helpers() -> None:
    global _n_registered, _startup_seconds
    import time

    t0 = time.perf_counter()
    # heavy optional dependency: numba is imported only when a kernel is first compiled
    from numba.extending import register_jitable

    _startup_seconds += time.perf_counter() - t0
    with _lock:
        for fn, inline in _HELPERS[_n_registered:]:
            register_jitable(inline=inline)(fn)
        _n_registered = len(_HELPERS)


class Kernel:
    """A function compiled by numba on its first call (see the module docstring)."""

    def __init__(self, fn: Callable[..., Any], options: dict[str, Any]) -> None:
        functools.update_wrapper(self, fn)
        self.py_func = fn
        self.options = options
        self._jit: Any = None

    @property
    def jit(self) -> Any:
        """The numba dispatcher (numba imported and helpers registered on first use)."""
        if self._jit is None:
            with _lock:
                if self._jit is None:
                    _register_helpers()
                    import numba  # heavy optional dependency, see _register_helpers

                    self._jit = numba.njit(cache=True, **self.options)(self.py_func)
        return self._jit

    def __call__(self, *args: Any) -> Any:
        if _INTERPRETED.get():
            with np.errstate(over="ignore"):
                return self.py_func(*args)
        return self.jit(*args)


def kernel(**options: Any) -> Callable[[Callable[..., Any]], Kernel]:
    """Decorator: ``fn`` becomes a :class:`Kernel` compiled with ``njit(cache=True, **options)``."""

    def wrap(fn: Callable[..., Any]) -> Kernel:
        return Kernel(fn, options)

    return wrap


@contextmanager
def interpreted() -> Iterator[None]:
    """Run kernels called in this block (this thread/task only) as plain Python."""
    token = _INTERPRETED.set(True)
    try:
        yield
    finally:
        _INTERPRETED.reset(token)


_startup_seconds = 0.0  # importing numba and registering helpers, once per process


class CompileClock:
    """Seconds this process spent starting numba and compiling (or loading from numba's cache)
    kernels while a :func:`compile_clock` block ran -- time that is not throughput."""

    def __init__(self) -> None:
        self.seconds = 0.0


@contextmanager
def compile_clock() -> Iterator[CompileClock]:
    """Measure numba start-up and kernel compilation inside the block (every thread)."""
    # heavy optional dependency: only work that runs kernels measures them
    import time

    from numba.core import event

    clock = CompileClock()
    before = _startup_seconds
    depth = [0]
    started = [0.0]

    class _Listener(event.Listener):  # type: ignore[misc]
        def on_start(self, ev: Any) -> None:
            with _lock:
                if depth[0] == 0:
                    started[0] = time.perf_counter()
                depth[0] += 1

        def on_end(self, ev: Any) -> None:
            with _lock:
                depth[0] -= 1
                if depth[0] == 0:
                    clock.seconds += time.perf_counter() - started[0]

    with event.install_listener("numba:compile", _Listener()):
        yield clock
    clock.seconds += _startup_seconds - before
