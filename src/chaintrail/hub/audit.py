"""The tamper-evident audit log: an append-only SHA-256 hash chain in the hub database.

Entry ``n`` is the JSON array (UTF-8, no spaces, strings JSON-escaped to ASCII)::

    [seq, ts, user_id, user_name, org_id, action, object_type, object_id, case_id, marking,
     request_id, detail, prev_hash]

and ``hash(n) = sha256(that array)``, with ``prev_hash`` the hash of entry ``n-1`` (64 zeros for
entry 1). Entries are appended by :func:`append` inside the caller's transaction, after locking
the single ``audit_head`` row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite transactions
begin IMMEDIATE), so concurrent writers queue and the chain never forks. :func:`verify`
recomputes the chain and names the first entry that was edited, deleted or moved.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii as _js  # type: ignore[attr-defined]
from typing import Any

from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session

from chaintrail.hub.models import AuditEntry, AuditHead, utcnow
from chaintrail.hub.principal import Principal

GENESIS = "0" * 64
COLUMNS = (
    "seq", "ts", "user_id", "user_name", "org_id", "action", "object_type", "object_id",
    "case_id", "marking", "request_id", "detail", "prev_hash",
)  # fmt: skip


def _enc(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    return _js(value)  # type: ignore[no-any-return]


def canonical(row: tuple[Any, ...]) -> bytes:
    """The canonical bytes of an entry given as a tuple in :data:`COLUMNS` order."""
    return ("[" + ",".join(map(_enc, row)) + "]").encode("ascii")


def entry_hash(row: tuple[Any, ...]) -> str:
    """Hex SHA-256 of :func:`canonical`."""
    return hashlib.sha256(canonical(row)).hexdigest()


def timestamp() -> str:
    """Now, as the audit log writes it: ISO UTC with microseconds and ``Z``."""
    return utcnow().isoformat(timespec="microseconds") + "Z"


def append(
    session: Session,
    who: Principal | None,
    action: str,
    object_type: str,
    object_id: str | int,
    *,
    case_id: int | None = None,
    marking: str | None = None,
    detail: dict[str, Any] | None = None,
    operator: str = "operator",
    request_id: str | None = None,
) -> AuditEntry:
    """Append one entry in ``session``'s transaction (it commits or rolls back with the action).

    ``who`` None means the local operator (a CLI administration command without a hub user).
    """
    head = session.execute(
        select(AuditHead).where(AuditHead.id == 1).with_for_update()
    ).scalar_one()
    row = (
        head.seq + 1,
        timestamp(),
        who.user_id if who else None,
        who.name if who else operator,
        who.org_id if who else None,
        action,
        object_type,
        str(object_id),
        case_id,
        marking,
        request_id or (who.request_id if who else ""),
        json.dumps(detail or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=True),
        head.hash,
    )
    digest = entry_hash(row)
    entry = AuditEntry(**dict(zip(COLUMNS, row, strict=True)), hash=digest)
    session.add(entry)
    head.seq, head.hash = row[0], digest
    session.flush()
    return entry


@dataclass(frozen=True)
class VerifyResult:
    """What :func:`verify` found: entries checked, the head, and the first break if any."""

    entries: int
    head_seq: int
    head_hash: str
    broken_seq: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        """True when every entry links and hashes correctly up to the recorded head."""
        return self.broken_seq is None


def _rows(con: Connection, batch: int = 20_000) -> Iterator[tuple[Any, ...]]:
    cols = ", ".join((*COLUMNS, "hash"))
    result = con.execution_options(stream_results=True).execute(
        text(f"SELECT {cols} FROM audit_log ORDER BY seq")
    )
    while chunk := result.fetchmany(batch):
        yield from (tuple(r) for r in chunk)


def verify(con: Connection) -> VerifyResult:
    """Recompute the chain; the result names the first entry that was edited, deleted or moved."""
    head_seq, head_hash = con.execute(text("SELECT seq, hash FROM audit_head WHERE id = 1")).one()
    prev, expected, n = GENESIS, 1, 0
    sha = hashlib.sha256
    for row in _rows(con):
        seq, stored = row[0], row[13]
        body = row[:13]
        if seq != expected:
            missing = (
                f"entry {expected}" if seq == expected + 1 else f"entries {expected}-{seq - 1}"
            )
            return VerifyResult(
                n, head_seq, head_hash, expected, f"{missing} deleted (next is {seq})"
            )
        if body[12] != prev:
            return VerifyResult(
                n,
                head_seq,
                head_hash,
                seq,
                f"entry {seq} does not link to entry {seq - 1} (moved, or an earlier entry was rewritten)",
            )
        if sha(("[" + ",".join(map(_enc, body)) + "]").encode("ascii")).hexdigest() != stored:
            return VerifyResult(
                n,
                head_seq,
                head_hash,
                seq,
                f"entry {seq} was edited (its content does not match its hash)",
            )
        prev, expected, n = stored, expected + 1, n + 1
    if n != head_seq or prev != head_hash:
        return VerifyResult(
            n,
            head_seq,
            head_hash,
            n + 1,
            f"the chain ends at entry {n} but its head records entry {head_seq} (entries at the end deleted or the head rewritten)",
        )
    return VerifyResult(n, head_seq, head_hash)


def entry_to_json(e: AuditEntry) -> dict[str, Any]:
    """An entry as JSON-ready data (detail decoded)."""
    out = {c: getattr(e, c) for c in COLUMNS}
    out["detail"] = json.loads(e.detail or "{}")
    out["hash"] = e.hash
    return out
