"""Tag endpoints over the intel database (``intel.database.INTEL_DB``, table ``tags`` of
``chaintrail.intel.model.TAG_SCHEMA``), the shipped taxonomy, and the report-tag queue.

Reported tags are a review queue (as in GraphSense): appended to ``<store>/reported_tags.jsonl``
with the reporting key's id, never mixed into the served tags until an analyst imports them.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from chaintrail.api.paging import decode_token, page_window, scope_of
from chaintrail.api.params import PageArgs
from chaintrail.errors import ChaintrailError, NotFoundError, StoreError
from chaintrail.intel.model import check_text
from chaintrail.intel.store import IntelStore
from chaintrail.intel.taxonomy import load_taxonomy

_lock = threading.Lock()
TAG_FIELDS = (
    "label, category, abuse, concepts, actor, confidence, confidence_level, source, creator,"
    " lastmod, pack_id, is_cluster_definer, tag_type, currency, subject"
)


def _rows(ctx, sql: str, params: list) -> list[dict]:  # noqa: ANN001
    """Rows of a query on the intel database; [] when there is none (no tags imported).

    The connection is leased from the process's one owner of the file (see
    ``intel.database``): shared by concurrent readers, closed when the last one leaves, so
    ``chaintrail tags import`` (another process) can get at the file between requests.
    """
    with IntelStore.open(ctx.store_dir, read_only=True) as st:
        try:
            return st.query(sql, params)
        except duckdb.CatalogException:
            return []
        except duckdb.Error as exc:
            raise StoreError(f"{st.path}: intel query failed ({exc})") from exc


def _epoch(day: date | None) -> int | None:
    if day is None:
        return None
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def tag_obj(ctx, row: dict, cluster: int | None) -> dict:  # noqa: ANN001
    """A GraphSense AddressTag from an intel row."""
    level = row.get("confidence_level")
    return {
        "label": row["label"],
        "category": row.get("category"),
        "abuse": row.get("abuse"),
        "concepts": list(row.get("concepts") or []),
        "actor": row.get("actor"),
        "confidence": row.get("confidence"),
        "confidence_level": None if level is None else int(level),
        "source": row.get("source"),
        "tagpack_uri": row.get("pack_id"),
        "tagpack_title": row.get("pack_id"),
        "tagpack_creator": row.get("creator"),
        "tagpack_is_public": True,
        "is_cluster_definer": bool(row.get("is_cluster_definer") or False),
        "tag_type": row.get("tag_type"),
        "lastmod": _epoch(row.get("lastmod")),
        "currency": (row.get("currency") or "").lower() or None,
        "address": row.get("subject"),
        "entity": cluster,
        "cluster": cluster,
    }


def address_tag_rows(ctx, currency: str, addresses: list[str]) -> list[dict]:  # noqa: ANN001
    """Intel rows tagging any of these addresses (address subjects, this currency)."""
    if not addresses:
        return []
    return _rows(
        ctx,
        f"SELECT {TAG_FIELDS} FROM tags WHERE subject_type = 'address' AND lower(currency) = ?"
        " AND subject IN (SELECT unnest(?)) ORDER BY subject, confidence_level DESC, label",
        [currency, addresses],
    )


def labels_of_addresses(ctx, currency: str, addresses: list[str]) -> dict[str, list[str]]:  # noqa: ANN001
    """Distinct labels per address string."""
    out: dict[str, list[str]] = {}
    for row in address_tag_rows(ctx, currency, addresses):
        labels = out.setdefault(row["subject"], [])
        if row["label"] not in labels:
            labels.append(row["label"])
    return out


def _page(rows: list[dict], pg: PageArgs, scope: str) -> tuple[list[dict], str | None]:
    start, stop, nxt = page_window(len(rows), decode_token(pg.page, scope), pg.pagesize, scope)
    return rows[start:stop], nxt


def tags_of_address(ctx, currency: str, text: str, pg: PageArgs) -> dict:  # noqa: ANN001
    """GET /{currency}/addresses/{address}/tags."""
    view = ctx.chain(currency)
    aid = view.address_id(text)
    cid = view.cluster_of(aid)
    rows, nxt = _page(address_tag_rows(ctx, currency, [text]), pg, scope_of("atags", aid))
    return {"address_tags": [tag_obj(ctx, r, cid) for r in rows], "next_page": nxt}


def tags_of_cluster(ctx, currency: str, cid: int, pg: PageArgs) -> dict:  # noqa: ANN001
    """GET /{currency}/clusters/{cluster}/tags: tags of every address of the cluster."""
    view = ctx.chain(currency)
    members = view.members(cid)
    rows = address_tag_rows(ctx, currency, view.address_strs(members))
    page, nxt = _page(rows, pg, scope_of("ctags", cid))
    return {"address_tags": [tag_obj(ctx, r, cid) for r in page], "next_page": nxt}


def _clusters_of(ctx, rows: list[dict]) -> list[int | None]:  # noqa: ANN001
    """Cluster id of each tagged address that is on the served chain, else None."""
    out: list[int | None] = []
    for row in rows:
        cur = (row.get("currency") or "").lower()
        try:
            view = ctx.chain(cur)
            out.append(view.cluster_of(view.address_id(row["subject"])))
        except ChaintrailError:  # another coin, not on chain yet, or not a valid address
            out.append(None)
    return out


def tags_by_label(ctx, label: str, pg: PageArgs) -> dict:  # noqa: ANN001
    """GET /tags?label=...: address tags whose label matches (case-insensitive)."""
    rows = _rows(
        ctx,
        f"SELECT {TAG_FIELDS} FROM tags WHERE subject_type = 'address' AND lower(label) = lower(?)"
        " ORDER BY subject, label",
        [label],
    )
    page, nxt = _page(rows, pg, scope_of("label", label.lower()))
    clusters = _clusters_of(ctx, page)
    return {
        "address_tags": [tag_obj(ctx, r, c) for r, c in zip(page, clusters, strict=True)],
        "next_page": nxt,
    }


def actor(ctx, actor_id: str) -> dict:  # noqa: ANN001
    """GET /tags/actors/{actor}."""
    rows = _rows(
        ctx,
        "SELECT actor_id AS id, label, uri, categories, jurisdictions FROM actors"
        " WHERE actor_id = ?",
        [actor_id],
    )
    if not rows:
        raise NotFoundError(f"actor {actor_id[:80]!r} not found")
    row = rows[0]
    n_tags = _rows(ctx, "SELECT count(*) AS n FROM tags WHERE actor = ?", [actor_id])
    concepts = _concept_labels()
    return {
        "id": row["id"],
        "label": row.get("label") or row["id"],
        "uri": row.get("uri") or "",
        "categories": [{"id": c, "label": concepts.get(c, c)} for c in row.get("categories") or []],
        "jurisdictions": [{"id": j, "label": j} for j in row.get("jurisdictions") or []],
        "nr_tags": int(n_tags[0]["n"]) if n_tags else 0,
    }


def actor_tags(ctx, actor_id: str, pg: PageArgs) -> dict:  # noqa: ANN001
    """GET /tags/actors/{actor}/tags."""
    actor(ctx, actor_id)
    rows = _rows(
        ctx,
        f"SELECT {TAG_FIELDS} FROM tags WHERE subject_type = 'address' AND actor = ? ORDER BY subject",
        [actor_id],
    )
    page, nxt = _page(rows, pg, scope_of("actor", actor_id))
    clusters = _clusters_of(ctx, page)
    return {
        "address_tags": [tag_obj(ctx, r, c) for r, c in zip(page, clusters, strict=True)],
        "next_page": nxt,
    }


def _concept_labels() -> dict[str, str]:
    return {c.id: c.label for c in load_taxonomy().concepts.values()}


TAXONOMIES = {
    "concept": "https://github.com/graphsense/graphsense-tagpacks/blob/master/taxonomies/concepts.yaml",
    "confidence": "https://github.com/graphsense/graphsense-tagpacks/blob/master/taxonomies/confidence.csv",
}


def taxonomies(ctx) -> list[dict]:  # noqa: ANN001
    """GET /tags/taxonomies."""
    return [{"taxonomy": name, "uri": uri} for name, uri in TAXONOMIES.items()]


def concepts(ctx, taxonomy: str) -> list[dict]:  # noqa: ANN001
    """GET /tags/taxonomies/{taxonomy}/concepts."""
    tax = load_taxonomy()
    if taxonomy == "concept":
        return [
            {
                "id": c.id,
                "label": c.label,
                "taxonomy": "concept",
                "description": c.description,
                "uri": f"{TAXONOMIES['concept']}#{c.id}",
            }
            for c in tax.concepts.values()
        ]
    if taxonomy == "confidence":
        return [
            {
                "id": name,
                "label": name.replace("_", " "),
                "taxonomy": "confidence",
                "description": f"confidence level {level}",
            }
            for name, level in sorted(tax.confidence.items(), key=lambda kv: -kv[1])
        ]
    raise NotFoundError(f"taxonomy {taxonomy[:60]!r} not found; known: {', '.join(TAXONOMIES)}")


def report_tag(ctx, body, caller: str) -> dict:  # noqa: ANN001
    """POST /tags/report-tag: append to the review queue; returns the report id."""
    report_id = uuid.uuid4().hex
    fields = body.model_dump()
    for name, value in fields.items():
        if isinstance(value, str):
            check_text(value, name)
    record = {"id": report_id, "reported_by": caller, "time": int(time.time()), **fields}
    path = Path(ctx.store_dir) / "reported_tags.jsonl"
    line = (json.dumps(record) + "\n").encode()
    with _lock:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.fchmod(fd, 0o600)  # reports are intelligence: owner-only, also if made wider
            os.write(fd, line)  # one write of one line: a crash leaves whole lines only
            os.fsync(fd)
        finally:
            os.close(fd)
    return {"id": report_id}


def tag_summary(ctx, currency: str, text: str) -> dict:  # noqa: ANN001
    """GET /{currency}/addresses/{address}/tag_summary."""
    view = ctx.chain(currency)
    view.address_id(text)
    rows = address_tag_rows(ctx, currency, [text])
    labels: dict[str, dict] = {}
    cloud: dict[str, dict] = {}
    for r in rows:
        conf = (r.get("confidence_level") or 0) / 100
        s = labels.setdefault(
            r["label"],
            {
                "label": r["label"],
                "count": 0,
                "confidence": 0.0,
                "relevance": 0.0,
                "creators": [],
                "sources": [],
                "concepts": [],
                "lastmod": 0,
            },
        )
        s["count"] += 1
        s["confidence"] = max(s["confidence"], conf)
        for key, value in (("creators", r.get("creator")), ("sources", r.get("source"))):
            if value and value not in s[key]:
                s[key].append(value)
        for c in [r.get("category"), *(r.get("concepts") or [])]:
            if c and c not in s["concepts"]:
                s["concepts"].append(c)
            if c:
                e = cloud.setdefault(c, {"cnt": 0, "weighted": 0.0})
                e["cnt"] += 1
                e["weighted"] += conf
        s["lastmod"] = max(s["lastmod"], _epoch(r.get("lastmod")) or 0)
    for s in labels.values():
        s["relevance"] = s["count"] / len(rows)
    best = max(labels.values(), key=lambda s: (s["confidence"], s["count"]), default=None)
    top = max(cloud.items(), key=lambda kv: kv[1]["weighted"], default=(None, None))[0]
    actors = [r["actor"] for r in rows if r.get("actor")]
    return {
        "broad_category": top or "unknown",
        "tag_count": len(rows),
        "label_summary": labels,
        "concept_tag_cloud": cloud,
        "best_label": best["label"] if best else None,
        "best_actor": max(set(actors), key=actors.count) if actors else None,
    }
