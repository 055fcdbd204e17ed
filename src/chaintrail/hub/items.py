"""What a case item holds, per kind: validation of what is filed, and the redacted view.

Kinds and their payloads (JSON):

* ``address`` ``{address, currency}``; ``tx`` ``{txid, currency}``;
* ``cluster`` ``{cluster_id, clustering_generation, store_generation, addresses}``: a snapshot of
  the members when it was filed (cluster ids change when clustering is recomputed; the live view
  is computed on read from the snapshot's addresses);
* ``trace`` ``{targets, params, store_generation, result}``: the trace JSON as ``chaintrail trace
  --json`` prints it, with the parameters and the store generation it ran on;
* ``tag`` ``{subject_type, subject, label, category, source, ...}``;
* ``entity`` / ``link``: an off-chain entity or link as ``chaintrail link`` stores it;
* ``note`` ``{markdown}``; ``attachment`` ``{name, size, sha256, media_type}``.

A redacted view drops what identifies sources and off-chain intelligence: attribution labels in
a trace, a link's evidence and note, an entity's name and attributes, a note's text, an
attachment's content, who filed it (the organisation stays).
"""

from __future__ import annotations

import re
from typing import Any

from chaintrail.errors import ValidationError
from chaintrail.intel.addresscheck import address_warning, canonical_address
from chaintrail.intel.offchain import entity_to_json, link_to_json, make_entity, make_link

KINDS = ("address", "cluster", "tx", "trace", "tag", "entity", "link", "note", "attachment")
_TXID = re.compile(r"^[0-9a-fA-F]{64}$")
MAX_NOTE = 1_000_000


def _need(payload: dict[str, Any], key: str, kind: str) -> Any:
    value = payload.get(key)
    if value is None or value == "":
        raise ValidationError(f"a {kind} item needs {key!r}", field=key)
    return value


def _address(value: Any, currency: str = "BTC") -> str:
    if not isinstance(value, str):
        raise ValidationError(f"expected an address string, got {value!r}", field="address")
    warning = address_warning(currency, value)
    if warning:
        raise ValidationError(warning, field="address")
    return canonical_address(value)


def normalise(kind: str, payload: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """Validate a payload of ``kind``; returns ``(subject, title, payload)`` as stored."""
    if kind not in KINDS:
        raise ValidationError(
            f"item kind {kind!r}: expected one of {', '.join(KINDS)}", field="kind"
        )
    if not isinstance(payload, dict):
        raise ValidationError("an item payload is a JSON object", field="payload")
    if kind == "address":
        cur = str(payload.get("currency") or "BTC").upper()
        addr = _address(_need(payload, "address", kind), cur)
        return addr, addr, {**payload, "address": addr, "currency": cur}
    if kind == "tx":
        txid = str(_need(payload, "txid", kind))
        if not _TXID.match(txid):
            raise ValidationError(f"expected a 64-hex-digit txid, got {txid!r}", field="txid")
        return (
            txid.lower(),
            txid.lower(),
            {**payload, "txid": txid.lower(), "currency": payload.get("currency") or "BTC"},
        )
    if kind == "cluster":
        addrs = _need(payload, "addresses", kind)
        if not isinstance(addrs, list) or not all(isinstance(a, str) for a in addrs):
            raise ValidationError(
                "a cluster snapshot's addresses are a list of strings", field="addresses"
            )
        cid = payload.get("cluster_id")
        return f"cluster:{cid}", f"cluster {cid} ({len(addrs)} addresses)", payload
    if kind == "trace":
        result = _need(payload, "result", kind)
        if not isinstance(result, dict) or "terminals" not in result:
            raise ValidationError(
                "a trace item's result is the JSON of `chaintrail trace --json`", field="result"
            )
        _need(payload, "params", kind)
        seeds = str(result.get("seeds") or payload.get("targets") or "")
        return (
            seeds[:200],
            f"{result.get('direction', '')} {result.get('model', '')} trace from {seeds}"[:500],
            payload,
        )
    if kind == "tag":
        subject = str(_need(payload, "subject", kind))
        label = str(_need(payload, "label", kind))
        return subject, f"tag {label!r} on {subject}"[:500], payload
    if kind == "entity":
        if "entity_id" in payload:  # already stored by the intel layer
            ent = entity_to_json(payload)
        else:
            ent = entity_to_json(make_entity(str(_need(payload, "ref", kind)), name=payload.get("name"),
                                             attrs=payload.get("attrs"), tlp=payload.get("tlp")))  # fmt: skip
        return ent["id"], ent.get("name") or ent["id"], ent
    if kind == "link":
        if "link_id" in payload:
            link = payload
        else:
            extra = {k: payload[k] for k in ("relation", "evidence", "observed_at", "valid_from", "valid_to",
                                             "confidence", "tlp", "note") if payload.get(k) is not None}  # fmt: skip
            link = link_to_json(
                make_link(
                    str(_need(payload, "src", kind)), str(_need(payload, "dst", kind)), **extra
                )
            )
        return link["src"], f"{link['src']} -[{link.get('relation')}]-> {link['dst']}"[:500], link
    if kind == "note":
        text = _need(payload, "markdown", kind)
        if not isinstance(text, str) or len(text) > MAX_NOTE:
            raise ValidationError(
                f"a note is Markdown text of at most {MAX_NOTE:,} characters", field="markdown"
            )
        first = text.strip().splitlines()[0] if text.strip() else ""
        return "note", first[:200], {"markdown": text}
    # attachment payloads are built by attachments.store_attachment, never sent by a client
    return str(_need(payload, "sha256", kind)), str(payload.get("name") or ""), payload


def redact(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The payload as a redacted share shows it."""
    if kind == "trace":
        result = dict(payload.get("result") or {})
        result["nodes"] = [
            {k: v for k, v in n.items() if k not in ("label", "category")}
            for n in result.get("nodes", [])
        ]
        result["terminals"] = [
            {k: v for k, v in t.items() if k not in ("label", "category")}
            for t in result.get("terminals", [])
        ]
        return {**payload, "result": result}
    if kind == "link":
        return {k: payload.get(k) for k in ("link_id", "src", "dst", "relation", "tlp")}
    if kind == "entity":
        return {k: payload.get(k) for k in ("id", "kind", "value", "tlp")}
    if kind == "note":
        return {"markdown": "[redacted]"}
    if kind == "tag":
        return {
            k: v for k, v in payload.items() if k not in ("source", "creator", "context", "actor")
        }
    if kind == "attachment":
        return {k: payload.get(k) for k in ("sha256", "size", "media_type")}
    return payload
