"""Opening a case or an item to a user, an organisation or a sharing group (and closing it again).

The rules of :func:`chaintrail.hub.policy.share_refusal` decide; the share and its audit entry
land in one transaction. Only the organisation that made a share (or the case's owner) revokes it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from chaintrail.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from chaintrail.hub import audit
from chaintrail.hub.cases import visible_item, visible_scope
from chaintrail.hub.directory import group_by_name, org_by_name, reach_of, user_by_name
from chaintrail.hub.models import Case, Item, Organisation, Share, SharingGroup, User, utcnow
from chaintrail.hub.policy import Marked, View, share_refusal
from chaintrail.hub.principal import OBLIGED_ENTITY, Principal

TARGET_KINDS = ("user", "org", "group")


def _target(session: Session, kind: str, name: str) -> tuple[int, bool, str]:
    if kind == "user":
        user = user_by_name(session, name)
        return user.id, False, user.name
    if kind == "org":
        org = org_by_name(session, name)
        return org.id, org.kind == OBLIGED_ENTITY, org.name
    if kind == "group":
        group = group_by_name(session, name)
        return group.id, False, group.name
    raise ValidationError(
        f"share target kind {kind!r}: expected user, org or group", field="target_kind"
    )


def create_share(
    session: Session, who: Principal, target_kind: str, target: str, *, case_id: int | None = None,
    item_id: int | None = None, redacted: bool = False,
) -> Share:  # fmt: skip
    """Share a case (all its items, each within its own marking) or one item with a target."""
    if (case_id is None) == (item_id is None):
        raise ValidationError("share either a case or an item", field="case_id")
    reach = reach_of(session, who)
    obj: Marked
    view: View
    if item_id is not None:
        item, scope, view = visible_item(session, who, item_id)
        obj, case = scope.marked(item), scope.case
    else:
        assert case_id is not None
        scope, view = visible_scope(session, who, reach, case_id)
        obj, case = scope.marked(), scope.case
    target_id, obliged, target_name = _target(session, target_kind, target)
    why = share_refusal(who, obj, view, target_kind, obliged, redacted)
    if why:
        raise ForbiddenError(
            f"cannot share {'item ' + str(item_id) if item_id else 'case ' + str(case.id)} with {target_kind} {target_name!r}: {why}"
        )
    dup = session.scalar(select(Share.id).where(
        Share.case_id == case.id, Share.item_id.is_(None) if item_id is None else Share.item_id == item_id,
        Share.target_kind == target_kind, Share.target_id == target_id, Share.revoked_at.is_(None),
        Share.redacted == redacted,
    ))  # fmt: skip
    if dup is not None:
        raise ConflictError(f"already shared with {target_kind} {target_name!r} (share {dup})")
    share = Share(case_id=case.id, item_id=item_id, target_kind=target_kind, target_id=target_id, redacted=redacted,
                  created_by=who.user_id, created_org=who.org_id, created_at=utcnow())  # fmt: skip
    session.add(share)
    session.flush()
    audit.append(session, who, "share.create", "share", share.id, case_id=case.id, marking=obj.tlp,
                 detail={"item": item_id, "target": f"{target_kind}:{target_name}", "redacted": redacted})  # fmt: skip
    return share


def revoke_share(session: Session, who: Principal, share_id: int) -> Share:
    """Close a share; only its creator's organisation or the case owner may."""
    share = session.get(Share, share_id)
    case = session.get(Case, share.case_id) if share else None
    if share is None or case is None or who.org_id not in (share.created_org, case.owner_org_id):
        raise NotFoundError(f"share {share_id}: no such share of your organisation")
    if not who.works_cases() or not who.can_write:
        raise ForbiddenError("revoking a share needs a case role and a write key")
    if share.revoked_at is None:
        share.revoked_at = utcnow()
        session.flush()
    audit.append(session, who, "share.revoke", "share", share.id, case_id=case.id, marking=case.tlp)
    return share


def share_json(session: Session, share: Share) -> dict[str, Any]:
    """A share as JSON, its target by name."""
    model = {"user": User, "org": Organisation, "group": SharingGroup}[share.target_kind]
    target = session.get(model, share.target_id)
    item = session.get(Item, share.item_id) if share.item_id else None
    return {"id": share.id, "case_id": share.case_id, "item_id": share.item_id, "target_kind": share.target_kind,
            "target": getattr(target, "name", None), "redacted": share.redacted,
            "marking": item.tlp if item else None, "created_at": share.created_at.isoformat() + "Z",
            "revoked": share.revoked_at is not None}  # fmt: skip


def list_shares(session: Session, who: Principal) -> list[dict[str, Any]]:
    """Shares the caller's organisation made or owns the case of (live and revoked)."""
    owned = select(Case.id).where(Case.owner_org_id == who.org_id)
    rows = session.scalars(
        select(Share)
        .where(or_(Share.created_org == who.org_id, Share.case_id.in_(owned)))
        .order_by(Share.id)
    )
    out = [share_json(session, s) for s in rows]
    audit.append(
        session,
        who,
        "share.list",
        "share",
        "*",
        detail={"shares": [s["id"] for s in out]},
        read=True,
    )
    return out
