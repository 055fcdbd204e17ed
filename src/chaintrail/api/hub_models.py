"""Request and response bodies of the hub API (``/v1/hub``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Tlp = Literal["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"]
OrgKind = Literal["police", "fiu", "prosecutor", "customs", "hub", "obliged_entity"]
Role = Literal[
    "investigator", "analyst", "supervisor", "compliance_officer", "org_admin", "hub_admin"
]
Name = Field(min_length=1, max_length=200, pattern=r"^[^\r\n\t]*\S[^\r\n\t]*$")


class Strict(BaseModel):
    """Unknown fields are an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class OrgIn(Strict):
    """A member agency or an obliged entity to register."""

    name: str = Name
    kind: OrgKind
    country: str = Field(
        min_length=2,
        max_length=2,
        description="ISO 3166-1 alpha-2 (jurisdiction for obliged entities)",
    )
    licence_id: str | None = Field(None, max_length=200)


class OrgOut(BaseModel):
    """An organisation of the directory."""

    id: int
    name: str
    kind: str
    country: str
    licence_id: str | None


class GroupIn(Strict):
    """A sharing group and its first members (organisation names)."""

    name: str = Name
    description: str = Field("", max_length=2000)
    members: list[str] = Field(default_factory=list, max_length=1000)


class GroupMembersIn(Strict):
    """Organisations (names) to add to a group."""

    members: list[str] = Field(min_length=1, max_length=1000)


class GroupOut(BaseModel):
    """A sharing group with its organisations."""

    id: int
    name: str
    description: str
    members: list[str]


class UserIn(Strict):
    """A user to create; the password (optional: key-only users) is stored argon2-hashed."""

    name: str = Name
    org: str = Field(min_length=1, max_length=200)
    roles: list[Role] = Field(min_length=1, max_length=6)
    display_name: str = Field("", max_length=200)
    password: str | None = Field(None, min_length=12, max_length=1000)


class UserOut(BaseModel):
    """A user (never its password hash)."""

    id: int
    name: str
    org: str | None
    org_id: int
    display_name: str
    roles: list[str]
    disabled: bool


class KeyIn(Strict):
    """A new API key for a user."""

    name: str = Field("", max_length=200)
    access: Literal["read", "write"] = "write"
    rate_limit: float | None = Field(None, gt=0, le=1e6)


class KeyOut(BaseModel):
    """A key as created: ``key`` is shown this once and never stored."""

    id: str
    key: str
    user: str
    access: str


class CaseIn(Strict):
    """A case to open (owned by the caller's organisation)."""

    title: str = Field(min_length=1, max_length=500)
    tlp: Tlp = "AMBER"
    members: list[str] = Field(default_factory=list, max_length=1000)


class CasePatch(Strict):
    """Changes to a case; ``version`` (from a read) makes the change fail with 409 if someone
    changed the case in between."""

    title: str | None = Field(None, min_length=1, max_length=500)
    status: Literal["open", "active", "suspended", "closed"] | None = None
    tlp: Tlp | None = None
    version: int | None = Field(None, ge=1, le=2**31 - 1)


class MembersIn(Strict):
    """Users of the owner organisation to add to a case."""

    members: list[str] = Field(min_length=1, max_length=1000)


class ItemIn(Strict):
    """An item to file; ``payload`` by kind as in docs/HUB.md (attachments: the upload endpoint)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"kind": "address", "payload": {"address": "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"}}
            ]
        },
    )
    kind: Literal["address", "cluster", "tx", "trace", "tag", "entity", "link", "note"]
    payload: dict[str, Any]
    tlp: Tlp | None = None


class Provenance(BaseModel):
    """Who filed an item, when, and through which command or endpoint (user hidden when redacted)."""

    org: str | None
    at: str
    via: str
    user: str | None = None
    request_id: str | None = None


class ItemOut(BaseModel):
    """A case item in the caller's view (``full`` or ``redacted``)."""

    id: int
    case_id: int
    kind: str
    subject: str
    title: str
    tlp: str
    view: Literal["full", "redacted"]
    provenance: Provenance
    payload: dict[str, Any]
    live: dict[str, Any] | None = None  # cluster items read with live=true


class CaseOut(BaseModel):
    """A case header in the caller's view."""

    id: int
    title: str
    status: str
    tlp: str
    owner_org: str | None
    created_at: str
    updated_at: str
    item_count: int
    version: int
    view: Literal["full", "redacted"]
    members: list[str] | None = None


class CaseDetail(CaseOut):
    """A case with the items the caller may see."""

    items: list[ItemOut]


class ShareIn(Strict):
    """Share a case (all its items, each within its own marking) or one item."""

    case_id: int | None = Field(None, ge=1, le=2**31 - 1)
    item_id: int | None = Field(None, ge=1, le=2**31 - 1)
    target_kind: Literal["user", "org", "group"]
    target: str = Field(min_length=1, max_length=200)
    redacted: bool = False


class ShareOut(BaseModel):
    """A share."""

    id: int
    case_id: int
    item_id: int | None
    target_kind: str
    target: str | None
    redacted: bool
    marking: str | None
    created_at: str
    revoked: bool


class AuditOut(BaseModel):
    """One audit entry with its hash."""

    seq: int
    ts: str
    user_id: int | None
    user_name: str
    org_id: int | None
    action: str
    object_type: str
    object_id: str
    case_id: int | None
    marking: str | None
    request_id: str
    detail: dict[str, Any]
    prev_hash: str
    hash: str


class MeOut(BaseModel):
    """The caller as the hub sees it."""

    user: str
    org: str
    org_kind: str
    roles: list[str]
    can_write: bool
