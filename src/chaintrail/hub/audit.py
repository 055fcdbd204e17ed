"""The tamper-evident audit log: an append-only SHA-256 hash chain in the hub database.

Entry ``n`` is the JSON array (UTF-8, no spaces, strings JSON-escaped to ASCII)::

    [seq, ts, user_id, user_name, org_id, action, object_type, object_id, case_id, marking,
     request_id, detail, prev_hash]

and ``hash(n) = sha256(that array)``, with ``prev_hash`` the hash of entry ``n-1`` (64 zeros for
entry 1). Entries are appended by :func:`append` inside the caller's transaction, after locking
the single ``audit_head`` row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite transactions
begin IMMEDIATE), so concurrent writers queue and the chain never forks. Verification is in
:mod:`chaintrail.hub.audit_verify`.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from json.encoder import encode_basestring_ascii as _js  # type: ignore[attr-defined]
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from chaintrail.hub.models import AuditEntry, AuditHead, utcnow
from chaintrail.hub.principal import Principal

GENESIS = "0" * 64
SYNC_READS = os.environ.get("CHAINTRAIL_HUB_SYNC_READS", "") not in ("", "0")
_HEAD = "chaintrail.audit_head"  # session.info key: (transaction, seq, hash) after the first append
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


def _locked_head(session: Session) -> tuple[int, str]:
    """The head as this transaction sees it, locking its row on the first append."""
    state = session.info.get(_HEAD)
    tx = session.get_transaction()
    if state is not None and state[0] is tx:
        return state[1], state[2]
    seq, digest = session.execute(
        select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1).with_for_update()
    ).one()
    return int(seq), str(digest)


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
    read: bool = False,
) -> str:
    """Append one entry in ``session``'s transaction (it commits or rolls back with the action);
    returns its hash. ``who`` None means the local operator (a CLI administration command).

    ``read=True`` marks an action that changes nothing but this entry: on PostgreSQL its commit
    does not wait for the WAL flush (``synchronous_commit = off`` for this transaction only), so
    the head lock is not held across an fsync. A database crash may then lose the last fraction
    of a second of *read* entries, never a write's, and never a link: the WAL is replayed in
    order. ``$CHAINTRAIL_HUB_SYNC_READS=1`` makes reads wait too.
    """
    if (
        read
        and session.info.get(_HEAD) is None
        and session.get_bind().dialect.name == "postgresql"
        and not SYNC_READS
    ):
        session.connection().exec_driver_sql("SET LOCAL synchronous_commit = off")
    seq, prev = _locked_head(session)
    row = (
        seq + 1,
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
        prev,
    )
    digest = entry_hash(row)
    con = session.connection()
    # plain driver SQL, one round trip on PostgreSQL: an append is on every request
    for sql, params in _statements(con.dialect.name, con.dialect.paramstyle, (*row, digest)):
        con.exec_driver_sql(sql, params)
    session.info[_HEAD] = (session.get_transaction(), row[0], digest)
    return digest


@lru_cache(maxsize=4)
def _sql(dialect: str, paramstyle: str) -> tuple[str, str]:
    mark = "?" if paramstyle == "qmark" else "%s"
    cols = (*COLUMNS, "hash")
    insert = f"INSERT INTO audit_log ({', '.join(cols)}) VALUES ({', '.join([mark] * len(cols))})"
    head = f"UPDATE audit_head SET seq = {mark}, hash = {mark} WHERE id = 1"
    return insert, head


def _statements(
    dialect: str, paramstyle: str, entry: tuple[Any, ...]
) -> list[tuple[str, tuple[Any, ...]]]:
    """The statements (with parameters) that store ``entry`` and move the head to it."""
    insert, head = _sql(dialect, paramstyle)
    moved = (entry[0], entry[-1])
    if dialect == "postgresql":  # a data-modifying CTE: both in one statement
        return [(f"WITH appended AS ({insert}) {head}", (*entry, *moved))]
    return [(insert, entry), (head, moved)]


def entry_to_json(e: AuditEntry) -> dict[str, Any]:
    """An entry as JSON-ready data (detail decoded)."""
    out = {c: getattr(e, c) for c in COLUMNS}
    out["detail"] = json.loads(e.detail or "{}")
    out["hash"] = e.hash
    return out
