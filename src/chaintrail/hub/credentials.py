"""Passwords (argon2id) and API keys of hub users.

A key is ``ct_<id>_<secret>`` (the format ``chaintrail apikey`` always used); only the SHA-256
of the whole key is stored (keys are 256-bit random, so a fast hash is enough, while passwords,
chosen by people, get argon2id). Keys from the old ``<store>/api_keys.json`` are imported with
their id, hash, name, rate limit and revocation, so every key that worked before still works.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from chaintrail.errors import NotFoundError, UsageError
from chaintrail.hub.models import ApiKey, User, utcnow

ACCESS = ("read", "write")
MIN_PASSWORD = 12
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """The argon2id hash of a password; UsageError if it is shorter than 12 characters."""
    if len(password) < MIN_PASSWORD:
        raise UsageError(f"password: expected at least {MIN_PASSWORD} characters")
    return _hasher.hash(password)


def password_matches(stored: str | None, password: str) -> bool:
    """True if ``password`` matches the stored argon2 hash (False for users without one)."""
    if not stored:
        return False
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def hash_key(key: str) -> str:
    """Hex SHA-256 of a presented API key."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def key_id_of(key: str) -> str | None:
    """The id part of a ``ct_<id>_<secret>`` key (None for another shape)."""
    parts = key.split("_", 2)
    return parts[1] if len(parts) == 3 and parts[0] == "ct" else None


def create_key(
    session: Session,
    user: User,
    *,
    name: str = "",
    access: str = "write",
    rate_limit: float | None = None,
) -> tuple[str, ApiKey]:
    """A new key for ``user``: returns ``(key, record)``; the key is shown once, never stored."""
    if access not in ACCESS:
        raise UsageError(f"key access {access!r}: expected read or write")
    if rate_limit is not None and rate_limit <= 0:
        raise UsageError(f"rate limit {rate_limit}: expected a positive number of requests/s")
    key_id = secrets.token_hex(4)
    key = f"ct_{key_id}_{secrets.token_urlsafe(32)}"
    rec = ApiKey(id=key_id, user_id=user.id, sha256=hash_key(key), name=name, access=access,
                 rate_limit=rate_limit, created_at=utcnow())  # fmt: skip
    session.add(rec)
    session.flush()
    return key, rec


def revoke_key(session: Session, key_id: str) -> ApiKey:
    """Revoke a key by id (it stays listed); NotFoundError for an unknown id."""
    rec = session.get(ApiKey, key_id)
    if rec is None:
        raise NotFoundError(f"API key id {key_id!r}: no such key in the hub")
    if rec.revoked_at is None:
        rec.revoked_at = utcnow()
    return rec


@dataclass(frozen=True)
class LegacyKey:
    """One record of the old key file, as ``chaintrail apikey`` wrote it."""

    id: str
    role: str  # reader | analyst
    name: str
    sha256: str
    created: int
    rate_limit: float | None
    revoked: int | None


def import_legacy_keys(
    session: Session, user: User, records: Iterable[LegacyKey], source: str
) -> int:
    """Give ``user`` every old key not yet in the hub (reader keys read-only); returns how many."""
    known = set(session.scalars(select(ApiKey.sha256)))
    added = 0
    for r in records:
        if r.sha256 in known:
            continue
        revoked = (
            dt.datetime.fromtimestamp(r.revoked, dt.UTC).replace(tzinfo=None) if r.revoked else None
        )
        session.add(ApiKey(
            id=r.id if session.get(ApiKey, r.id) is None else f"{r.id}-{secrets.token_hex(2)}",
            user_id=user.id, sha256=r.sha256, name=r.name or f"imported {r.role} key",
            access="read" if r.role == "reader" else "write", rate_limit=r.rate_limit,
            created_at=dt.datetime.fromtimestamp(r.created, dt.UTC).replace(tzinfo=None),
            revoked_at=revoked, imported_from=source,
        ))  # fmt: skip
        known.add(r.sha256)
        added += 1
    session.flush()
    return added
