"""STIX 2.1 export and import of tags, wallets, transactions, off-chain entities and links.

Wallets and transactions use the community ``cryptocurrency-wallet`` / ``cryptocurrency-transaction``
SCOs, declared here as our own ``extension-definition`` objects (``new-sco``). Tags become
``note`` objects on the wallet (or transaction, or cluster ``grouping``) they describe; links
become ``relationship`` objects with ``start_time``/``stop_time``/``confidence`` and the evidence
as an external reference. Every object also carries a chaintrail property extension holding the
exact chaintrail record, so STIX -> chaintrail -> STIX keeps every field. TLP 2.0 markings use the
OASIS marking-definition ids. Foreign bundles without our extensions import from the standard
properties.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from typing import Any

import stix2
from stix2 import CustomObservable
from stix2 import properties as P

from chaintrail.intel.bundle import IntelBundle
from chaintrail.intel.taxonomy import load_taxonomy

TLP_MARKINGS = {
    "CLEAR": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "GREEN": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "AMBER": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "AMBER+STRICT": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "RED": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
TLP_OF_MARKING = {v: k for k, v in TLP_MARKINGS.items()}
# TLP 1.0 ids some producers still use
TLP_OF_MARKING.update({
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "CLEAR",
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "GREEN",
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": "AMBER",
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "RED",
})  # fmt: skip

CHAINTRAIL_IDENTITY = "identity--1d882f66-9c4d-4051-8d5e-5059bb389cf2"
WALLET_EXT = "extension-definition--5edf3ee9-abfc-4b40-958e-679312f9db46"
TX_EXT = "extension-definition--9c1ad015-7575-4cef-83a4-6ca3b5c26005"
TAG_EXT = "extension-definition--055c8ed5-01b6-41c2-86f0-0390f6b5d0d7"
ENTITY_EXT = "extension-definition--3ca73248-265c-44f2-8b09-58fd956e811f"
LINK_EXT = "extension-definition--d8078133-c783-4a17-9a4d-63af2aa65e8c"
_NS = uuid.UUID("1d882f66-9c4d-4051-8d5e-5059bb389cf2")
_EPOCH = "2024-01-01T00:00:00.000Z"
_REL_SAFE = re.compile(r"[^a-z0-9-]+")


@CustomObservable(
    "cryptocurrency-wallet",
    [("value", P.StringProperty(required=True)),
     ("holder_ref", P.ReferenceProperty(valid_types=["identity"], spec_version="2.1"))],
    extension_name=WALLET_EXT,
    id_contrib_props=["value"],
)  # fmt: skip
class CryptocurrencyWallet:
    """The community ``cryptocurrency-wallet`` SCO: ``value`` is the address."""


@CustomObservable(
    "cryptocurrency-transaction",
    [("value", P.StringProperty(required=True)), ("symbol", P.StringProperty()),
     ("execution_time", P.TimestampProperty()), ("fee", P.IntegerProperty()),
     ("input", P.ListProperty(P.DictionaryProperty(spec_version="2.1"))),
     ("output", P.ListProperty(P.DictionaryProperty(spec_version="2.1")))],
    extension_name=TX_EXT,
    id_contrib_props=["value"],
)  # fmt: skip
class CryptocurrencyTransaction:
    """The community ``cryptocurrency-transaction`` SCO: ``value`` is the tx hash."""


def _ext_defs() -> list[Any]:
    ident = stix2.Identity(id=CHAINTRAIL_IDENTITY, name="chaintrail", identity_class="system",
                           created=_EPOCH, modified=_EPOCH)  # fmt: skip
    defs = [ident]
    for ext_id, name, kind, desc in (
        (
            WALLET_EXT,
            "cryptocurrency-wallet",
            "new-sco",
            "A cryptocurrency address (value) and its holder.",
        ),
        (
            TX_EXT,
            "cryptocurrency-transaction",
            "new-sco",
            "A cryptocurrency transaction with inputs and outputs.",
        ),
        (
            TAG_EXT,
            "chaintrail-tag",
            "property-extension",
            "The full chaintrail attribution tag on a note.",
        ),
        (
            ENTITY_EXT,
            "chaintrail-entity",
            "property-extension",
            "The chaintrail entity record behind an object.",
        ),
        (
            LINK_EXT,
            "chaintrail-link",
            "property-extension",
            "Evidence, time and confidence of a chaintrail link.",
        ),
    ):
        defs.append(stix2.ExtensionDefinition(
            id=ext_id, created_by_ref=CHAINTRAIL_IDENTITY, created=_EPOCH, modified=_EPOCH, name=name,
            description=desc, schema="https://github.com/chaintrail/chaintrail/blob/main/docs/INTEL.md",
            version="1.0.0", extension_types=[kind],
        ))  # fmt: skip
    return defs


def _ts(value: str | None) -> str | None:
    if not value:
        return None
    v = dt.datetime.fromisoformat(str(value))
    if v.tzinfo is None:
        v = v.replace(tzinfo=dt.UTC)
    return v.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


def _marking(tlp: str | None) -> list[str] | None:
    return [TLP_MARKINGS[tlp]] if tlp in TLP_MARKINGS else None


def _entity_object(e: dict[str, Any]) -> Any:
    kind, value = e["kind"], e["value"]
    ext = {ENTITY_EXT: {"extension_type": "property-extension", "kind": kind, "value": value,
                        "name": e.get("name"), "attrs": json.dumps(e.get("attrs") or {}, sort_keys=True),
                        "tlp": e.get("tlp")}}  # fmt: skip
    ext[ENTITY_EXT] = {k: v for k, v in ext[ENTITY_EXT].items() if v is not None}
    marks = _marking(e.get("tlp"))
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
        return stix2.Identity(id=f"identity--{uuid.uuid5(_NS, e['id'])}", name=e.get("name") or value,
                              identity_class="individual" if kind == "person" else "organization",
                              created=_EPOCH, modified=_EPOCH, **common)  # fmt: skip
    if kind == "cluster":
        return None  # clusters become groupings once their notes/relationships are known
    platform, _, handle = value.partition(":")
    if kind == "phone":
        return stix2.UserAccount(account_type="phone-number", user_id=value, **common)
    return stix2.UserAccount(account_type=platform, user_id=handle, account_login=handle, **common)


def bundle_to_stix(b: IntelBundle) -> str:
    """Serialise a bundle as a STIX 2.1 bundle (JSON text)."""
    objects: list[Any] = _ext_defs()
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
    for tx in b.transactions:
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
            stix_id[eid] = f"grouping--{uuid.uuid5(_NS, eid)}"
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
            extra["execution_time"] = _ts(tx["execution_time"])
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
                id=f"threat-actor--{uuid.uuid5(_NS, aid)}",
                name=a["label"],
                created=_EPOCH,
                modified=_EPOCH,
                **aext,
            )
        else:
            obj = stix2.Identity(id=f"identity--{uuid.uuid5(_NS, 'actor:' + aid)}", name=a["label"], identity_class="organization",
                                 created=_EPOCH, modified=_EPOCH, **aext)  # fmt: skip
        objects.append(obj)
        actor_obj[aid] = obj.id
    for t in b.tags:
        eid = f"{t['subject_type']}:{t['subject']}"
        key = "|".join(
            str(t.get(k))
            for k in ("subject_type", "subject", "label", "source", "creator", "provenance")
        )
        note_id = f"note--{uuid.uuid5(_NS, key)}"
        refs = [stix_id[eid]] + ([actor_obj[t["actor"]]] if t.get("actor") in actor_obj else [])
        if eid in pending_clusters:
            pending_clusters[eid].append(note_id)
        ext = {"extension_type": "property-extension",
               **{k: v for k, v in t.items() if v is not None and v != [] and k not in ("confidence_level", "pack_id")},
               "confidence_level": t.get("confidence_level")}  # fmt: skip
        when = _ts(t["lastmod"]) if t.get("lastmod") else _EPOCH
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
            external_references=[ref] if src else None, object_marking_refs=_marking(t.get("tlp")),
            extensions={TAG_EXT: ext}, allow_custom=True,
        ))  # fmt: skip
    for lk in b.links:
        rid = f"relationship--{lk['link_id']}"
        for end in ("src", "dst"):
            if lk[end] in pending_clusters:
                pending_clusters[lk[end]].append(rid)
        start, stop = _ts(lk.get("valid_from")), _ts(lk.get("valid_to"))
        ext = {
            "extension_type": "property-extension",
            **{k: v for k, v in lk.items() if v is not None},
        }
        objects.append(stix2.Relationship(
            id=rid, relationship_type=_REL_SAFE.sub("-", (lk.get("relation") or "related-to").lower()).strip("-") or "related-to",
            source_ref=stix_id[lk["src"]], target_ref=stix_id[lk["dst"]], created=_ts(lk.get("observed_at")) or _EPOCH,
            modified=_ts(lk.get("observed_at")) or _EPOCH, start_time=start,
            stop_time=stop if (stop and (not start or stop > start)) else None,
            confidence=lk.get("confidence"), description=lk.get("note"),
            external_references=[{"source_name": "evidence", "description": lk["evidence"]}] if lk.get("evidence") else None,
            object_marking_refs=_marking(lk.get("tlp")), extensions={LINK_EXT: ext}, allow_custom=True,
        ))  # fmt: skip
    for eid, refs in pending_clusters.items():
        e = ents[eid]
        objects.append(stix2.Grouping(
            id=stix_id[eid], name=f"cluster {e['value']}", context="chaintrail-cluster", object_refs=refs or [CHAINTRAIL_IDENTITY],
            created=_EPOCH, modified=_EPOCH,
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
    from stix2validator import ValidationOptions, validate_string

    res = validate_string(text, ValidationOptions(version="2.1"))
    errs = [str(e) for e in getattr(res, "errors", [])]
    for o in getattr(res, "object_results", []) or []:
        errs.extend(f"{o.object_id}: {e}" for e in o.errors)
    return errs if errs or not res.is_valid else []


def stix_to_bundle(text: str, source: str = "<stix>") -> IntelBundle:
    """Parse a STIX 2.1 bundle (ours or a foreign one) into an :class:`IntelBundle`."""
    from chaintrail.intel.stix_import import parse_stix

    return parse_stix(text, source)
