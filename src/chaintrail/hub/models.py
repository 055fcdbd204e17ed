"""The hub's tables as SQLAlchemy 2 models; the migrations in ``hub/migrations`` create them.

Organisations (member agencies and obliged entities) hold users; users hold roles and API keys;
cases belong to an organisation and hold items; shares open a case or an item to a user, an
organisation or a sharing group; ``audit_log`` is the append-only hash chain and ``audit_head``
its single head row. ``stix_objects`` holds STIX objects that arrived over TAXII (pushed here
or pulled from another server). Issue 12's notices, screening, acknowledgments and ledger hang
off ``organisations``, ``cases``, ``items.subject`` and the audit chain without changing them.

Times are naive UTC ``datetime`` values (SQLite has no time zones); JSON payloads are text.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> dt.datetime:
    """Now as naive UTC with microseconds (the hub's one time representation)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    """Declarative base of every hub table."""


class Setting(Base):
    """Hub-wide settings (home organisation, attachment size limit, ...)."""

    __tablename__ = "hub_settings"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Organisation(Base):
    """A member agency (police, FIU, prosecutor, customs, coordination hub) or an obliged entity."""

    __tablename__ = "organisations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    country: Mapped[str] = mapped_column(String(2))  # ISO 3166-1 alpha-2 (jurisdiction for VASPs)
    licence_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class SharingGroup(Base):
    """A named set of organisations (an operation's participants, a regional group)."""

    __tablename__ = "sharing_groups"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class GroupMember(Base):
    """One organisation's membership in a sharing group."""

    __tablename__ = "group_members"
    group_id: Mapped[int] = mapped_column(
        ForeignKey("sharing_groups.id", ondelete="CASCADE"), primary_key=True
    )
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)


class User(Base):
    """A person (or a service account) of one organisation."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class UserRole(Base):
    """One role a user holds."""

    __tablename__ = "user_roles"
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(32), primary_key=True)


class ApiKey(Base):
    """An API key of a user: only the SHA-256 of the key is kept."""

    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    access: Mapped[str] = mapped_column(String(8))  # "read" or "write"
    rate_limit: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    imported_from: Mapped[str | None] = mapped_column(String(200))  # "api_keys.json" for old keys


class Case(Base):
    """An investigation owned by one organisation."""

    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    title: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default="open")
    tlp: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    item_count: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)


class CaseMember(Base):
    """A person working a case (the named people TLP:RED items of the case reach)."""

    __tablename__ = "case_members"
    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)


class Item(Base):
    """One piece of a case: address, cluster, tx, trace, tag, entity, link, note or attachment."""

    __tablename__ = "items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(200), index=True)  # address, txid, entity id ...
    title: Mapped[str] = mapped_column(String(500), default="")
    payload: Mapped[str] = mapped_column(Text)  # JSON
    tlp: Mapped[str] = mapped_column(String(16))
    attachment_sha256: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_org: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    via: Mapped[str] = mapped_column(String(200))  # the command or endpoint that filed it
    request_id: Mapped[str] = mapped_column(String(64))


class Share(Base):
    """A case or one item opened to a user, an organisation or a sharing group."""

    __tablename__ = "shares"
    __table_args__ = (Index("ix_shares_target", "target_kind", "target_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), index=True)
    target_kind: Mapped[str] = mapped_column(String(8))  # user | org | group
    target_id: Mapped[int] = mapped_column(Integer)
    redacted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_org: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class AuditEntry(Base):
    """One link of the audit hash chain; never updated or deleted."""

    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    ts: Mapped[str] = mapped_column(String(32))  # ISO UTC with microseconds and Z
    user_id: Mapped[int | None] = mapped_column(Integer)
    user_name: Mapped[str] = mapped_column(String(200))
    org_id: Mapped[int | None] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(200))
    case_id: Mapped[int | None] = mapped_column(Integer, index=True)
    marking: Mapped[str | None] = mapped_column(String(16))
    request_id: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="{}")  # canonical JSON
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The chain head (one row): writers lock it, so concurrent appends never fork the chain."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    hash: Mapped[str] = mapped_column(String(64))


class StixObject(Base):
    """A STIX 2.1 object received over TAXII (pushed to this hub or pulled from another)."""

    __tablename__ = "stix_objects"
    __table_args__ = (
        UniqueConstraint("stix_id", "version", "owner_org_id", "audience", name="uq_stix_version"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stix_id: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[str] = mapped_column(String(32))  # ``modified`` (or ``created``)
    type: Mapped[str] = mapped_column(String(64))
    tlp: Mapped[str] = mapped_column(String(16))
    audience: Mapped[str] = mapped_column(String(64))  # "members" | "org:<id>" | "group:<id>"
    owner_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    source: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    date_added: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class TaxiiStatus(Base):
    """The status resource of one TAXII POST (what was stored, what failed and why)."""

    __tablename__ = "taxii_status"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    body: Mapped[str] = mapped_column(Text)  # the status resource as JSON
