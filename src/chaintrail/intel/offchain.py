"""Off-chain intelligence: persons, organisations, IPs, phones, e-mails, social handles, exchange
accounts (KYC records), and evidence-backed links between them and wallets.

An entity is named by a *reference* ``kind:value``; a bare string is taken as an address::

    address:1A1zP1...   tx:<hash>   cluster:42   person:Jane Doe   org:Acme Ltd
    ip:203.0.113.7      phone:+43 660 1234567    email:jane@example.org
    social:twitter:@handle          account:binance:8812  (exchange account; KYC in attrs)

Each link carries its evidence source, an observation time, an optional validity window (e.g.
when an IP was used) and a confidence 0-100. :func:`neighbourhood` answers "everything within
N links of this wallet".
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import re
import uuid
from collections import deque
from pathlib import Path
from typing import Any

import pyarrow as pa

from chaintrail.errors import AddressError, NotFoundError, UsageError, ValidationError
from chaintrail.intel.addresscheck import checked_address
from chaintrail.intel.model import DEFAULT_TLP, check_text, normalise_tlp
from chaintrail.intel.store import IntelStore
from chaintrail.intel.taxonomy import load_taxonomy
from chaintrail.limits import MAX_LINK_DEPTH

KINDS = ("address", "tx", "cluster", "person", "org", "ip", "phone", "email", "social", "account")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TXID = re.compile(r"^[0-9a-f]{64}$")
_NS = uuid.UUID("5b1c7d1e-3c55-4e0e-9d0e-6c1a3f1b2a11")  # chaintrail link-id namespace

ENTITY_SCHEMA = pa.schema([("entity_id", pa.string()), ("kind", pa.string()), ("value", pa.string()),
                           ("name", pa.string()), ("attrs", pa.string()), ("tlp", pa.string()),
                           ("created_at", pa.timestamp("us"))])  # fmt: skip
LINK_SCHEMA = pa.schema([("link_id", pa.string()), ("src", pa.string()), ("dst", pa.string()),
                         ("relation", pa.string()), ("evidence", pa.string()), ("observed_at", pa.timestamp("us")),
                         ("valid_from", pa.timestamp("us")), ("valid_to", pa.timestamp("us")),
                         ("confidence", pa.int16()), ("tlp", pa.string()), ("note", pa.string()),
                         ("created_at", pa.timestamp("us"))])  # fmt: skip


def parse_ref(text: str) -> tuple[str, str]:
    """``kind:value`` -> (kind, canonical value); a bare valid address is an address.

    ValidationError (field ``ref``) for anything else: an unknown kind, a malformed value,
    an address that is none, a control character.
    """
    text = check_text(text.strip(), "ref", one_line=True)
    kind, sep, value = text.partition(":")
    bare = not sep or kind not in KINDS
    if bare:
        kind, value = "address", text
    value = value.strip()
    if not value:
        raise ValidationError(f"empty {kind} in reference {text!r}", field="ref")
    if kind == "address":
        try:
            value = _wallet_address(value)
        except AddressError as exc:
            if bare and sep:
                raise ValidationError(
                    f"{text!r} is neither an address nor kind:value with a known kind "
                    f"({', '.join(k + ':' for k in KINDS)})", field="ref"
                ) from exc
            raise ValidationError(str(exc), field="ref") from exc
    elif kind == "tx":
        value = value.lower()
        if not _TXID.match(value):
            raise ValidationError(f"a txid is 64 hex digits, got {value!r}", field="ref")
    elif kind == "cluster":
        if not value.isdigit():
            raise ValidationError(f"cluster id must be an integer, got {value!r}", field="ref")
    elif kind == "ip":
        try:
            value = str(ipaddress.ip_address(value))
        except ValueError as exc:
            raise ValidationError(f"not an IP address: {value!r}", field="ref") from exc
    elif kind == "email":
        if not _EMAIL.match(value):
            raise ValidationError(f"not an e-mail address: {value!r}", field="ref")
        value = value.lower()
    elif kind == "phone":
        digits = re.sub(r"[^\d]", "", value)
        if len(digits) < 5:
            raise ValidationError(f"not a phone number: {value!r}", field="ref")
        value = ("+" if value.startswith(("+", "00")) else "") + digits.removeprefix(
            "00" if value.startswith("00") else ""
        )
    elif kind in ("social", "account"):
        platform, sep2, handle = value.partition(":")
        if not sep2 or not platform or not handle:
            raise ValidationError(
                f"{kind} reference needs platform:handle, got {value!r}", field="ref"
            )
        value = f"{platform.strip().lower()}:{handle.strip()}"
    return kind, value


def _wallet_address(value: str) -> str:
    """The canonical form of a wallet address in a reference: a Bitcoin address (every checksum
    checked) or an Ethereum-style one (0x + 40 hex digits); AddressError otherwise."""
    if value.startswith(("0x", "0X")):
        return checked_address(value, "ETH")
    return checked_address(value, "BTC")


def entity_id(kind: str, value: str) -> str:
    """The stable id of an entity: ``kind:value`` (value canonical, see :func:`parse_ref`)."""
    return f"{kind}:{value}"


def _ts(value: Any, field: str) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValidationError(f"expected an ISO date or time, got {value!r}", field=field) from exc
    return parsed.astimezone(dt.UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def confidence_value(value: Any) -> int:
    """Confidence 0-100 from an int or a confidence name (``forensic`` -> 50)."""
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        v = int(value)
        if not 0 <= v <= 100:
            raise ValidationError(f"confidence must be 0-100, got {v}", field="confidence")
        return v
    levels = load_taxonomy().confidence
    if value in levels:
        return levels[value]
    raise ValidationError(
        f"confidence must be 0-100 or one of {', '.join(levels)}, got {value!r}", field="confidence"
    )


def make_link(
    src: str, dst: str, *, relation: str = "related-to", evidence: str | None = None,
    observed_at: Any = None, valid_from: Any = None, valid_to: Any = None, confidence: Any = 50,
    tlp: str | None = None, note: str | None = None, link_id: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """A validated link row between two references (not yet stored)."""
    for name, text in (("relation", relation), ("evidence", evidence), ("note", note)):
        if isinstance(text, str):
            check_text(text, name, one_line=name == "relation")
    s = entity_id(*parse_ref(src))
    d = entity_id(*parse_ref(dst))
    if s == d:
        raise ValidationError("a link needs two different entities", field="ref")
    row = {
        "src": s, "dst": d, "relation": relation, "evidence": evidence,
        "observed_at": _ts(observed_at, "observed_at"), "valid_from": _ts(valid_from, "valid_from"),
        "valid_to": _ts(valid_to, "valid_to"), "confidence": confidence_value(confidence),
        "tlp": normalise_tlp(tlp) or DEFAULT_TLP["analyst"], "note": note,
    }  # fmt: skip
    if row["valid_from"] and row["valid_to"] and row["valid_to"] < row["valid_from"]:
        raise ValidationError("valid_to is before valid_from", field="valid_to")
    key = "|".join(
        str(row[k])
        for k in ("src", "dst", "relation", "evidence", "observed_at", "valid_from", "valid_to")
    )
    row["link_id"] = link_id or str(uuid.uuid5(_NS, key))
    row["created_at"] = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return row


def make_entity(
    ref: str,
    *,
    name: str | None = None,
    attrs: dict[str, Any] | None = None,
    tlp: str | None = None,
) -> dict[str, Any]:
    """A validated entity row for a reference (name and attributes such as KYC fields optional)."""
    kind, value = parse_ref(ref)
    if name is not None:
        check_text(name, "name", one_line=True)
    for key, val in (attrs or {}).items():
        check_text(str(key), "attrs", one_line=True)
        if isinstance(val, str):
            check_text(val, f"attrs.{key}")
    return {
        "entity_id": entity_id(kind, value), "kind": kind, "value": value,
        "name": name or (value if kind in ("person", "org") else None),
        "attrs": json.dumps(attrs or {}, sort_keys=True, default=str),
        "tlp": normalise_tlp(tlp) or DEFAULT_TLP["analyst"],
        "created_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
    }  # fmt: skip


def store_graph(
    st: IntelStore, entities: list[dict[str, Any]], links: list[dict[str, Any]]
) -> None:
    """Upsert entities (attributes merged) and links (same id replaced); call inside a transaction."""
    ids = {e["entity_id"] for e in entities} | {link[k] for link in links for k in ("src", "dst")}
    old = {
        r["entity_id"]: r
        for r in st.query(
            "SELECT * FROM entities WHERE entity_id IN (SELECT unnest(?))", [list(ids)]
        )
    }
    merged: dict[str, dict[str, Any]] = {}
    for eid in ids:
        kind, _, value = eid.partition(":")
        merged[eid] = old.get(eid) or make_entity(eid)
    for e in entities:
        base = merged[e["entity_id"]]
        attrs = {**json.loads(base.get("attrs") or "{}"), **json.loads(e.get("attrs") or "{}")}
        merged[e["entity_id"]] = {
            **base,
            **{k: v for k, v in e.items() if v is not None},
            "attrs": json.dumps(attrs, sort_keys=True),
        }
    st.con.execute("DELETE FROM entities WHERE entity_id IN (SELECT unnest(?))", [list(merged)])
    rows = list(merged.values())
    st.insert_arrow(
        "entities",
        pa.Table.from_pylist(
            [{k: r.get(k) for k in ENTITY_SCHEMA.names} for r in rows], schema=ENTITY_SCHEMA
        ),
    )
    if links:
        st.con.execute(
            "DELETE FROM links WHERE link_id IN (SELECT unnest(?))",
            [[link["link_id"] for link in links]],
        )
        st.insert_arrow(
            "links",
            pa.Table.from_pylist(
                [{k: r.get(k) for k in LINK_SCHEMA.names} for r in links], schema=LINK_SCHEMA
            ),
        )


def add_link(store_path: str | Path, src: str, dst: str, *, src_name: str | None = None, dst_name: str | None = None,
             dst_attrs: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:  # fmt: skip
    """Store one link (creating its entities); returns the link as a JSON-ready dict."""
    link = make_link(src, dst, **kwargs)
    ents = []
    if src_name:
        ents.append(make_entity(src, name=src_name, tlp=link["tlp"]))
    if dst_name or dst_attrs:
        ents.append(make_entity(dst, name=dst_name, attrs=dst_attrs, tlp=link["tlp"]))
    with IntelStore.open(store_path) as st, st.transaction():
        store_graph(st, ents, [link])
    return link_to_json(link)


def link_to_json(row: dict[str, Any]) -> dict[str, Any]:
    """A link row with ISO timestamps."""
    return {
        k: (v.isoformat() if isinstance(v, dt.datetime) else v)
        for k, v in row.items()
        if k != "created_at"
    }


def entity_to_json(row: dict[str, Any]) -> dict[str, Any]:
    """An entity row with its attributes decoded."""
    return {"id": row["entity_id"], "kind": row["kind"], "value": row["value"], "name": row["name"],
            "attrs": json.loads(row["attrs"] or "{}"), "tlp": row["tlp"]}  # fmt: skip


def neighbourhood(store_path: str | Path, ref: str, depth: int = 2) -> dict[str, Any]:
    """Every entity within ``depth`` links of ``ref`` (links followed both ways), with the links
    and each entity's distance. NotFoundError if ``ref`` has no links and no entity record."""
    if not 1 <= depth <= MAX_LINK_DEPTH:
        raise UsageError(f"--depth must be between 1 and {MAX_LINK_DEPTH}, got {depth}")
    root = entity_id(*parse_ref(ref))
    with IntelStore.open(store_path, read_only=True) as st:
        links = st.query("SELECT * FROM links ORDER BY observed_at NULLS LAST, link_id")
        adj: dict[str, list[dict[str, Any]]] = {}
        for link in links:
            adj.setdefault(link["src"], []).append(link)
            adj.setdefault(link["dst"], []).append(link)
        dist = {root: 0}
        used: dict[str, dict[str, Any]] = {}
        queue = deque([root])
        while queue:
            cur = queue.popleft()
            if dist[cur] >= depth:
                continue
            for link in adj.get(cur, []):
                used[link["link_id"]] = link
                other = link["dst"] if link["src"] == cur else link["src"]
                if other not in dist:
                    dist[other] = dist[cur] + 1
                    queue.append(other)
        ents = {
            r["entity_id"]: r
            for r in st.query(
                "SELECT * FROM entities WHERE entity_id IN (SELECT unnest(?))", [list(dist)]
            )
        }
    if root not in ents and not used:
        raise NotFoundError(f"no off-chain intelligence linked to {root}")
    entities = []
    for eid, d in sorted(dist.items(), key=lambda kv: (kv[1], kv[0])):
        e = entity_to_json(ents[eid]) if eid in ents else {"id": eid, "kind": eid.partition(":")[0],
                                                            "value": eid.partition(":")[2], "name": None, "attrs": {}, "tlp": None}  # fmt: skip
        e["distance"] = d
        entities.append(e)
    return {
        "root": root,
        "depth": depth,
        "entities": entities,
        "links": [link_to_json(v) for v in used.values()],
    }
