"""Per-key token buckets: ``rate`` requests/s sustained, bursts up to ``burst``."""

from __future__ import annotations

import time


class TokenBuckets:
    """One bucket per key id; ``take`` says whether a request may pass and, if not, when."""

    def __init__(self, rate: float, burst: float | None = None) -> None:
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, 2 * rate)
        self._state: dict[str, tuple[float, float]] = {}

    def take(self, key: str, rate: float | None = None) -> float:
        """0.0 if the request may pass (one token taken), else seconds until a token is due."""
        if rate is None or rate == self.rate:
            rate, burst = self.rate, self.burst
        else:  # a key with its own limit bursts to twice it
            burst = max(1.0, 2 * rate)
        now = time.monotonic()
        tokens, last = self._state.get(key, (burst, now))
        tokens = min(burst, tokens + (now - last) * rate)
        if tokens >= 1.0:
            self._state[key] = (tokens - 1.0, now)
            return 0.0
        self._state[key] = (tokens, now)
        return (1.0 - tokens) / rate
