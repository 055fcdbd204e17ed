"""Organisations, sharing groups, users and their roles: the hub's directory.

Hub admins create organisations and groups and any user; an organisation's admin creates the
users of its own organisation. Roles fit the organisation's kind (obliged entities have
compliance officers, agencies investigators, analysts and supervisors). Every change is audited
in the same transaction. ``who=None`` is the local operator (the CLI on the hub's own machine).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from chaintrail.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from chaintrail.hub import audit
from chaintrail.hub.credentials import create_key, hash_password, password_matches, revoke_key
from chaintrail.hub.models import (
    ApiKey,
    GroupMember,
    Organisation,
    SharingGroup,
    User,
    UserRole,
    utcnow,
)
from chaintrail.hub.policy import Reach
from chaintrail.hub.principal import (
    HUB_ADMIN,
    OBLIGED_ENTITY,
    ORG_ADMIN,
    ORG_KINDS,
    ROLES,
    ROLES_OF_KIND,
    Principal,
)
from chaintrail.intel.taxonomy import load_taxonomy

UNKNOWN_COUNTRY = "ZZ"  # ISO 3166 user-assigned "unknown": the laptop default's home organisation


def _require_hub_admin(who: Principal | None, what: str) -> None:
    if who is not None and (not who.has(HUB_ADMIN) or not who.can_write):
        raise ForbiddenError(f"{what} needs a hub admin (with a write key)")


def _clean_name(value: str, field: str) -> str:
    name = value.strip()
    if not name or len(name) > 200 or any(c in name for c in "\r\n\t"):
        raise ValidationError(
            f"expected a name of 1-200 characters on one line, got {value!r}", field=field
        )
    return name


def org_by_name(session: Session, name: str) -> Organisation:
    """The organisation called ``name`` (or with that numeric id); NotFoundError otherwise."""
    org = session.scalar(select(Organisation).where(Organisation.name == name))
    if org is None and name.isdigit():
        org = session.get(Organisation, int(name))
    if org is None:
        raise NotFoundError(f"organisation {name!r}: no such organisation in the hub")
    return org


def org_of(session: Session, who: Principal) -> Organisation:
    """The caller's organisation."""
    org = session.get(Organisation, who.org_id)
    assert org is not None
    return org


def user_by_name(session: Session, name: str) -> User:
    """The user called ``name`` (or with that numeric id); NotFoundError otherwise."""
    user = session.scalar(select(User).where(User.name == name))
    if user is None and name.isdigit():
        user = session.get(User, int(name))
    if user is None:
        raise NotFoundError(f"user {name!r}: no such user in the hub")
    return user


def group_by_name(session: Session, name: str) -> SharingGroup:
    """The sharing group called ``name`` (or with that numeric id); NotFoundError otherwise."""
    group = session.scalar(select(SharingGroup).where(SharingGroup.name == name))
    if group is None and name.isdigit():
        group = session.get(SharingGroup, int(name))
    if group is None:
        raise NotFoundError(f"sharing group {name!r}: no such group in the hub")
    return group


def add_org(
    session: Session,
    who: Principal | None,
    name: str,
    kind: str,
    country: str,
    licence_id: str | None = None,
) -> Organisation:
    """Register an agency or obliged entity; ConflictError for a taken name."""
    _require_hub_admin(who, "adding an organisation")
    name = _clean_name(name, "name")
    if kind not in ORG_KINDS:
        raise ValidationError(
            f"organisation kind {kind!r}: expected one of {', '.join(ORG_KINDS)}", field="kind"
        )
    country = country.strip().upper()
    if country not in load_taxonomy().countries and country != UNKNOWN_COUNTRY:
        raise ValidationError(
            f"country {country!r}: expected an ISO 3166-1 alpha-2 code such as AT or DE",
            field="country",
        )
    if licence_id and kind != OBLIGED_ENTITY:
        raise ValidationError(
            "a licence id belongs to an obliged entity (kind obliged_entity)", field="licence_id"
        )
    if session.scalar(select(Organisation.id).where(Organisation.name == name)) is not None:
        raise ConflictError(f"organisation {name!r} already exists")
    org = Organisation(
        name=name, kind=kind, country=country, licence_id=licence_id or None, created_at=utcnow()
    )
    session.add(org)
    session.flush()
    audit.append(
        session,
        who,
        "org.create",
        "org",
        org.id,
        detail={"name": name, "kind": kind, "country": country},
    )
    return org


def add_group(
    session: Session, who: Principal | None, name: str, description: str, members: list[str]
) -> SharingGroup:
    """Create a sharing group of the named organisations."""
    _require_hub_admin(who, "creating a sharing group")
    name = _clean_name(name, "name")
    if session.scalar(select(SharingGroup.id).where(SharingGroup.name == name)) is not None:
        raise ConflictError(f"sharing group {name!r} already exists")
    group = SharingGroup(name=name, description=description, created_at=utcnow())
    session.add(group)
    session.flush()
    set_group_members(session, who, group, members, action="group.create")
    return group


def set_group_members(
    session: Session,
    who: Principal | None,
    group: SharingGroup,
    members: list[str],
    *,
    action: str = "group.add",
) -> list[Organisation]:
    """Add organisations (by name) to a group; returns the group's members afterwards."""
    _require_hub_admin(who, "changing a sharing group")
    orgs = [org_by_name(session, m) for m in members]
    have = set(session.scalars(select(GroupMember.org_id).where(GroupMember.group_id == group.id)))
    for org in orgs:
        if org.id not in have:
            session.add(GroupMember(group_id=group.id, org_id=org.id))
            have.add(org.id)
    session.flush()
    audit.append(
        session,
        who,
        action,
        "group",
        group.id,
        detail={"name": group.name, "orgs": sorted(o.name for o in orgs)},
    )
    return group_orgs(session, group.id)


def group_orgs(session: Session, group_id: int) -> list[Organisation]:
    """The organisations of a group, by name."""
    q = (
        select(Organisation)
        .join(GroupMember, GroupMember.org_id == Organisation.id)
        .where(GroupMember.group_id == group_id)
    )
    return list(session.scalars(q.order_by(Organisation.name)))


def add_user(
    session: Session,
    who: Principal | None,
    name: str,
    org: Organisation,
    roles: list[str],
    *,
    password: str | None = None,
    display_name: str = "",
) -> User:
    """Create a user of ``org`` with ``roles``; the roles must fit the organisation's kind."""
    if who is not None:
        own_admin = who.has(ORG_ADMIN) and who.org_id == org.id
        if not who.can_write or not (who.has(HUB_ADMIN) or own_admin):
            raise ForbiddenError(
                "adding a user needs a hub admin, or an org admin of that organisation"
            )
        if HUB_ADMIN in roles and not who.has(HUB_ADMIN):
            raise ForbiddenError("only a hub admin may give the hub_admin role")
    name = _clean_name(name, "name")
    if not roles:
        raise ValidationError(f"a user needs at least one role: {', '.join(ROLES)}", field="role")
    for role in roles:
        if role not in ROLES:
            raise ValidationError(
                f"role {role!r}: expected one of {', '.join(ROLES)}", field="role"
            )
        if role not in ROLES_OF_KIND[org.kind]:
            raise ValidationError(
                f"role {role!r} does not fit a {org.kind} organisation ({org.name})", field="role"
            )
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise ConflictError(f"user {name!r} already exists")
    user = User(name=name, org_id=org.id, display_name=display_name, created_at=utcnow(),
                password_hash=hash_password(password) if password is not None else None)  # fmt: skip
    session.add(user)
    session.flush()
    for role in sorted(set(roles)):
        session.add(UserRole(user_id=user.id, role=role))
    session.flush()
    audit.append(
        session,
        who,
        "user.create",
        "user",
        user.id,
        detail={"name": name, "org": org.name, "roles": sorted(set(roles))},
    )
    return user


def roles_of(session: Session, user_id: int) -> frozenset[str]:
    """The roles a user holds."""
    return frozenset(session.scalars(select(UserRole.role).where(UserRole.user_id == user_id)))


def principal_for(
    session: Session, user: User, *, can_write: bool = True, via: str = "cli"
) -> Principal:
    """The principal acting as ``user``; ForbiddenError if the user is disabled."""
    if user.disabled_at is not None:
        raise ForbiddenError(f"user {user.name!r} is disabled")
    org = session.get(Organisation, user.org_id)
    assert org is not None
    return Principal(
        user.id, user.name, org.id, org.kind, roles_of(session, user.id), can_write, via
    )


def principal_for_key(session: Session, key_sha256: str) -> tuple[Principal, ApiKey] | None:
    """The principal behind an active key (by its SHA-256), or None."""
    rec = session.scalar(
        select(ApiKey).where(ApiKey.sha256 == key_sha256, ApiKey.revoked_at.is_(None))
    )
    if rec is None:
        return None
    user = session.get(User, rec.user_id)
    if user is None or user.disabled_at is not None:
        return None
    return principal_for(session, user, can_write=rec.access == "write", via="api"), rec


def principal_for_password(session: Session, name: str, password: str) -> Principal | None:
    """The principal of a user signing in with its password (argon2 check), or None."""
    user = session.scalar(select(User).where(User.name == name))
    if (
        user is None
        or user.disabled_at is not None
        or not password_matches(user.password_hash, password)
    ):
        return None
    return principal_for(session, user, via="api")


def reach_of(session: Session, who: Principal) -> Reach:
    """The user, organisation and groups shares can reach ``who`` by."""
    groups = frozenset(
        session.scalars(select(GroupMember.group_id).where(GroupMember.org_id == who.org_id))
    )
    return Reach(who.user_id, who.org_id, groups, who.is_agency)


@dataclass(frozen=True)
class OrgView:
    """An organisation as the directory shows it."""

    id: int
    name: str
    kind: str
    country: str
    licence_id: str | None

    @classmethod
    def of(cls, org: Organisation) -> OrgView:
        """From the row."""
        return cls(org.id, org.name, org.kind, org.country, org.licence_id)


def user_json(session: Session, user: User) -> dict[str, Any]:
    """A user as JSON (never the password hash)."""
    org = session.get(Organisation, user.org_id)
    return {"id": user.id, "name": user.name, "org": org.name if org else None, "org_id": user.org_id,
            "display_name": user.display_name, "roles": sorted(roles_of(session, user.id)),
            "disabled": user.disabled_at is not None}  # fmt: skip


def list_orgs(session: Session, who: Principal | None) -> list[OrgView]:
    """The directory of organisations (every authenticated user may read it)."""
    return [
        OrgView.of(o) for o in session.scalars(select(Organisation).order_by(Organisation.name))
    ]


def group_json(session: Session, group: SharingGroup) -> dict[str, Any]:
    """A group with its member organisations' names."""
    return {"id": group.id, "name": group.name, "description": group.description,
            "members": [o.name for o in group_orgs(session, group.id)]}  # fmt: skip


def list_groups(session: Session, who: Principal | None) -> list[dict[str, Any]]:
    """Every sharing group with its members."""
    return [
        group_json(session, g)
        for g in session.scalars(select(SharingGroup).order_by(SharingGroup.name))
    ]


def list_users(
    session: Session, who: Principal | None, org: str | None = None
) -> list[dict[str, Any]]:
    """Users: all of them for a hub admin (or the operator), else those of the caller's organisation."""
    q = select(User).order_by(User.name)
    if org is not None:
        q = q.where(User.org_id == org_by_name(session, org).id)
    if who is not None and not who.has(HUB_ADMIN):
        q = q.where(User.org_id == who.org_id)
    return [user_json(session, u) for u in session.scalars(q)]


def new_key_for(
    session: Session, who: Principal | None, user_name: str, *, name: str = "", access: str = "write",
    rate_limit: float | None = None,
) -> tuple[str, ApiKey, User]:  # fmt: skip
    """A key for a user: for oneself, by the user's org admin, or by a hub admin."""
    user = user_by_name(session, user_name)
    if who is not None:
        allowed = (
            who.user_id == user.id
            or who.has(HUB_ADMIN)
            or (who.has(ORG_ADMIN) and who.org_id == user.org_id)
        )
        if not allowed or not who.can_write:
            raise ForbiddenError(
                f"a key for {user_name!r} is made by that user, its org admin or a hub admin (with a write key)"
            )
    key, rec = create_key(session, user, name=name, access=access, rate_limit=rate_limit)
    audit.append(
        session,
        who,
        "apikey.create",
        "apikey",
        rec.id,
        detail={"user": user.name, "access": access},
    )
    return key, rec, user


def revoke_key_as(session: Session, who: Principal | None, key_id: str) -> ApiKey:
    """Revoke a key: its user, the user's org admin or a hub admin may."""
    rec = revoke_key(session, key_id)
    if who is not None:
        owner = session.get(User, rec.user_id)
        allowed = (
            who.user_id == rec.user_id
            or who.has(HUB_ADMIN)
            or (who.has(ORG_ADMIN) and owner is not None and owner.org_id == who.org_id)
        )
        if not allowed or not who.can_write:
            raise ForbiddenError(
                f"key {key_id} is revoked by its user, their org admin or a hub admin"
            )
    audit.append(session, who, "apikey.revoke", "apikey", rec.id)
    return rec
