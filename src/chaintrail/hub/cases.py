"""Cases and their items: create, read, update, file into; every call audited, every read checked.

A case or item the caller may not see is reported as not found (its existence is not leaked);
a visible object the caller may not change is a ForbiddenError. Each function runs inside the
caller's transaction, which also holds its audit entry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from chaintrail.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from chaintrail.hub import audit
from chaintrail.hub.db import insert_ignoring_duplicates
from chaintrail.hub.directory import reach_of, user_by_name
from chaintrail.hub.items import normalise, redact
from chaintrail.hub.models import Case, CaseMember, Item, Organisation, Share, User, utcnow
from chaintrail.hub.policy import Marked, Reach, ShareRef, View, access, parse_tlp
from chaintrail.hub.principal import Principal

STATUSES = ("open", "active", "suspended", "closed")


@dataclass
class CaseScope:
    """A case with what its access checks need: live shares, members."""

    case: Case
    shares: list[ShareRef]
    members: frozenset[int]
    member_names: list[str]

    def marked(self, item: Item | None = None) -> Marked:
        """The case (or one of its items) as the TLP rules see it."""
        if item is None:
            return Marked(self.case.owner_org_id, self.case.tlp, None, self.case.created_by)
        return Marked(self.case.owner_org_id, item.tlp, item.id, item.created_by)


def load_scope(session: Session, case_id: int) -> CaseScope | None:
    """The case and its live shares and members (None for an unknown id)."""
    case = session.get(Case, case_id)
    if case is None:
        return None
    rows = session.execute(
        select(Share, Organisation.kind)
        .outerjoin(
            Organisation, (Share.target_kind == "org") & (Organisation.id == Share.target_id)
        )
        .where(Share.case_id == case_id, Share.revoked_at.is_(None))
    ).all()
    shares = [
        ShareRef(s.item_id, s.target_kind, s.target_id, kind == "obliged_entity", s.redacted)
        for s, kind in rows
    ]
    named = session.execute(
        select(CaseMember.user_id, User.name)
        .join(User, User.id == CaseMember.user_id)
        .where(CaseMember.case_id == case_id)
    ).all()
    return CaseScope(case, shares, frozenset(u for u, _ in named), sorted(n for _, n in named))


def _not_found(case_id: int) -> NotFoundError:
    return NotFoundError(f"case {case_id}: no such case, or it is not shared with you")


def visible_scope(
    session: Session, who: Principal, reach: Reach, case_id: int
) -> tuple[CaseScope, View]:
    """The case if ``who`` may see it, with its view; NotFoundError otherwise."""
    scope = load_scope(session, case_id)
    if scope is None:
        raise _not_found(case_id)
    view = access(who, reach, scope.marked(), scope.shares, scope.members)
    if view is None:
        raise _not_found(case_id)
    return scope, view


def name_of(session: Session, model: type[Organisation] | type[User], row_id: int) -> str | None:
    """The name of an organisation or user, cached for the session (the identity map is weak)."""
    cache: dict[tuple[str, int], str | None] = session.info.setdefault("names", {})
    key = (model.__tablename__, row_id)
    if key not in cache:
        cache[key] = session.scalar(select(model.name).where(model.id == row_id))
    return cache[key]


def case_json(
    session: Session, case: Case, view: View, members: list[str] | None = None
) -> dict[str, Any]:
    """A case as JSON (members only in the full view)."""
    out: dict[str, Any] = {"id": case.id, "title": case.title, "status": case.status, "tlp": case.tlp,
                           "owner_org": name_of(session, Organisation, case.owner_org_id), "created_at": case.created_at.isoformat() + "Z",
                           "updated_at": case.updated_at.isoformat() + "Z", "item_count": case.item_count,
                           "version": case.version, "view": view.value}  # fmt: skip
    if view is View.FULL:
        if members is None:
            members = load_scope(session, case.id).member_names  # type: ignore[union-attr]
        out["members"] = members
    return out


def item_json(session: Session, item: Item, view: View) -> dict[str, Any]:
    """An item with its provenance, as the view allows."""
    payload = json.loads(item.payload)
    prov: dict[str, Any] = {
        "org": name_of(session, Organisation, item.created_org),
        "at": item.created_at.isoformat() + "Z",
        "via": item.via,
    }
    if view is View.FULL:
        prov.update(user=name_of(session, User, item.created_by), request_id=item.request_id)
    else:
        payload = redact(item.kind, payload)
    return {"id": item.id, "case_id": item.case_id, "kind": item.kind, "subject": item.subject,
            "title": item.title if view is View.FULL or item.kind != "note" else "[redacted]",
            "tlp": item.tlp, "view": view.value, "provenance": prov, "payload": payload}  # fmt: skip


def create_case(
    session: Session,
    who: Principal,
    title: str,
    tlp: str = "AMBER",
    members: list[str] | None = None,
) -> Case:
    """Open a case owned by the caller's organisation (the caller is its first member)."""
    if not who.works_cases() or not who.can_write:
        raise ForbiddenError(
            "opening a case needs an investigator, analyst or supervisor of a member agency with a write key"
        )
    title = title.strip()
    if not title or len(title) > 500:
        raise ValidationError("a case title is 1-500 characters", field="title")
    now = utcnow()
    case = Case(owner_org_id=who.org_id, title=title, status="open", tlp=parse_tlp(tlp), created_by=who.user_id,
                created_at=now, updated_at=now, item_count=0, version=1)  # fmt: skip
    session.add(case)
    session.flush()
    session.add(CaseMember(case_id=case.id, user_id=who.user_id))
    session.flush()
    audit.append(
        session,
        who,
        "case.create",
        "case",
        case.id,
        case_id=case.id,
        marking=case.tlp,
        detail={"title": title},
    )
    if members:
        add_members(session, who, case.id, members)
    return case


def writable_scope(session: Session, who: Principal, case_id: int) -> CaseScope:
    """The case if ``who`` may change it (its organisation's, a case role, a write key)."""
    scope, _ = visible_scope(session, who, reach_of(session, who), case_id)
    if scope.case.owner_org_id != who.org_id or not who.works_cases():
        raise ForbiddenError(
            f"case {case_id} belongs to another organisation: only its owner changes it"
        )
    if not who.can_write:
        raise ForbiddenError("this API key is read-only")
    return scope


def add_members(session: Session, who: Principal, case_id: int, names: list[str]) -> list[str]:
    """Add users of the owner organisation to a case; returns the members afterwards."""
    scope = writable_scope(session, who, case_id)
    rows = []
    for name in names:
        user = user_by_name(session, name)
        if user.org_id != scope.case.owner_org_id:
            raise ValidationError(
                f"user {name!r} is not in the case's organisation: share with them instead",
                field="member",
            )
        if user.id not in scope.members:
            rows.append({"case_id": case_id, "user_id": user.id})
    insert_ignoring_duplicates(session, CaseMember, rows)
    audit.append(
        session,
        who,
        "case.members",
        "case",
        case_id,
        case_id=case_id,
        marking=scope.case.tlp,
        detail={"added": sorted(names)},
    )
    return sorted(
        session.scalars(
            select(User.name)
            .join(CaseMember, CaseMember.user_id == User.id)
            .where(CaseMember.case_id == case_id)
        )
    )


def update_case(
    session: Session, who: Principal, case_id: int, *, title: str | None = None, status: str | None = None,
    tlp: str | None = None, expected_version: int | None = None,
) -> Case:  # fmt: skip
    """Change title, status or default marking; ConflictError if the case changed since ``expected_version``."""
    scope = writable_scope(session, who, case_id)
    case = scope.case
    changes: dict[str, Any] = {}
    if title is not None:
        if not title.strip() or len(title) > 500:
            raise ValidationError("a case title is 1-500 characters", field="title")
        changes["title"] = title.strip()
    if status is not None:
        if status not in STATUSES:
            raise ValidationError(
                f"case status {status!r}: expected one of {', '.join(STATUSES)}", field="status"
            )
        changes["status"] = status
    if tlp is not None:
        changes["tlp"] = parse_tlp(tlp)
    cond = [Case.id == case_id]
    if expected_version is not None:
        cond.append(Case.version == expected_version)
    res = session.execute(
        update(Case)
        .where(*cond)
        .values(**changes, version=Case.version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if res.rowcount != 1:  # type: ignore[attr-defined]
        raise ConflictError(
            f"case {case_id} changed since version {expected_version}: read it again"
        )
    session.refresh(case)
    audit.append(
        session,
        who,
        "case.update",
        "case",
        case_id,
        case_id=case_id,
        marking=case.tlp,
        detail=changes,
    )
    return case


def filing_scope(session: Session, who: Principal, case_id: int) -> CaseScope:
    """The case if ``who`` may file into it now (writable and not closed)."""
    scope = writable_scope(session, who, case_id)
    if scope.case.status == "closed":
        raise ConflictError(
            f"case {case_id} is closed: reopen it (status open) before filing into it"
        )
    return scope


def add_item(
    session: Session, who: Principal, case_id: int, kind: str, payload: dict[str, Any], *,
    tlp: str | None = None, via: str = "cli", attachment_sha256: str | None = None,
) -> Item:  # fmt: skip
    """File an item into a case of the caller's organisation (marking defaults to the case's)."""
    scope = writable_scope(session, who, case_id)
    if scope.case.status == "closed":
        raise ConflictError(
            f"case {case_id} is closed: reopen it (status open) before filing into it"
        )
    subject, title, clean = normalise(kind, payload)
    item = Item(case_id=case_id, kind=kind, subject=subject, title=title, payload=json.dumps(clean, sort_keys=True),
                tlp=parse_tlp(tlp) if tlp else scope.case.tlp, attachment_sha256=attachment_sha256,
                created_by=who.user_id, created_org=who.org_id, created_at=utcnow(), via=via[:200],
                request_id=who.request_id)  # fmt: skip
    session.add(item)
    session.execute(
        update(Case)
        .where(Case.id == case_id)
        .values(item_count=Case.item_count + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.flush()
    audit.append(
        session,
        who,
        "item.create",
        "item",
        item.id,
        case_id=case_id,
        marking=item.tlp,
        detail={"kind": kind, "via": via[:200]},
    )
    return item


def read_case(session: Session, who: Principal, case_id: int) -> dict[str, Any]:
    """A case with the items the caller may see (each in its view)."""
    reach = reach_of(session, who)
    scope, view = visible_scope(session, who, reach, case_id)
    items = []
    for item in session.scalars(select(Item).where(Item.case_id == case_id).order_by(Item.id)):
        iv = access(who, reach, scope.marked(item), scope.shares, scope.members)
        if iv is not None:
            items.append(item_json(session, item, iv))
    audit.append(session, who, "case.read", "case", case_id, case_id=case_id, marking=scope.case.tlp,
                 detail={"items": [i["id"] for i in items], "view": view.value}, read=True)  # fmt: skip
    return {**case_json(session, scope.case, view, scope.member_names), "items": items}


def visible_item(session: Session, who: Principal, item_id: int) -> tuple[Item, CaseScope, View]:
    """An item the caller may see, with its case and view; NotFoundError otherwise."""
    item = session.get(Item, item_id)
    scope = load_scope(session, item.case_id) if item is not None else None
    view = (
        access(who, reach_of(session, who), scope.marked(item), scope.shares, scope.members)
        if scope and item
        else None
    )
    if item is None or scope is None or view is None:
        raise NotFoundError(f"item {item_id}: no such item, or it is not shared with you")
    return item, scope, view


def read_item(session: Session, who: Principal, item_id: int) -> dict[str, Any]:
    """One item in the caller's view."""
    item, _, view = visible_item(session, who, item_id)
    audit.append(
        session,
        who,
        "item.read",
        "item",
        item_id,
        case_id=item.case_id,
        marking=item.tlp,
        detail={"view": view.value},
        read=True,
    )
    return item_json(session, item, view)


def list_cases(session: Session, who: Principal) -> list[dict[str, Any]]:
    """Every case the caller may see: its organisation's and those shared with it."""
    reach = reach_of(session, who)
    reachable = select(Share.case_id).where(
        Share.revoked_at.is_(None),
        or_((Share.target_kind == "user") & (Share.target_id == who.user_id),
            (Share.target_kind == "org") & (Share.target_id == who.org_id),
            (Share.target_kind == "group") & Share.target_id.in_(reach.group_ids or {-1})),
    )  # fmt: skip
    q = select(Case).where(
        or_(
            Case.owner_org_id == who.org_id,
            Case.id.in_(reachable),
            Case.tlp.in_(("CLEAR", "GREEN")),
        )
    )
    out = []
    for case in session.scalars(q.order_by(Case.id)):
        scope = load_scope(session, case.id)
        assert scope is not None
        view = access(who, reach, scope.marked(), scope.shares, scope.members)
        if view is not None:
            out.append(case_json(session, case, view, scope.member_names))
    audit.append(
        session, who, "case.list", "case", "*", detail={"cases": [c["id"] for c in out]}, read=True
    )
    return out


def search(session: Session, who: Principal, query: str, limit: int = 100) -> list[dict[str, Any]]:
    """Items the caller may see whose subject is ``query`` or whose title contains it."""
    q = query.strip()
    if not q:
        raise ValidationError("search needs a non-empty query", field="q")
    reach = reach_of(session, who)
    like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = session.scalars(
        select(Item)
        .where(or_(Item.subject == q, Item.title.like(like, escape="\\")))
        .order_by(Item.id)
    )
    scopes: dict[int, CaseScope | None] = {}
    out: list[dict[str, Any]] = []
    for item in rows:
        if item.case_id not in scopes:
            scopes[item.case_id] = load_scope(session, item.case_id)
        scope = scopes[item.case_id]
        view = (
            access(who, reach, scope.marked(item), scope.shares, scope.members) if scope else None
        )
        if view is not None:
            out.append(item_json(session, item, view))
            if len(out) >= limit:
                break
    audit.append(
        session,
        who,
        "search",
        "item",
        "*",
        detail={"q": q, "items": [i["id"] for i in out]},
        read=True,
    )
    return out
