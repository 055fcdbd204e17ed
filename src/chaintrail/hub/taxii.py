"""TAXII 2.1 collections of the hub, per requesting organisation, filtered by TLP marking.

Collections a user sees (ids are stable UUIDs):

* ``TLP:CLEAR`` — every CLEAR object; ``TLP:GREEN`` — every GREEN object (member agencies only);
* ``Shared with <org>`` — AMBER, AMBER+STRICT and RED objects of other organisations that were
  shared with the user, its organisation or one of its groups, and objects pulled or pushed
  for the organisation;
* ``<group> TLP:AMBER`` / ``<group> TLP:AMBER+STRICT`` per sharing group of the organisation —
  what was shared with the group at that marking; a member agency may push into them;
* ``<org> (own)`` — the organisation's own case items.

Objects come from case items (:mod:`chaintrail.hub.stixmap`, always in the requester's view) and
from ``stix_objects`` (pushed or pulled). A pushed object keeps a marking at least as strict as
its collection's: an AMBER object is never accepted into a GREEN collection.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from chaintrail.errors import ForbiddenError, NotFoundError, ValidationError
from chaintrail.hub import audit
from chaintrail.hub.cases import item_json, load_scope
from chaintrail.hub.directory import org_of, reach_of
from chaintrail.hub.models import Case, Item, Share, SharingGroup, StixObject, TaxiiStatus, utcnow
from chaintrail.hub.policy import AMBER, CLEAR, GREEN, RED, STRICT, Reach, access
from chaintrail.hub.principal import Principal
from chaintrail.hub.stixmap import item_objects
from chaintrail.intel.stix_model import TLP_MARKINGS, TLP_OF_MARKING

_NS = uuid.UUID("6f0d5f0e-1c8b-4f53-a0b4-3e7d9c2a4b11")
STRICTNESS = {CLEAR: 0, GREEN: 1, AMBER: 2, STRICT: 3, RED: 4}
_STIX_ID = re.compile(r"^[a-z0-9][a-z0-9-]*--[0-9a-fA-F-]{36}$")
MAX_PAGE = 1000


@dataclass(frozen=True)
class Collection:
    """A collection as one requester sees it."""

    id: str
    title: str
    description: str
    can_read: bool
    can_write: bool
    kind: str  # clear | green | shared | group | own
    tlp: str | None = None  # the marking of clear/green/group collections
    group_id: int | None = None

    def resource(self) -> dict[str, Any]:
        """The TAXII collection resource."""
        return {"id": self.id, "title": self.title, "description": self.description, "can_read": self.can_read,
                "can_write": self.can_write, "media_types": ["application/stix+json;version=2.1"]}  # fmt: skip


def _cid(name: str) -> str:
    return str(uuid.uuid5(_NS, name))


def collections(session: Session, who: Principal) -> list[Collection]:
    """The collections ``who`` may use."""
    org = org_of(session, who)
    writer = who.works_cases() and who.can_write
    out = [
        Collection(
            _cid("clear"),
            "TLP:CLEAR",
            "Objects anyone with access may see",
            True,
            writer,
            "clear",
            CLEAR,
        )
    ]
    if who.is_agency:
        out.append(
            Collection(
                _cid("green"),
                "TLP:GREEN",
                "Objects for every member agency",
                True,
                writer,
                "green",
                GREEN,
            )
        )
    out.append(
        Collection(
            _cid(f"shared:{org.id}"),
            f"Shared with {org.name}",
            "AMBER/AMBER+STRICT/RED objects shared with you",
            True,
            False,
            "shared",
        )
    )
    for gid in sorted(reach_of(session, who).group_ids):
        group = session.get(SharingGroup, gid)
        assert group is not None
        for tlp in (AMBER, STRICT):
            out.append(Collection(_cid(f"group:{gid}:{tlp}"), f"{group.name} TLP:{tlp}", f"Shared with the group {group.name} at TLP:{tlp}",
                                  True, writer and who.is_agency, "group", tlp, gid))  # fmt: skip
    if who.works_cases():
        out.append(
            Collection(
                _cid(f"own:{org.id}"),
                f"{org.name} (own)",
                "Your organisation's case items",
                True,
                False,
                "own",
            )
        )
    return out


def collection(session: Session, who: Principal, collection_id: str) -> Collection:
    """One collection of ``who``; NotFoundError if it is not one of them."""
    for c in collections(session, who):
        if c.id == collection_id:
            return c
    raise NotFoundError(f"collection {collection_id!r}: no such collection for you")


def _group_share(scope_shares: Any, item_id: int, group_id: int) -> bool:
    return any(
        s.target_kind == "group" and s.target_id == group_id and s.item_id in (None, item_id)
        for s in scope_shares
    )


def _item_entries(
    session: Session, who: Principal, reach: Reach, col: Collection
) -> list[tuple[dt.datetime, dict[str, Any]]]:
    reachable = select(Case.id).where(
        Case.id.in_(select(Item.case_id).where(Item.tlp.in_((CLEAR, GREEN))))
    )
    shared = select(Share.case_id).where(Share.revoked_at.is_(None))
    q = select(Case).where(
        or_(Case.owner_org_id == who.org_id, Case.id.in_(shared), Case.id.in_(reachable))
    )
    out: list[tuple[dt.datetime, dict[str, Any]]] = []
    for case in session.scalars(q.order_by(Case.id)):
        scope = load_scope(session, case.id)
        assert scope is not None
        own = case.owner_org_id == who.org_id
        for item in session.scalars(select(Item).where(Item.case_id == case.id).order_by(Item.id)):
            if col.kind in ("clear", "green") and item.tlp != col.tlp:
                continue
            if col.kind == "own" and not own:
                continue
            if col.kind == "shared" and (own or item.tlp not in (AMBER, STRICT, RED)):
                continue
            if col.kind == "group" and (
                own
                or item.tlp != col.tlp
                or not _group_share(scope.shares, item.id, col.group_id or -1)
            ):
                continue
            view = access(who, reach, scope.marked(item), scope.shares, scope.members)
            if view is None:
                continue
            for obj in item_objects(item_json(session, item, view)):
                out.append((item.created_at, obj))
    return out


def _audience_of(col: Collection, who: Principal) -> str:
    if col.kind == "clear":
        return "public"
    if col.kind == "green":
        return "members"
    if col.kind == "group":
        return f"group:{col.group_id}"
    return f"org:{who.org_id}"


def _stored_entries(
    session: Session, who: Principal, col: Collection
) -> list[tuple[dt.datetime, dict[str, Any]]]:
    q = select(StixObject).where(StixObject.audience == _audience_of(col, who))
    if col.tlp is not None:
        q = q.where(StixObject.tlp == col.tlp)
    return [(o.date_added, json.loads(o.body)) for o in session.scalars(q)]


def _matches(obj: dict[str, Any], filters: dict[str, list[str]]) -> bool:
    for key, wanted in filters.items():
        if key == "id" and obj.get("id") not in wanted:
            return False
        if key == "type" and obj.get("type") not in wanted:
            return False
        if key == "spec_version" and obj.get("spec_version", "2.1") not in wanted:
            return False
        if (
            key == "version"
            and not ({"all", "last", "first"} & set(wanted))
            and obj.get("modified", obj.get("created")) not in wanted
        ):
            return False
    return True


def _stamp(when: dt.datetime) -> str:
    return when.isoformat(timespec="microseconds") + "Z"


def _parse_stamp(text: str, field: str) -> dt.datetime:
    try:
        return (
            dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
            .astimezone(dt.UTC)
            .replace(tzinfo=None)
        )
    except ValueError as exc:
        raise ValidationError(
            f"expected a timestamp such as 2026-01-31T12:00:00.000000Z, got {text!r}", field=field
        ) from exc


@dataclass(frozen=True)
class Page:
    """One page of objects with its added-dates."""

    objects: list[tuple[str, dict[str, Any]]]  # (date_added, object)
    more: bool
    next: str | None


def list_objects(
    session: Session, who: Principal, collection_id: str, *, limit: int = 100, next_token: str | None = None,
    added_after: str | None = None, filters: dict[str, list[str]] | None = None, audit_action: str = "taxii.objects",
) -> Page:  # fmt: skip
    """Objects of a collection in date-added order, one page; audited as a read."""
    col = collection(session, who, collection_id)
    reach = reach_of(session, who)
    entries = _item_entries(session, who, reach, col) + _stored_entries(session, who, col)
    seen: dict[str, tuple[str, dict[str, Any]]] = {}
    for when, obj in sorted(entries, key=lambda e: (e[0], e[1]["id"])):
        if _matches(obj, filters or {}):
            seen.setdefault(f"{obj['id']}|{obj.get('modified', '')}", (_stamp(when), obj))
    rows = sorted(seen.values(), key=lambda r: (r[0], r[1]["id"]))
    if added_after:
        after = _stamp(_parse_stamp(added_after, "added_after"))
        rows = [r for r in rows if r[0] > after]
    start = 0
    if next_token:
        try:
            start = int(next_token)
        except ValueError as exc:
            raise ValidationError(f"unknown next token {next_token!r}", field="next") from exc
    limit = max(1, min(limit, MAX_PAGE))
    page = rows[start : start + limit]
    more = start + limit < len(rows)
    audit.append(session, who, audit_action, "collection", col.id, marking=col.tlp,
                 detail={"objects": len(page), "start": start}, read=True)  # fmt: skip
    return Page(page, more, str(start + limit) if more else None)


def _tlp_of(obj: dict[str, Any]) -> str | None:
    found = [TLP_OF_MARKING[m] for m in obj.get("object_marking_refs") or [] if m in TLP_OF_MARKING]
    return max(found, key=STRICTNESS.__getitem__) if found else None


def add_objects(
    session: Session, who: Principal, collection_id: str, envelope: Any, source: str = "taxii push"
) -> dict[str, Any]:
    """Store the objects of a pushed envelope; returns the (complete) status resource."""
    col = collection(session, who, collection_id)
    if not col.can_write:
        raise ForbiddenError(f"collection {col.title!r} is read-only for you")
    if not isinstance(envelope, dict) or not isinstance(envelope.get("objects"), list):
        raise ValidationError('expected a STIX envelope {"objects": [...]}', field="objects")
    successes, failures = [], []
    audience = _audience_of(col, who)
    for i, obj in enumerate(envelope["objects"]):
        oid = obj.get("id") if isinstance(obj, dict) else None
        if (
            not isinstance(oid, str)
            or not _STIX_ID.match(oid)
            or not isinstance(obj.get("type"), str)
        ):
            failures.append(
                {"id": str(oid), "message": f"object {i}: not a STIX object with type and id"}
            )
            continue
        version = str(obj.get("modified") or obj.get("created") or "")
        own_tlp = _tlp_of(obj)
        tlp = col.tlp or (own_tlp or AMBER)
        if own_tlp is not None and STRICTNESS[own_tlp] > STRICTNESS[tlp]:
            failures.append(
                {
                    "id": oid,
                    "version": version,
                    "message": f"marked TLP:{own_tlp}: may not go to a TLP:{tlp} collection",
                }
            )
            continue
        obj = (
            {**obj, "object_marking_refs": [TLP_MARKINGS[tlp]]}
            if obj.get("type") != "marking-definition"
            else obj
        )
        exists = session.scalar(select(StixObject.id).where(StixObject.stix_id == oid, StixObject.version == version,
                                                            StixObject.owner_org_id == who.org_id, StixObject.audience == audience))  # fmt: skip
        if exists is None:
            session.add(StixObject(stix_id=oid, version=version, type=obj["type"], tlp=tlp, audience=audience, owner_org_id=who.org_id,
                                   source=source[:500], body=json.dumps(obj, sort_keys=True), date_added=utcnow()))  # fmt: skip
        successes.append({"id": oid, "version": version})
    session.flush()
    now = _stamp(utcnow())
    status = {"id": str(uuid.uuid4()), "status": "complete", "request_timestamp": now, "total_count": len(envelope["objects"]),
              "success_count": len(successes), "successes": successes, "failure_count": len(failures), "failures": failures,
              "pending_count": 0, "pendings": []}  # fmt: skip
    session.add(
        TaxiiStatus(
            id=status["id"], org_id=who.org_id, created_at=utcnow(), body=json.dumps(status)
        )
    )
    audit.append(session, who, "taxii.push", "collection", col.id, marking=col.tlp,
                 detail={"stored": len(successes), "refused": len(failures), "source": source[:200]})  # fmt: skip
    return status


def get_status(session: Session, who: Principal, status_id: str) -> dict[str, Any]:
    """A status resource of the caller's organisation."""
    row = session.get(TaxiiStatus, status_id)
    if row is None or row.org_id != who.org_id:
        raise NotFoundError(f"status {status_id!r}: no such status of your organisation")
    return dict(json.loads(row.body))


def store_pulled(
    session: Session, who: Principal, objects: list[dict[str, Any]], source: str
) -> int:
    """Keep objects pulled from another server for ``who``'s organisation (audience by marking:
    CLEAR for everyone here, GREEN for member agencies, stricter for the organisation only)."""
    stored = 0
    for obj in objects:
        oid = obj.get("id")
        if (
            not isinstance(oid, str)
            or not _STIX_ID.match(oid)
            or obj.get("type") in ("marking-definition", "extension-definition")
        ):
            continue
        tlp = _tlp_of(obj) or AMBER
        audience = {CLEAR: "public", GREEN: "members"}.get(tlp, f"org:{who.org_id}")
        version = str(obj.get("modified") or obj.get("created") or "")
        exists = session.scalar(select(StixObject.id).where(StixObject.stix_id == oid, StixObject.version == version,
                                                            StixObject.owner_org_id == who.org_id, StixObject.audience == audience))  # fmt: skip
        if exists is None:
            session.add(StixObject(stix_id=oid, version=version, type=str(obj.get("type")), tlp=tlp, audience=audience,
                                   owner_org_id=who.org_id, source=source[:500], body=json.dumps(obj, sort_keys=True),
                                   date_added=utcnow()))  # fmt: skip
            stored += 1
    session.flush()
    audit.append(
        session,
        who,
        "taxii.pull",
        "stix",
        "*",
        detail={"stored": stored, "received": len(objects), "source": source[:200]},
    )
    return stored
