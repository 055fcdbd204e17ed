"""Exporting a case: only the items the caller may see, each in its view, markings kept.

STIX 2.1 through :mod:`chaintrail.hub.stixmap`; MISP through chaintrail's MISP writer (notes,
traces and attachments have no MISP object of their own and are left out of MISP exports).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from chaintrail.errors import UsageError
from chaintrail.hub import audit
from chaintrail.hub.cases import item_json, visible_scope
from chaintrail.hub.directory import reach_of
from chaintrail.hub.models import Item
from chaintrail.hub.policy import access
from chaintrail.hub.principal import Principal
from chaintrail.hub.stixmap import bundle_of, item_objects
from chaintrail.intel.bundle import IntelBundle
from chaintrail.intel.misp import bundle_to_misp

FORMATS = ("stix", "misp")


def visible_items(
    session: Session, who: Principal, case_id: int
) -> tuple[str, list[dict[str, Any]]]:
    """The case title and its items in the caller's views (NotFoundError if the case is hidden)."""
    reach = reach_of(session, who)
    scope, _ = visible_scope(session, who, reach, case_id)
    out = []
    for item in session.query(Item).filter(Item.case_id == case_id).order_by(Item.id):
        view = access(who, reach, scope.marked(item), scope.shares, scope.members)
        if view is not None:
            out.append(item_json(session, item, view))
    return scope.case.title, out


def _misp(title: str, items: list[dict[str, Any]]) -> str:
    b = IntelBundle()
    for it in items:
        p, tlp = it["payload"], it["tlp"]
        if it["kind"] == "address":
            b.entities.append(
                {
                    "id": f"address:{p['address']}",
                    "kind": "address",
                    "value": p["address"],
                    "name": None,
                    "attrs": {},
                    "tlp": tlp,
                }
            )
        elif it["kind"] == "tx":
            b.entities.append(
                {
                    "id": f"tx:{p['txid']}",
                    "kind": "tx",
                    "value": p["txid"],
                    "name": None,
                    "attrs": {},
                    "tlp": tlp,
                }
            )
        elif it["kind"] == "entity":
            b.entities.append({**p, "attrs": p.get("attrs") or {}, "tlp": tlp})
        elif it["kind"] == "link":
            b.links.append({**p, "tlp": tlp})
    return bundle_to_misp(b, info=title)


def export_case(session: Session, who: Principal, case_id: int, fmt: str = "stix") -> str:
    """The case as STIX 2.1 bundle or MISP event JSON text, audited as an export."""
    if fmt not in FORMATS:
        raise UsageError(f"export format {fmt!r}: expected stix or misp")
    title, items = visible_items(session, who, case_id)
    if fmt == "stix":
        objects = [o for it in items for o in item_objects(it)]
        text = json.dumps(bundle_of(list({o["id"]: o for o in objects}.values())), indent=2) + "\n"
    else:
        text = _misp(title, items)
    audit.append(session, who, "case.export", "case", case_id, case_id=case_id,
                 detail={"format": fmt, "items": [i["id"] for i in items]}, read=True)  # fmt: skip
    return text
