"""Enrich the store's address and transaction records with what analysis and intel know.

The store answers what the chain says (``ChainStore.address``/``tx``); this module adds the
cluster an address belongs to, the attribution tags on it, and a transaction's heuristic
verdicts, so ``chaintrail address``/``tx`` show an investigator the whole picture. Every
addition degrades gracefully: ``cluster_id`` is null until ``chaintrail cluster`` has run,
``labels`` is empty until tags are imported.
"""

from __future__ import annotations

from typing import Any

from chaintrail.errors import NotFoundError
from chaintrail.intel.database import intel_path


def _cluster_ids(store: Any, address_ids: list[int]) -> list[int | None]:
    from chaintrail.analysis.clustering import cluster_of_addresses

    try:
        clusters = cluster_of_addresses(store, address_ids)
    except NotFoundError:
        return [None] * len(address_ids)
    return [None if c < 0 else int(c) for c in clusters.tolist()]


def _tags(store: Any, addresses: list[str]) -> dict[str, list[dict[str, Any]]]:
    from chaintrail.intel.attribution import tags_for_addresses

    if not addresses or not intel_path(store.root).exists():
        return {}
    return tags_for_addresses(store.root, addresses)


def _attribution(store: Any, addresses: list[str]) -> dict[str, dict[str, Any] | None]:
    from chaintrail.intel.attribution_lookup import address_attribution

    return address_attribution(store.root, store, addresses)


def _label_fields(found: dict[str, Any] | None) -> dict[str, Any]:
    return {"label": found["label"] if found else None, "category": found["category"] if found else None}


def enrich_address(store: Any, info: dict[str, Any]) -> dict[str, Any]:
    """``info`` (from ``ChainStore.address``) plus ``cluster_id``, ``label`` and ``category``
    (as tracing, exposure and risk see them: the address's best tag, else the tag naming its
    cluster, see ``intel.attribution_rules``), ``label_from`` (``address``, ``cluster:ID`` or the
    cluster-defining address; null when untagged) and ``tags`` (every tag on the address, best
    first, then the inherited tag that names its cluster)."""
    aid = int(store.address_id(info["address"]))
    tags = _tags(store, [info["address"]]).get(info["address"], [])
    found = _attribution(store, [info["address"]])[info["address"]]
    inherited = found["tag"].get("inherited_from") if found else None
    if inherited:
        tags = [*tags, found["tag"]]
    return {
        **info,
        "cluster_id": _cluster_ids(store, [aid])[0],
        **_label_fields(found),
        "label_from": inherited or ("address" if found else None),
        "tags": tags,
    }


def enrich_tx(store: Any, info: dict[str, Any]) -> dict[str, Any]:
    """``info`` (from ``ChainStore.tx``) plus ``heuristics`` (CoinJoin verdicts and the change
    output each change heuristic picks) and, on every input and output with an address, its
    ``cluster_id`` and attribution ``label``/``category``."""
    from chaintrail.analysis.heuristics import tx_heuristics

    rows = [*info["inputs"], *info["outputs"]]
    addresses = sorted({r["address"] for r in rows if r.get("address")})
    ids = store.address_ids(addresses) if addresses else []
    clusters = dict(zip(addresses, _cluster_ids(store, [int(i) for i in ids]), strict=True))
    found = _attribution(store, addresses)
    for r in rows:
        a = r.get("address")
        r["cluster_id"] = clusters.get(a) if a else None
        r.update(_label_fields(found.get(a) if a else None))
    out = dict(info)
    out["heuristics"] = tx_heuristics(store, store.tx_id(info["txid"]))
    return out


def enrich_cluster(store: Any, info: dict[str, Any]) -> dict[str, Any]:
    """``info`` (a cluster-info dict) plus its attribution: ``label``/``category`` (the best tag
    naming the cluster: a tag on the cluster or a member's cluster-defining tag, what every
    untagged member shows; null when none does), ``labels`` (each distinct label of the cluster's
    and its members' tags with its category and how many tags carry it), ``actors`` and
    ``conflicting_actors`` (more than one actor named inside one cluster is shown, not hidden)."""
    from chaintrail.intel.attribution_lookup import cluster_attribution
    from chaintrail.intel.attribution_rules import tag_concept
    from chaintrail.intel.views import cluster_tags

    if not intel_path(store.root).exists():
        return {**info, "label": None, "category": None, "label_from": None, "labels": [],
                "actors": [], "conflicting_actors": False}  # fmt: skip
    view = cluster_tags(store.root, int(info["cluster_id"]))
    own: dict[tuple[str, str | None], int] = {}  # tags on the cluster itself
    members: dict[tuple[str, str | None], int] = {}  # tags on member addresses
    for t in view["tags"]:
        bucket = members if "inherited_from" in t else own
        key = (t["label"], tag_concept(t.get("abuse"), t.get("category"), t.get("concepts")))
        bucket[key] = bucket.get(key, 0) + 1
    keys = sorted(set(own) | set(members), key=lambda k: (-own.get(k, 0), -members.get(k, 0), k[0]))
    labels = [
        {"label": lab, "category": cat, "cluster_tags": own.get((lab, cat), 0),
         "address_tags": members.get((lab, cat), 0)}
        for lab, cat in keys
    ]  # fmt: skip
    named = cluster_attribution(store.root, store, int(info["cluster_id"]))
    return {
        **info,
        **_label_fields(named),
        "label_from": named["tag"]["inherited_from"] if named else None,
        "labels": labels,
        "actors": view["actors"],
        "conflicting_actors": view["conflicting_actors"],
    }
