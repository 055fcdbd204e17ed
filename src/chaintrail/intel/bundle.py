"""The unit of intelligence exchange: tags, entities, links, transactions and actors together.

Exporters (STIX, MISP, CSV) write an :class:`IntelBundle` chosen by :func:`select_bundle`;
importers parse a file into one and :func:`store_bundle` writes it in one transaction (the tags
as the pack ``<format>:<file name>``, so re-importing the same file replaces, never duplicates).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chaintrail.errors import InputError, NotFoundError, UsageError
from chaintrail.intel.addresscheck import canonical_address
from chaintrail.intel.bundle_check import check_bundle
from chaintrail.intel.model import TAG_COLUMNS, columns_to_arrow, empty_columns, tag_to_public
from chaintrail.intel.offchain import (
    entity_id,
    entity_to_json,
    link_to_json,
    parse_ref,
    store_graph,
)
from chaintrail.intel.store import IntelStore
from chaintrail.intel.taxonomy import load_taxonomy


@dataclass
class IntelBundle:
    """Public tag dicts, entity and link dicts, transaction dicts and the actors tags name."""

    tags: list[dict[str, Any]] = field(default_factory=list)
    entities: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    transactions: list[dict[str, Any]] = field(default_factory=list)
    actors: list[dict[str, Any]] = field(default_factory=list)
    # objects of a foreign bundle that carry nothing chaintrail stores, by type (not exported)
    skipped: dict[str, int] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """Number of items of each kind (skipped foreign objects not counted)."""
        return {k: len(v) for k, v in self.__dict__.items() if k != "skipped"}


def _cluster_addresses(chain_store: Any, cluster: int) -> list[str]:
    from chaintrail.analysis.clustering import load_clusters
    from chaintrail.analysis.clusters_table import members

    ids = members(load_clusters(chain_store).labels, cluster)
    if ids.size == 0:
        raise NotFoundError(f"cluster {cluster} is not in the store")
    return [a for a in chain_store.address_strings(ids) if a]


def _tx_detail(chain_store: Any, tx_hash: str) -> dict[str, Any]:
    out: dict[str, Any] = {"tx_hash": tx_hash, "currency": "BTC", "execution_time": None, "fee": None,
                           "inputs": [], "outputs": []}  # fmt: skip
    if chain_store is None:
        return out
    try:
        t = chain_store.tx(tx_hash)
    except (NotFoundError, InputError):  # a tx not on chain is exported with its hash only
        return out
    out["fee"] = t.get("fee")
    out["inputs"] = [
        {"address": i.get("address"), "amount": i.get("value")}
        for i in t.get("inputs", [])
        if i.get("address")
    ]
    out["outputs"] = [
        {"address": o.get("address"), "amount": o.get("value")}
        for o in t.get("outputs", [])
        if o.get("address")
    ]
    try:
        b = chain_store.block(t["block_hash"])
        out["execution_time"] = (
            dt.datetime.fromtimestamp(int(b["time"]), tz=dt.UTC).replace(tzinfo=None).isoformat()
        )
    except NotFoundError:  # time is optional
        pass
    return out


def select_bundle(
    store_path: str | Path,
    *,
    addresses: list[str] | None = None,
    clusters: list[int] | None = None,
    txs: list[str] | None = None,
    chain_store: Any | None = None,
    depth: int = 2,
) -> IntelBundle:
    """Tags, links within ``depth`` of the selected subjects, and their entities/transactions.

    With no selection at all, everything in the intel store is exported.
    """
    addresses = list(addresses or [])
    clusters = list(clusters or [])
    txs = [t.lower() for t in (txs or [])]
    everything = not (addresses or clusters or txs)
    if clusters and chain_store is None:
        raise UsageError(
            "--cluster needs a chain store with a clustering (run 'chaintrail cluster')"
        )
    for c in clusters:
        addresses.extend(_cluster_addresses(chain_store, c))
    b = IntelBundle()
    with IntelStore.open(store_path, read_only=True) as st:
        cols = ", ".join(TAG_COLUMNS)
        if everything:
            rows = st.query(f"SELECT {cols} FROM tags ORDER BY pack_id, subject_key, label")
            links = st.query("SELECT * FROM links ORDER BY link_id")
        else:
            keys = [canonical_address(a) for a in addresses] + txs + [str(c) for c in clusters]
            rows = st.tags_for(keys)
            roots = (
                [entity_id(*parse_ref(a)) for a in addresses]
                + [f"tx:{t}" for t in txs]
                + [f"cluster:{c}" for c in clusters]
            )
            links = _links_near(st, roots, depth)
        b.tags = [{**tag_to_public(r), "network": r.get("network")} for r in rows]
        ids = {x for link in links for x in (link["src"], link["dst"])}
        ents = st.query("SELECT * FROM entities" + ("" if everything else " WHERE entity_id IN (SELECT unnest(?))"),
                        [] if everything else [list(ids)])  # fmt: skip
        b.entities = [entity_to_json(e) for e in ents]
        b.links = [link_to_json(link) for link in links]
        tx_ids = set(txs) | {r["subject"].lower() for r in rows if r["subject_type"] == "tx"}
        tx_ids |= {x.partition(":")[2] for x in ids if x.startswith("tx:")}
        stored = {
            r["tx_hash"]: r
            for r in st.query(
                "SELECT * FROM transactions WHERE tx_hash IN (SELECT unnest(?))", [sorted(tx_ids)]
            )
        }
        for t in sorted(tx_ids):
            if t in stored:
                r = stored[t]
                b.transactions.append({"tx_hash": t, "currency": r["currency"], "fee": r["fee"],
                                       "execution_time": r["execution_time"].isoformat() if r["execution_time"] else None,
                                       "inputs": json.loads(r["inputs"] or "[]"), "outputs": json.loads(r["outputs"] or "[]")})  # fmt: skip
            else:
                b.transactions.append(_tx_detail(chain_store, t))
        actor_ids = sorted({r["actor"] for r in rows if r.get("actor")})
        for a in actor_ids:
            row = st.actor(a)
            if row:
                b.actors.append(
                    {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in row.items()}
                )
    return b


def _links_near(st: IntelStore, roots: list[str], depth: int) -> list[dict[str, Any]]:
    seen = set(roots)
    frontier = list(roots)
    found: dict[str, dict[str, Any]] = {}
    for _ in range(depth):
        if not frontier:
            break
        rows = st.query(
            "SELECT * FROM links WHERE src IN (SELECT unnest(?)) OR dst IN (SELECT unnest(?))",
            [frontier, frontier],
        )
        nxt = []
        for r in rows:
            found[r["link_id"]] = r
            for x in (r["src"], r["dst"]):
                if x not in seen:
                    seen.add(x)
                    nxt.append(x)
        frontier = nxt
    return list(found.values())


def store_bundle(
    store_path: str | Path, bundle: IntelBundle, *, fmt: str, source_name: str,
    source: str | None = None,
) -> dict[str, int]:  # fmt: skip
    """Write a parsed bundle atomically; tags become the pack ``<fmt>:<source_name>``.
    ValidationError naming ``source`` (the file; nothing stored) when a field has a type
    chaintrail cannot store."""
    from chaintrail.intel.offchain import make_entity, make_link

    check_bundle(bundle, source or source_name)
    taxo = load_taxonomy()
    pack_id = f"{fmt}:{source_name}"
    cols = empty_columns()
    for t in bundle.tags:
        stype = t.get("subject_type") or "address"
        subject = t["subject"]
        conf = t.get("confidence") or "unknown"
        row = {
            "pack_id": pack_id, "subject_type": stype, "subject": subject,
            "subject_key": canonical_address(subject) if stype == "address" else subject.lower(),
            "currency": t.get("currency"), "network": t.get("network") or t.get("currency"), "label": t["label"],
            "category": t.get("category"), "abuse": t.get("abuse"), "concepts": list(t.get("concepts") or []),
            "actor": t.get("actor"), "confidence": conf,
            "confidence_level": t.get("confidence_level") if t.get("confidence_level") is not None else taxo.confidence.get(conf, 5),
            "source": t.get("source"), "creator": t.get("creator"),
            "lastmod": dt.date.fromisoformat(t["lastmod"]) if isinstance(t.get("lastmod"), str) else t.get("lastmod"),
            "tlp": t.get("tlp"), "provenance": t.get("provenance") or fmt,
            "is_cluster_definer": bool(t.get("is_cluster_definer")), "tag_type": t.get("tag_type"),
            "context": t.get("context"), "line": None,
        }  # fmt: skip
        for k, v in row.items():
            cols[k].append(v)
    entities = [
        make_entity(e["id"], name=e.get("name"), attrs=e.get("attrs"), tlp=e.get("tlp"))
        for e in bundle.entities
    ]
    links = [
        make_link(
            lk["src"], lk["dst"], relation=lk.get("relation") or "related-to", evidence=lk.get("evidence"),
            observed_at=lk.get("observed_at"), valid_from=lk.get("valid_from"), valid_to=lk.get("valid_to"),
            confidence=lk.get("confidence", 50), tlp=lk.get("tlp"), note=lk.get("note"), link_id=lk.get("link_id"),
        )
        for lk in bundle.links
    ]  # fmt: skip
    with IntelStore.open(store_path) as st, st.transaction():
        st.replace_pack({"pack_id": pack_id, "kind": fmt, "title": source_name, "creator": fmt, "description": None,
                         "path": source_name, "n_items": len(bundle.tags), "n_warnings": 0},
                        tags=columns_to_arrow(cols))  # fmt: skip
        store_graph(st, entities, links)
        for a in bundle.actors:
            if st.actor(a["actor_id"]) is None:
                st.con.execute(
                    "INSERT INTO actors (actor_id, pack_id, label, uri, categories, jurisdictions, aliases)"
                    " VALUES (?, ?, ?, ?, ?, [], [])",
                    [
                        a["actor_id"],
                        pack_id,
                        a.get("label") or a["actor_id"],
                        a.get("uri"),
                        a.get("categories") or [],
                    ],
                )
        for t in bundle.transactions:
            st.con.execute("DELETE FROM transactions WHERE tx_hash = ?", [t["tx_hash"].lower()])
            st.con.execute(
                "INSERT INTO transactions VALUES (?, ?, ?, ?, ?, ?, ?)",
                [t["tx_hash"].lower(), t.get("currency"), t.get("execution_time"), t.get("fee"),
                 json.dumps(t.get("inputs") or []), json.dumps(t.get("outputs") or []), pack_id],
            )  # fmt: skip
    return bundle.counts()
