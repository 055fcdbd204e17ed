"""MISP export and import (offline, through PyMISP's MISPEvent/MISPObject; no MISP server).

* each tag -> a ``coin-address`` object (``address``, ``symbol``, ``text`` = label,
  ``last-updated`` = lastmod) or, for a transaction subject, a ``btc-transaction`` object;
* each transaction -> ``btc-transaction`` (``transaction-number``, ``time``, ``value_BTC``,
  ``btc-address`` per input/output address);
* each linked wallet -> ``btc-wallet`` (``wallet-address``); off-chain entities -> ``person``,
  ``legal-entity``, ``phone-number``, ``ip-port``, ``email``, ``user-account`` objects;
* links -> object references (relationship type = relation).

TLP goes into the MISP ``tlp:`` taxonomy tag; every other chaintrail field travels in
``chaintrail:<field>="<json>"`` machine tags (tags) or the object/reference ``comment`` as JSON
(entities, links, transactions), so MISP -> chaintrail -> MISP keeps every field.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from pymisp import MISPEvent, MISPObject

from chaintrail.errors import DecodeError, ValidationError
from chaintrail.intel.bundle import IntelBundle
from chaintrail.intel.jsonshape import OBJECT, check_fields
from chaintrail.intel.misp_shape import check_event_shape

_TAG_FIELDS = ("subject_type", "label", "category", "abuse", "concepts", "actor", "confidence", "confidence_level",
               "source", "creator", "lastmod", "provenance", "is_cluster_definer", "tag_type", "context", "network")  # fmt: skip
_PREFIX = "chaintrail:"


def _machine_tag(field: str, value: Any) -> str:
    return f"{_PREFIX}{field}={json.dumps(value, ensure_ascii=False)}"


def _obj(name: str) -> MISPObject:
    return MISPObject(name, strict=False)


def _entity_object(e: dict[str, Any]) -> MISPObject:
    kind, value = e["kind"], e["value"]
    if kind == "address":
        o = _obj("btc-wallet")
        o.add_attribute("wallet-address", value=value)
    elif kind == "person":
        o = _obj("person")
        o.add_attribute("full-name", value=e.get("name") or value)
    elif kind == "org":
        o = _obj("legal-entity")
        o.add_attribute("name", value=e.get("name") or value)
    elif kind == "phone":
        o = _obj("phone-number")
        o.add_attribute("phone-number", value=value)
    elif kind == "ip":
        o = _obj("ip-port")
        o.add_attribute("ip", value=value)
    elif kind == "email":
        o = _obj("email")
        o.add_attribute("from", value=value)
    elif kind in ("social", "account"):
        platform, _, handle = value.partition(":")
        o = _obj("user-account")
        o.add_attribute("username", value=handle)
        o.add_attribute("account-type", value=platform)
    else:  # tx, cluster
        o = _obj("coin-address")
        o.add_attribute("text", value=f"{kind}:{value}")
    o.comment = json.dumps({"entity": e}, sort_keys=True)
    if e.get("tlp") and o.attributes:
        o.attributes[0].add_tag(f"tlp:{e['tlp'].lower()}")
    return o


def bundle_to_misp(b: IntelBundle, *, info: str = "chaintrail export") -> str:
    """Serialise a bundle as one MISP event (JSON text, ``{"Event": {...}}``)."""
    ev = MISPEvent()
    ev.info = info
    ev.distribution = 0
    ev.analysis = 2
    ev.threat_level_id = 2
    ev.date = dt.date.today()
    objects: dict[str, MISPObject] = {}
    for t in b.tags:
        if t["subject_type"] == "tx":
            o = _obj("btc-transaction")
            key_attr = o.add_attribute("transaction-number", value=t["subject"])
        else:
            o = _obj("coin-address")
            key_attr = o.add_attribute("address", value=t["subject"]) if t["subject_type"] == "address" else \
                o.add_attribute("text", value=f"cluster:{t['subject']}")  # fmt: skip
            if t.get("currency"):
                o.add_attribute("symbol", value=t["currency"])
            o.add_attribute("text", value=t["label"]) if t["subject_type"] == "address" else None
            if t.get("lastmod"):
                o.add_attribute(
                    "last-updated",
                    value=dt.datetime.fromisoformat(str(t["lastmod"])).replace(tzinfo=dt.UTC),
                )
        if t.get("tlp"):
            key_attr.add_tag(f"tlp:{t['tlp'].lower()}")
        for f in _TAG_FIELDS:
            v = t.get(f)
            if v is not None and v != []:
                key_attr.add_tag(_machine_tag(f, v))
        if t.get("currency"):
            key_attr.add_tag(_machine_tag("currency", t["currency"]))
        ev.add_object(o)
    for tx in b.transactions:
        o = _obj("btc-transaction")
        o.add_attribute("transaction-number", value=tx["tx_hash"])
        if tx.get("execution_time"):
            o.add_attribute(
                "time", value=dt.datetime.fromisoformat(tx["execution_time"]).replace(tzinfo=dt.UTC)
            )
        total = sum(int(x.get("amount") or 0) for x in tx.get("outputs", []))
        if tx.get("outputs"):
            o.add_attribute("value_BTC", value=total / 1e8)
        for a in sorted(
            {
                x["address"]
                for x in (*tx.get("inputs", []), *tx.get("outputs", []))
                if x.get("address")
            }
        ):
            o.add_attribute("btc-address", value=a)
        o.comment = json.dumps({"transaction": tx}, sort_keys=True)
        ev.add_object(o)
        objects[f"tx:{tx['tx_hash']}"] = o
    ents = {e["id"]: e for e in b.entities}
    for lk in b.links:
        for end in ("src", "dst"):
            if lk[end] not in ents:
                kind, _, value = lk[end].partition(":")
                ents[lk[end]] = {
                    "id": lk[end],
                    "kind": kind,
                    "value": value,
                    "name": None,
                    "attrs": {},
                    "tlp": None,
                }
    for eid, e in sorted(ents.items()):
        if eid in objects:
            objects[eid].comment = json.dumps(
                {**json.loads(objects[eid].comment), "entity": e}, sort_keys=True
            )
            continue
        o = _entity_object(e)
        ev.add_object(o)
        objects[eid] = o
    for lk in b.links:
        objects[lk["src"]].add_reference(objects[lk["dst"]].uuid, lk.get("relation") or "related-to",
                                         comment=json.dumps({"link": lk}, sort_keys=True))  # fmt: skip
    return '{"Event": ' + ev.to_json(indent=2) + "}\n"


def _tag_from_attr(attr: Any, obj: Any) -> dict[str, Any]:
    tag: dict[str, Any] = {"concepts": []}
    for mt in attr.tags:
        name = mt.name
        if name.startswith("tlp:"):
            tag["tlp"] = name[4:].upper()
        elif name.startswith(_PREFIX) and "=" in name:
            f, _, raw = name[len(_PREFIX) :].partition("=")
            try:
                tag[f] = json.loads(raw)
            except json.JSONDecodeError:
                tag[f] = raw.strip('"')
    if obj.name == "btc-transaction":
        tag.setdefault("subject_type", "tx")
        tag["subject"] = attr.value
    elif attr.object_relation == "address":
        tag.setdefault("subject_type", "address")
        tag["subject"] = attr.value
    else:
        tag.setdefault("subject_type", "cluster")
        tag["subject"] = str(attr.value).removeprefix("cluster:")
    if "label" not in tag:
        texts = [a.value for a in obj.attributes if a.object_relation == "text"]
        tag["label"] = texts[0] if texts else attr.value
    if "currency" not in tag:
        sym = [a.value for a in obj.attributes if a.object_relation == "symbol"]
        tag["currency"] = sym[0] if sym else None
    return tag


_META = {"transaction": OBJECT, "entity": OBJECT, "link": OBJECT}


def _pymisp(read: Callable[[], Any], where: str, source: str) -> None:
    """Run one PyMISP read; its complaint becomes a DecodeError naming ``where``."""
    try:
        read()
    except Exception as exc:  # noqa: BLE001 - PyMISP raises many kinds for malformed events
        raise DecodeError(f"PyMISP cannot read it: {exc}", source=source, field=where) from exc


def _meta(raw: Any, where: str, source: str) -> dict[str, Any]:
    """The chaintrail record a ``comment`` carries as JSON (``{}`` for a plain comment)."""
    if not isinstance(raw, str) or not raw.startswith("{"):
        return {}
    try:
        meta = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValidationError(f"expected chaintrail's JSON record after '{{' ({exc.msg})",
                              source=source, field=f"{where}.comment") from exc  # fmt: skip
    meta = check_fields(meta, _META, f"{where}.comment", source)
    for key, required in (("transaction", ("tx_hash",)), ("entity", ("id",)), ("link", ())):
        if key in meta:
            check_fields(meta[key], {}, f"{where}.comment.{key}", source, required)
    return meta


def misp_to_bundle(text: str, source: str = "<misp>") -> IntelBundle:
    """Parse a MISP event (ours or a foreign one using these object templates) into a bundle."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DecodeError(f"not JSON: {exc.msg}", source=f"{source}:{exc.lineno}") from exc
    event = check_event_shape(doc, source)
    ev = MISPEvent()
    _pymisp(lambda: ev.from_dict(Event={k: v for k, v in event.items() if k != "Object"}), "Event", source)
    for n, obj in enumerate(event.get("Object") or []):
        _pymisp(lambda obj=obj: ev.add_object(copy.deepcopy(obj)), f"Event.Object[{n}]", source)
    b = IntelBundle()
    by_uuid: dict[str, str] = {}
    for n, o in enumerate(ev.objects):
        meta = _meta(getattr(o, "comment", None), f"Event.Object[{n}]", source)
        if "transaction" in meta:
            b.transactions.append(meta["transaction"])
            by_uuid[o.uuid] = f"tx:{meta['transaction']['tx_hash']}"
        if "entity" in meta:
            b.entities.append(meta["entity"])
            by_uuid[o.uuid] = meta["entity"]["id"]
        if meta:
            continue
        key = {"coin-address": ("address", "text"), "btc-transaction": ("transaction-number",)}.get(
            o.name
        )
        if key:
            for a in o.attributes:
                if a.object_relation in key and (
                    a.object_relation != "text" or str(a.value).startswith("cluster:")
                ):
                    b.tags.append(_tag_from_attr(a, o))
                    break
        elif o.name == "btc-wallet":
            addr = next(
                (a.value for a in o.attributes if a.object_relation == "wallet-address"), None
            )
            if addr:
                by_uuid[o.uuid] = f"address:{addr}"
    for n, o in enumerate(ev.objects):
        for k, ref in enumerate(o.references):
            meta = _meta(getattr(ref, "comment", None), f"Event.Object[{n}].ObjectReference[{k}]", source)
            if "link" in meta:
                b.links.append(meta["link"])
            elif o.uuid in by_uuid and ref.referenced_uuid in by_uuid:
                b.links.append({"src": by_uuid[o.uuid], "dst": by_uuid[ref.referenced_uuid],
                                "relation": ref.relationship_type, "confidence": 50})  # fmt: skip
    return b
