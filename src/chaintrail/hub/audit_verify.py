"""Verifying the audit chain: recompute every hash and link; name the first broken entry.

Entries are independent to check once each one's predecessor hash is known, so a long chain is
split into ranges checked by separate processes (each with its own database connection), and
the earliest break of any range is reported. Rows come straight from the driver (a server-side
cursor on PostgreSQL); the canonical form is spelled out per column.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Any

from sqlalchemy import Connection, text

from chaintrail.hub.audit import COLUMNS, GENESIS, _enc
from chaintrail.hub.db import make_engine

PARALLEL_FROM = 200_000  # entries; below this one process is faster than starting others


@dataclass(frozen=True)
class VerifyResult:
    """What a verification found: entries checked, the head, and the first break if any."""

    entries: int
    head_seq: int
    head_hash: str
    broken_seq: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        """True when every entry links and hashes correctly up to the recorded head."""
        return self.broken_seq is None


@dataclass(frozen=True)
class RangeResult:
    """One range's outcome: entries checked, the last entry seen, the first break in it."""

    checked: int
    last_seq: int
    last_hash: str | None
    broken_seq: int | None = None
    reason: str = ""


def _num(value: Any) -> str:
    return str(value) if type(value) is int else _enc(value)


def _canonical_text(row: tuple[Any, ...]) -> str:
    """The canonical form of :mod:`chaintrail.hub.audit`, spelled out per column.

    ``ts`` and ``prev_hash`` are written by the hub as ISO time and hex, which JSON leaves as is;
    if someone stored anything else there the text differs from the canonical form and the entry
    fails its hash, as it should.
    """
    seq, ts, uid, uname, org, action, otype, oid, case, marking, rid, detail, prev = row
    return (
        f'[{_num(seq)},"{ts}",{"null" if uid is None else _num(uid)},{_enc(uname)},'
        f"{'null' if org is None else _num(org)},{_enc(action)},{_enc(otype)},{_enc(oid)},"
        f"{'null' if case is None else _num(case)},{'null' if marking is None else _enc(marking)},"
        f'{_enc(rid)},{_enc(detail)},"{prev}"]'
    )


def _rows(
    con: Connection, lo: int, hi: int | None, batch: int = 20_000
) -> Iterator[tuple[Any, ...]]:
    """Entries lo..hi (hi None: to the end) in chain order, straight from the driver."""
    raw: Any = con.connection.dbapi_connection
    pg = con.dialect.name == "postgresql"
    mark = "%s" if pg else "?"
    where = f"seq >= {mark}" + ("" if hi is None else f" AND seq <= {mark}")
    sql = f"SELECT {', '.join((*COLUMNS, 'hash'))} FROM audit_log WHERE {where} ORDER BY seq"
    cur = raw.cursor(name=f"chaintrail_audit_{lo}") if pg else raw.cursor()
    try:
        if pg:
            cur.itersize = batch
        cur.execute(sql, (lo,) if hi is None else (lo, hi))
        while chunk := cur.fetchmany(batch):
            yield from chunk
    finally:
        cur.close()


def check_range(con: Connection, lo: int, hi: int | None) -> RangeResult:
    """Check entries lo..hi: contiguous, each linked to its predecessor, each hash right."""
    if lo == 1:
        prev: str | None = GENESIS
    else:
        found = con.execute(
            text("SELECT hash FROM audit_log WHERE seq = :s"), {"s": lo - 1}
        ).one_or_none()
        prev = found[0] if found else None  # a missing predecessor is the previous range's break
    expected, n, sha = lo, 0, hashlib.sha256
    for row in _rows(con, lo, hi):
        seq, stored, body = row[0], row[13], row[:13]
        if seq != expected:
            missing = (
                f"entry {expected}" if seq == expected + 1 else f"entries {expected}-{seq - 1}"
            )
            return RangeResult(
                n, expected - 1, prev, expected, f"{missing} deleted (next is {seq})"
            )
        if prev is not None and body[12] != prev:
            why = f"entry {seq} does not link to entry {seq - 1} (moved, or an earlier entry was rewritten)"
            return RangeResult(n, seq, prev, seq, why)
        if sha(_canonical_text(body).encode("ascii")).hexdigest() != stored:
            return RangeResult(
                n, seq, prev, seq, f"entry {seq} was edited (its content does not match its hash)"
            )
        prev, expected, n = stored, expected + 1, n + 1
    if hi is not None and expected <= hi:
        missing = f"entry {expected}" if expected == hi else f"entries {expected}-{hi}"
        return RangeResult(n, expected - 1, prev, expected, f"{missing} deleted")
    return RangeResult(n, expected - 1, prev)


def _check_range_at(url: str, lo: int, hi: int | None) -> RangeResult:
    engine = make_engine(url)
    try:
        with engine.connect() as con:
            return check_range(con, lo, hi)
    finally:
        engine.dispose()


def _head(con: Connection) -> tuple[int, str]:
    seq, digest = con.execute(text("SELECT seq, hash FROM audit_head WHERE id = 1")).one()
    return int(seq), str(digest)


def _combine(parts: list[RangeResult], head_seq: int, head_hash: str) -> VerifyResult:
    checked = sum(p.checked for p in parts)
    breaks = [p for p in parts if p.broken_seq is not None]
    if breaks:
        first = min(breaks, key=lambda p: p.broken_seq or 0)
        return VerifyResult(checked, head_seq, head_hash, first.broken_seq, first.reason)
    last = parts[-1]
    if last.last_seq != head_seq or last.last_hash != head_hash:
        why = (f"the chain ends at entry {last.last_seq} but its head records entry {head_seq} "
               "(entries at the end deleted or the head rewritten)")  # fmt: skip
        return VerifyResult(checked, head_seq, head_hash, last.last_seq + 1, why)
    return VerifyResult(checked, head_seq, head_hash)


def verify(con: Connection) -> VerifyResult:
    """Recompute the whole chain in this process."""
    head_seq, head_hash = _head(con)
    return _combine([check_range(con, 1, None)], head_seq, head_hash)


def verify_url(
    url: str, workers: int | None = None, parallel_from: int = PARALLEL_FROM
) -> VerifyResult:
    """Recompute the whole chain, in ``workers`` processes (default: one per core) when it has
    ``parallel_from`` entries or more."""
    engine = make_engine(url)
    try:
        with engine.connect() as con:
            head_seq, head_hash = _head(con)
            workers = workers or os.cpu_count() or 1
            if workers == 1 or head_seq < max(parallel_from, workers):
                return _combine([check_range(con, 1, None)], head_seq, head_hash)
    finally:
        engine.dispose()
    step = -(-head_seq // workers)
    ranges = [(lo, lo + step - 1) for lo in range(1, head_seq + 1, step)]
    ranges[-1] = (ranges[-1][0], None)  # the last range runs to the end: rows past the head count
    with ProcessPoolExecutor(len(ranges), mp_context=get_context("fork")) as pool:
        parts = list(pool.map(_check_range_at, [url] * len(ranges), *zip(*ranges, strict=True)))
    return _combine(parts, head_seq, head_hash)
