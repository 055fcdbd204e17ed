"""JSON views of intel for the CLI and the API: tags of a subject (address, tx, cluster)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chaintrail.errors import NotFoundError, StoreError, ValidationError
from chaintrail.intel.coverage import no_tags_warning, require_store


def open_chain_store(store: Path) -> Any | None:
    """The chain store in ``store`` or None (intel works without one)."""
    try:
        from chaintrail.store import ChainStore

        return ChainStore.open(store)
    except StoreError:  # no chain store (yet): intel works without one
        return None


def subject_tags(store: Path, ref: str) -> dict[str, Any]:
    """Tags of an address, ``tx:<hash>`` or cluster (``42`` / ``cluster:42``) as a JSON-ready dict."""
    from chaintrail.intel.attribution import tags_for_addresses
    from chaintrail.intel.store import IntelStore

    require_store(store)
    kind, _, value = ref.partition(":")
    if ref.isdigit() or kind == "cluster":
        if not value.isdigit() and not ref.isdigit():
            raise ValidationError(f"a cluster id is an integer, got {value!r}", field="ref")
        res = cluster_tags(store, int(value if kind == "cluster" else ref))
    elif kind == "tx":
        with IntelStore.open(store, read_only=True) as st:
            from chaintrail.intel.model import tag_to_public

            res = {
                "subject": value,
                "subject_type": "tx",
                "tags": [tag_to_public(r) for r in st.tags_for([value.lower()], "tx")],
            }
    else:
        tags = tags_for_addresses(store, [ref]).get(ref, [])
        res = {"subject": ref, "subject_type": "address", "tags": tags}
    warning = None if res["tags"] else no_tags_warning(store)
    return {**res, "warnings": [warning] if warning else []}


def cluster_tags(store: Path, cluster: int) -> dict[str, Any]:
    """Cluster-level tags plus every member's tags (``inherited_from``) and the actors named,
    with ``conflicting_actors`` set when more than one actor appears."""
    from chaintrail.intel.attribution import tags_for_addresses
    from chaintrail.intel.model import tag_to_public
    from chaintrail.intel.store import IntelStore

    with IntelStore.open(store, read_only=True) as st:
        tags = [tag_to_public(r) for r in st.tags_for([str(cluster)], "cluster")]
    cs = open_chain_store(store)
    n_members = 0
    if cs is not None:
        try:
            from chaintrail.analysis.clustering import load_clusters
            from chaintrail.analysis.clusters_table import members

            ids = members(load_clusters(cs).labels, cluster)
            n_members = int(ids.size)
            addrs = [a for a in cs.address_strings(ids) if a]
            for addr, ts in tags_for_addresses(store, addrs).items():
                for t in ts:
                    tags.append({**t, "inherited_from": addr})
        except NotFoundError:  # no clustering yet: cluster-level tags only
            pass
    actors: dict[str, int] = {}
    for t in tags:
        if t.get("actor"):
            actors[t["actor"]] = actors.get(t["actor"], 0) + 1
    return {"subject": str(cluster), "subject_type": "cluster", "members": n_members, "tags": tags,
            "actors": [{"actor": a, "tags": n} for a, n in sorted(actors.items(), key=lambda kv: -kv[1])],
            "conflicting_actors": len(actors) > 1}  # fmt: skip
