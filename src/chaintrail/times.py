"""Times a person can read: unix seconds shown as ISO 8601 UTC, and typed times parsed back.

Every unix timestamp chaintrail shows gets its ISO 8601 UTC form beside it (``*_utc`` keys,
``2009-01-12T03:30:25Z``); a time a user types may be unix seconds, a date or an ISO time.
"""

from __future__ import annotations

import datetime as dt

from chaintrail.errors import UsageError


def utc_iso(timestamp: int | None) -> str | None:
    """``2009-01-12T03:30:25Z`` for a unix timestamp (None stays None)."""
    if timestamp is None:
        return None
    return dt.datetime.fromtimestamp(int(timestamp), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str, *, option: str, end_of_day: bool = False) -> int:
    """Unix seconds of ``text``: unix seconds, ``YYYY-MM-DD`` (the day's first second, or its
    last with ``end_of_day``, UTC) or an ISO 8601 time (UTC unless it names an offset).
    UsageError naming ``option`` and the accepted forms otherwise."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
            return int(start.timestamp()) + (86_399 if end_of_day else 0)
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise UsageError(
            f"{option}: expected unix seconds, a date YYYY-MM-DD or an ISO time "
            f"(2021-03-04T12:00:00Z), got {text!r}"
        ) from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return int(when.timestamp())
