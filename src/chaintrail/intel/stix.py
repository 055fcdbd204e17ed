"""STIX 2.1 export of tags, wallets, transactions, off-chain entities and links.

Wallets and transactions use the community ``cryptocurrency-wallet`` / ``cryptocurrency-transaction``
SCOs (see :mod:`chaintrail.intel.stix_model`). Tags become ``note`` objects on the wallet (or
transaction, or cluster ``grouping``) they describe; links become ``relationship`` objects with
``start_time``/``stop_time``/``confidence`` and the evidence as an external reference. Every object
also carries a chaintrail property extension holding the exact chaintrail record, so
STIX -> chaintrail -> STIX keeps every field (the import is :mod:`chaintrail.intel.stix_import`).
TLP 2.0 markings use the OASIS marking-definition ids.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import stix2

from chaintrail.intel.bundle import IntelBundle
from chaintrail.intel.stix_model import (
    CHAINTRAIL_IDENTITY,
    ENTITY_EXT,
    EPOCH,
    LINK_EXT,
    NS,
    REL_SAFE,
    TAG_EXT,
    CryptocurrencyTransaction,
    CryptocurrencyWallet,
    extension_definitions,
    stix_time,
    tlp_marking,
)
from chaintrail.intel.taxonomy import load_taxonomy


def _entity_object(e: dict[str, Any]) -> Any:
    kind, value = e["kind"], e["value"]
    ext = {ENTITY_EXT: {"extension_type": "property-extension", "kind": kind, "value": value,
                        "name": e.get("name"), "attrs": json.dumps(e.get("attrs") or {}, sort_keys=True),
                        "tlp": e.get("tlp")}}  # fmt: skip
    ext[ENTITY_EXT] = {k: v for k, v in ext[ENTITY_EXT].items() if v is not None}
    marks = tlp_marking(e.get("tlp"))
    common: dict[str, Any] = {"extensions": ext, "allow_custom": True}
    if marks:
        common["object_marking_refs"] = marks
    if kind == "address":
        return CryptocurrencyWallet(value=value, **common)
    if kind == "tx":
        return CryptocurrencyTransaction(value=value, **common)
    if kind == "ip":
        cls = stix2.IPv6Address if ":" in value else stix2.IPv4Address
        return cls(value=value, **common)
    if kind == "email":
        return stix2.EmailAddress(value=value, **common)
    if kind in ("person", "org"):
        return stix2.Identity(id=f"identity--{uuid.uuid5(NS, e['id'])}", name=e.get("name") or value,
                              identity_class="individual" if kind == "person" else "organization",
                              created=EPOCH, modified=EPOCH, **common)  # fmt: skip
    if kind == "cluster":
        return None  # clusters become groupings once their notes/relationships are known
    platform, _, handle = value.partition(":")
    if kind == "phone":
        return stix2.UserAccount(account_type="phone-number", user_id=value, **common)
    return stix2.UserAccount(account_type=platform, user_id=handle, account_login=handle, **common)


def bundle_to_stix(b: IntelBundle) -> str:
    """Serialise a bundle as a STIX 2.1 bundle (JSON text)."""
    objects: list[Any] = extension_definitions()
    ents: dict[str, dict[str, Any]] = {e["id"]: e for e in b.entities}
    for t in b.tags:
        eid = f"{'tx' if t['subject_type'] == 'tx' else t['subject_type']}:{t['subject']}"
        ents.setdefault(
            eid,
            {
                "id": eid,
                "kind": t["subject_type"],
                "value": t["subject"],
                "name": None,
                "attrs": {},
                "tlp": None,
            },
        )
    for tx in b.transactions:  # every selected transaction is written, tagged or linked or not
        tid = f"tx:{tx['tx_hash']}"
        ents.setdefault(tid, {"id": tid, "kind": "tx", "value": tx["tx_hash"], "name": None,
                              "attrs": {}, "tlp": None})  # fmt: skip
        for io in (*tx.get("inputs", []), *tx.get("outputs", [])):
            aid = f"address:{io['address']}"
            ents.setdefault(
                aid,
                {
                    "id": aid,
                    "kind": "address",
                    "value": io["address"],
                    "name": None,
                    "attrs": {},
                    "tlp": None,
                },
            )
    stix_id: dict[str, str] = {}
    tx_detail = {tx["tx_hash"]: tx for tx in b.transactions}
    pending_clusters: dict[str, list[str]] = {}
    for eid, e in sorted(ents.items()):
        if e["kind"] == "tx":
            continue
        obj = _entity_object(e)
        if obj is None:
            pending_clusters[eid] = []
            stix_id[eid] = f"grouping--{uuid.uuid5(NS, eid)}"
            continue
        objects.append(obj)
        stix_id[eid] = obj.id
    for eid, e in sorted(ents.items()):
        if e["kind"] != "tx":
            continue
        tx = tx_detail.get(e["value"], {})
        extra: dict[str, Any] = {}
        if tx.get("currency"):
            extra["symbol"] = tx["currency"]
        if tx.get("execution_time"):
            extra["execution_time"] = stix_time(tx["execution_time"])
        if tx.get("fee") is not None:
            extra["fee"] = int(tx["fee"])
        for side, key in (("inputs", "input"), ("outputs", "output")):
            if tx.get(side):
                extra[key] = [
                    {
                        "address_ref": stix_id[f"address:{io['address']}"],
                        "amount": int(io["amount"] or 0),
                    }
                    for io in tx[side]
                ]
        ext = {ENTITY_EXT: {"extension_type": "property-extension", "kind": "tx", "value": e["value"],
                            "attrs": json.dumps(e.get("attrs") or {}, sort_keys=True)}}  # fmt: skip
        if e.get("tlp"):
            ext[ENTITY_EXT]["tlp"] = e["tlp"]
        obj = CryptocurrencyTransaction(
            value=e["value"], extensions=ext, allow_custom=True, **extra
        )
        objects.append(obj)
        stix_id[eid] = obj.id
    actor_obj: dict[str, str] = {}
    abuse = {"abuse"} | {
        c for c in load_taxonomy().concepts if "abuse" in load_taxonomy().ancestors(c)
    }
    for a in b.actors:
        aid = a["actor_id"]
        aext = {
            "extensions": {
                ENTITY_EXT: {"extension_type": "property-extension", "kind": "actor", "value": aid}
            }
        }
        if set(a.get("categories") or []) & abuse:
            obj = stix2.ThreatActor(
                id=f"threat-actor--{uuid.uuid5(NS, aid)}",
                name=a["label"],
                created=EPOCH,
                modified=EPOCH,
                **aext,
            )
        else:
            obj = stix2.Identity(id=f"identity--{uuid.uuid5(NS, 'actor:' + aid)}", name=a["label"], identity_class="organization",
                                 created=EPOCH, modified=EPOCH, **aext)  # fmt: skip
        objects.append(obj)
        actor_obj[aid] = obj.id
    for t in b.tags:
        eid = f"{t['subject_type']}:{t['subject']}"
        key = "|".join(
            str(t.get(k))
            for k in ("subject_type", "subject", "label", "source", "creator", "provenance")
        )
        note_id = f"note--{uuid.uuid5(NS, key)}"
        refs = [stix_id[eid]] + ([actor_obj[t["actor"]]] if t.get("actor") in actor_obj else [])
        if eid in pending_clusters:
            pending_clusters[eid].append(note_id)
        ext = {"extension_type": "property-extension",
               **{k: v for k, v in t.items() if v is not None and v != [] and k not in ("confidence_level", "pack_id")},
               "confidence_level": t.get("confidence_level")}  # fmt: skip
        when = stix_time(t["lastmod"]) if t.get("lastmod") else EPOCH
        src = t.get("source") or ""
        ref = {
            "source_name": "chaintrail-tag-source",
            **({"url": src} if src.startswith(("http://", "https://")) else {"description": src}),
        }
        objects.append(stix2.Note(
            id=note_id, created=when, modified=when, abstract=t["label"],
            content=f"{t['label']} ({t.get('abuse') or t.get('category') or 'uncategorised'}); source: {src}",
            object_refs=refs, authors=[t["creator"]] if t.get("creator") else None,
            labels=t.get("concepts") or None, confidence=t.get("confidence_level"),
            external_references=[ref] if src else None, object_marking_refs=tlp_marking(t.get("tlp")),
            extensions={TAG_EXT: ext}, allow_custom=True,
        ))  # fmt: skip
    for lk in b.links:
        rid = f"relationship--{lk['link_id']}"
        for end in ("src", "dst"):
            if lk[end] in pending_clusters:
                pending_clusters[lk[end]].append(rid)
        start, stop = stix_time(lk.get("valid_from")), stix_time(lk.get("valid_to"))
        ext = {
            "extension_type": "property-extension",
            **{k: v for k, v in lk.items() if v is not None},
        }
        objects.append(stix2.Relationship(
            id=rid, relationship_type=REL_SAFE.sub("-", (lk.get("relation") or "related-to").lower()).strip("-") or "related-to",
            source_ref=stix_id[lk["src"]], target_ref=stix_id[lk["dst"]], created=stix_time(lk.get("observed_at")) or EPOCH,
            modified=stix_time(lk.get("observed_at")) or EPOCH, start_time=start,
            stop_time=stop if (stop and (not start or stop > start)) else None,
            confidence=lk.get("confidence"), description=lk.get("note"),
            external_references=[{"source_name": "evidence", "description": lk["evidence"]}] if lk.get("evidence") else None,
            object_marking_refs=tlp_marking(lk.get("tlp")), extensions={LINK_EXT: ext}, allow_custom=True,
        ))  # fmt: skip
    for eid, refs in pending_clusters.items():
        e = ents[eid]
        objects.append(stix2.Grouping(
            id=stix_id[eid], name=f"cluster {e['value']}", context="chaintrail-cluster", object_refs=refs or [CHAINTRAIL_IDENTITY],
            created=EPOCH, modified=EPOCH,
            extensions={ENTITY_EXT: {"extension_type": "property-extension", "kind": "cluster", "value": e["value"],
                                     "attrs": json.dumps(e.get("attrs") or {}, sort_keys=True)}},
        ))  # fmt: skip
    # stix2's pretty printer is quadratic in the bundle size; indent the compact text instead
    return (
        json.dumps(
            json.loads(stix2.Bundle(objects=objects, allow_custom=True).serialize()), indent=2
        )
        + "\n"
    )


def validate_stix(text: str) -> list[str]:
    """Errors ``stix2-validator`` reports for a bundle (empty list = valid)."""
    # stix2-validator is optional (the test extra): only checking needs it, exporting does not
    from stix2validator import ValidationOptions, validate_string

    res = validate_string(text, ValidationOptions(version="2.1"))
    errs = [str(e) for e in getattr(res, "errors", [])]
    for o in getattr(res, "object_results", []) or []:
        errs.extend(f"{o.object_id}: {e}" for e in o.errors)
    return errs if errs or not res.is_valid else []

