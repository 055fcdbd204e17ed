"""STIX 2.1 import: our own bundles losslessly (chaintrail extensions), foreign ones from the
standard properties (wallet/IP/e-mail/identity/user-account objects, notes, relationships)."""

from __future__ import annotations

import json
from typing import Any

from chaintrail.errors import DecodeError
from chaintrail.intel.bundle import IntelBundle
from chaintrail.intel.stix_model import CHAINTRAIL_IDENTITY, ENTITY_EXT, LINK_EXT, TAG_EXT, tlp_of
from chaintrail.intel.stix_shape import check_object
from chaintrail.intel.taxonomy import load_taxonomy


def _plain_entity(obj: dict[str, Any]) -> dict[str, Any] | None:
    ext = (obj.get("extensions") or {}).get(ENTITY_EXT)
    tlp = tlp_of(obj)
    if ext:
        kind, value = ext["kind"], ext["value"]
        return {"id": f"{kind}:{value}", "kind": kind, "value": value, "name": ext.get("name"),
                "attrs": json.loads(ext.get("attrs") or "{}"), "tlp": ext.get("tlp", tlp)}  # fmt: skip
    t = obj["type"]
    if t == "cryptocurrency-wallet":
        kind, value = "address", obj["value"]
    elif t == "cryptocurrency-transaction":
        kind, value = "tx", obj["value"].lower()
    elif t in ("ipv4-addr", "ipv6-addr"):
        kind, value = "ip", obj["value"]
    elif t == "email-addr":
        kind, value = "email", obj["value"].lower()
    elif t == "identity":
        kind, value = (
            ("person" if obj.get("identity_class") == "individual" else "org"),
            obj["name"],
        )
    elif t == "threat-actor":
        kind, value = "org", obj["name"]
    elif t == "user-account":
        acct = obj.get("account_type") or "unknown"
        handle = (
            obj.get("account_login") or obj.get("user_id") or obj.get("display_name") or obj["id"]
        )
        kind, value = (
            ("phone", handle) if acct == "phone-number" else ("social", f"{acct}:{handle}")
        )
    else:
        return None
    return {
        "id": f"{kind}:{value}",
        "kind": kind,
        "value": value,
        "name": obj.get("name"),
        "attrs": {},
        "tlp": tlp,
    }


def parse_stix(text: str, source: str = "<stix>") -> IntelBundle:
    """Parse a STIX 2.1 bundle (ours or a foreign one) into an :class:`IntelBundle`."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DecodeError(f"not JSON: {exc.msg}", source=f"{source}:{exc.lineno}") from exc
    if (
        not isinstance(doc, dict)
        or doc.get("type") != "bundle"
        or not isinstance(doc.get("objects"), list)
    ):
        raise DecodeError(
            "not a STIX bundle (expected an object with type 'bundle' and 'objects')", source=source
        )
    for k, o in enumerate(doc["objects"]):
        if not isinstance(o, dict) or not isinstance(o.get("id"), str) or not isinstance(o.get("type"), str):
            raise DecodeError(
                f"objects[{k}]: every STIX object needs a 'type' and an 'id'", source=source
            )
        check_object(o, k, source)
    objs = {o["id"]: o for o in doc["objects"]}
    b = IntelBundle()
    ent_of: dict[str, dict[str, Any]] = {}
    for oid, o in objs.items():
        if oid == CHAINTRAIL_IDENTITY or o.get("type") in (
            "extension-definition",
            "marking-definition",
        ):
            continue
        if ((o.get("extensions") or {}).get(ENTITY_EXT) or {}).get("kind") == "actor":
            cats = ["abuse"] if o.get("type") == "threat-actor" else ["organization"]
            b.actors.append(
                {
                    "actor_id": o["extensions"][ENTITY_EXT]["value"],
                    "label": o.get("name"),
                    "categories": cats,
                }
            )
            continue  # the actor id itself travels in each tag
        if o.get("type") == "grouping" and ENTITY_EXT in (o.get("extensions") or {}):
            e = _plain_entity(o)
        elif o.get("type") in ("note", "relationship", "grouping"):
            continue
        else:
            e = _plain_entity(o)
        if e:
            ent_of[oid] = e
        else:  # indicators, malware, reports ...: nothing chaintrail stores
            b.skipped[o["type"]] = b.skipped.get(o["type"], 0) + 1
    for o in objs.values():
        if o.get("type") == "cryptocurrency-transaction":
            val = lambda ref: ent_of[ref]["value"] if ref in ent_of else ref  # noqa: E731
            b.transactions.append({
                "tx_hash": o["value"].lower(), "currency": o.get("symbol"), "fee": o.get("fee"),
                "execution_time": o["execution_time"].replace("Z", "") if o.get("execution_time") else None,
                "inputs": [{"address": val(i["address_ref"]), "amount": i.get("amount")} for i in o.get("input") or []],
                "outputs": [{"address": val(i["address_ref"]), "amount": i.get("amount")} for i in o.get("output") or []],
            })  # fmt: skip
        elif o.get("type") == "note":
            b.tags.extend(_note_tags(o, ent_of))
        elif o.get("type") == "relationship":
            link = _relationship_link(o, ent_of)
            if link:
                b.links.append(link)
    in_links = {x for lk in b.links for x in (lk["src"], lk["dst"])}
    b.entities = [
        e for oid, e in ent_of.items() if e["name"] or e["attrs"] or e["tlp"] or e["id"] in in_links
    ]
    return b


def _note_tags(o: dict[str, Any], ent_of: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    ext = (o.get("extensions") or {}).get(TAG_EXT)
    if ext:
        tag = {k: v for k, v in ext.items() if k != "extension_type"}
        tag.setdefault("concepts", [])
        return [tag]
    taxo = load_taxonomy()
    tlp = tlp_of(o)
    level = o.get("confidence")
    conf = (
        min(taxo.confidence, key=lambda k: abs(taxo.confidence[k] - level))
        if level is not None
        else "unknown"
    )
    concepts = [c for c in o.get("labels") or [] if c in taxo.concepts]
    src = next(
        (r.get("url") or r.get("description") for r in o.get("external_references") or []), None
    )
    out = []
    for ref in o.get("object_refs") or []:
        e = ent_of.get(ref)
        if e and e["kind"] in ("address", "tx", "cluster"):
            out.append({"subject_type": e["kind"], "subject": e["value"], "label": o.get("abstract") or (o.get("content") or "")[:200],
                        "concepts": concepts, "category": concepts[0] if concepts else None, "confidence": conf,
                        "confidence_level": level, "source": src, "creator": (o.get("authors") or [None])[0],
                        "lastmod": (o.get("modified") or "")[:10] or None, "tlp": tlp})  # fmt: skip
    return out


def _relationship_link(
    o: dict[str, Any], ent_of: dict[str, dict[str, Any]]
) -> dict[str, Any] | None:
    ext = (o.get("extensions") or {}).get(LINK_EXT)
    if ext:
        return {k: v for k, v in ext.items() if k != "extension_type"}
    s, d = ent_of.get(o.get("source_ref", "")), ent_of.get(o.get("target_ref", ""))
    if not s or not d:
        return None
    tlp = tlp_of(o)
    ev = next(
        (r.get("description") or r.get("url") for r in o.get("external_references") or []), None
    )
    return {"src": s["id"], "dst": d["id"], "relation": o["relationship_type"], "evidence": ev,
            "observed_at": (o.get("created") or "").replace("Z", "") or None,
            "valid_from": (o.get("start_time") or "").replace("Z", "") or None,
            "valid_to": (o.get("stop_time") or "").replace("Z", "") or None,
            "confidence": 50 if o.get("confidence") is None else o["confidence"], "tlp": tlp, "note": o.get("description")}  # fmt: skip
