"""Case items as STIX 2.1 objects, each marked with the item's TLP (for exports and TAXII).

Addresses, transactions, tags, off-chain entities and links go through chaintrail's STIX writer
(:func:`chaintrail.intel.stix.bundle_to_stix`), so they carry the same ids and extensions as a
``chaintrail export``; notes, traces, cluster snapshots and attachments become STIX ``note`` and
``grouping`` objects referring to the wallets they are about. Items never change once filed, so
their objects are computed once per item and kept.
"""

from __future__ import annotations

import json
import uuid
from functools import lru_cache
from typing import Any

import stix2

from chaintrail.intel.bundle import IntelBundle
from chaintrail.intel.stix import bundle_to_stix
from chaintrail.intel.stix_model import CHAINTRAIL_IDENTITY, TLP_MARKINGS, CryptocurrencyWallet

_NS = uuid.UUID("0b5e1f5c-7d0e-4b9e-8f7a-5e2c6b1d9a30")  # hub item object ids
BOILERPLATE_TYPES = ("extension-definition",)


def _tag(item: dict[str, Any]) -> dict[str, Any]:
    p = item["payload"]
    return {"subject_type": p.get("subject_type") or "address", "subject": p["subject"], "currency": p.get("currency") or "BTC",
            "label": p["label"], "category": p.get("category"), "abuse": p.get("abuse"), "concepts": p.get("concepts") or [],
            "actor": p.get("actor"), "confidence": p.get("confidence"), "confidence_level": p.get("confidence_level"),
            "source": p.get("source") or "", "creator": p.get("creator"), "lastmod": p.get("lastmod"), "tlp": item["tlp"],
            "provenance": "analyst", "pack_id": None, "is_cluster_definer": False, "tag_type": p.get("tag_type"),
            "context": p.get("context")}  # fmt: skip


def _end(ref: str, tlp: str) -> dict[str, Any]:
    kind, _, value = ref.partition(":")
    return {
        "id": ref,
        "kind": kind,
        "value": value,
        "name": value if kind in ("person", "org") else None,
        "attrs": {},
        "tlp": tlp,
    }


def _bundle(item: dict[str, Any]) -> IntelBundle | None:
    kind, p, tlp = item["kind"], item["payload"], item["tlp"]
    if kind == "address":
        return IntelBundle(entities=[{"id": f"address:{p['address']}", "kind": "address", "value": p["address"],
                                      "name": None, "attrs": {}, "tlp": tlp}])  # fmt: skip
    if kind == "tx":
        return IntelBundle(
            entities=[
                {
                    "id": f"tx:{p['txid']}",
                    "kind": "tx",
                    "value": p["txid"],
                    "name": None,
                    "attrs": {},
                    "tlp": tlp,
                }
            ]
        )
    if kind == "tag":
        return IntelBundle(tags=[_tag(item)])
    if kind == "entity":
        return IntelBundle(entities=[{**p, "attrs": p.get("attrs") or {}, "tlp": tlp}])
    if kind == "link":  # the writer needs both ends as entities
        ends = [_end(p[k], tlp) for k in ("src", "dst")]
        return IntelBundle(entities=ends, links=[{**p, "tlp": tlp}])
    return None


def _wallets(addresses: list[str], marks: list[str]) -> list[Any]:
    return [
        CryptocurrencyWallet(value=a, object_marking_refs=marks, allow_custom=True)
        for a in dict.fromkeys(addresses)
        if a
    ]


def _own_objects(item: dict[str, Any], marks: list[str]) -> list[Any]:
    kind, p = item["kind"], item["payload"]
    sid = str(uuid.uuid5(_NS, f"{item['origin']}:{item['id']}"))
    when = item["provenance"]["at"]
    common: dict[str, Any] = {
        "created": when,
        "modified": when,
        "object_marking_refs": marks,
        "allow_custom": True,
    }
    if kind == "note":
        return [stix2.Note(id=f"note--{sid}", content=p.get("markdown", ""), abstract=item["title"][:200] or None,
                           object_refs=[CHAINTRAIL_IDENTITY], **common)]  # fmt: skip
    if kind == "attachment":
        text = f"attachment {p.get('name', '')} ({p.get('size')} bytes, sha256 {p.get('sha256')})"
        return [
            stix2.Note(id=f"note--{sid}", content=text, object_refs=[CHAINTRAIL_IDENTITY], **common)
        ]
    if kind == "cluster":
        wallets = _wallets(p.get("addresses", []), marks)
        refs = [w.id for w in wallets] or [CHAINTRAIL_IDENTITY]
        return [*wallets, stix2.Grouping(id=f"grouping--{sid}", name=item["title"], context="chaintrail-cluster-snapshot",
                                         object_refs=refs, **common)]  # fmt: skip
    # trace: the seeds and the terminals the funds reached, with amounts in the description
    result = p.get("result") or {}
    terms = result.get("terminals") or []
    seeds = [
        n["id"] for n in result.get("nodes", []) if n.get("seed") and n.get("kind") == "address"
    ]
    wallets = _wallets(seeds + [t["address"] for t in terms], marks)
    lines = [
        f"{t['address']}: {t['amount']} sat ({t.get('label') or 'unlabelled'})" for t in terms[:200]
    ]
    return [*wallets, stix2.Grouping(id=f"grouping--{sid}", name=item["title"][:200] or "trace", context="chaintrail-trace",
                                     description="\n".join(lines) or None, object_refs=[w.id for w in wallets] or [CHAINTRAIL_IDENTITY],
                                     **common)]  # fmt: skip


@lru_cache(maxsize=65536)
def _objects_cached(item_json: str) -> tuple[str, ...]:
    item = json.loads(item_json)
    marks = [TLP_MARKINGS[item["tlp"]]]
    bundle = _bundle(item)
    if bundle is not None:
        objects = json.loads(bundle_to_stix(bundle))["objects"]
    else:
        objects = [json.loads(o.serialize()) for o in _own_objects(item, marks)]
    out = []
    for obj in objects:
        if obj["type"] in BOILERPLATE_TYPES or obj.get("id") == CHAINTRAIL_IDENTITY:
            continue
        obj["object_marking_refs"] = marks
        out.append(json.dumps(obj, sort_keys=True))
    return tuple(out)


def item_objects(item: dict[str, Any], origin: str = "hub") -> list[dict[str, Any]]:
    """The STIX objects of an item as :func:`chaintrail.hub.cases.item_json` shows it (its view)."""
    key = json.dumps({**item, "origin": origin}, sort_keys=True, default=str)
    return [json.loads(o) for o in _objects_cached(key)]


def boilerplate() -> list[dict[str, Any]]:
    """The identity and extension definitions chaintrail's objects refer to."""
    objs = json.loads(bundle_to_stix(IntelBundle()))["objects"]
    return [o for o in objs if o["type"] in BOILERPLATE_TYPES or o.get("id") == CHAINTRAIL_IDENTITY]


def bundle_of(objects: list[dict[str, Any]]) -> dict[str, Any]:
    """A STIX 2.1 bundle of the objects (plus the boilerplate they refer to)."""
    return {
        "type": "bundle",
        "id": f"bundle--{uuid.uuid4()}",
        "objects": [*boilerplate(), *objects],
    }
