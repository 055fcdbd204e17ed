"""Cluster items: a snapshot of the members when filed, and the live view on read.

Cluster ids change whenever clustering is recomputed, so an item keeps the member addresses;
:func:`live_view` says where those addresses are now (their current clusters, how many
addresses joined, which left).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from chaintrail.analysis.clustering import cluster_of_addresses, load_clusters
from chaintrail.analysis.clusters_table import members
from chaintrail.errors import NotFoundError, ValidationError
from chaintrail.store import ChainStore

MAX_SNAPSHOT = 1_000_000


def cluster_snapshot(store_dir: Path, subject: str) -> dict[str, Any]:
    """The payload of a cluster item: a cluster id, or an address whose cluster is meant."""
    store = ChainStore.open(store_dir)
    try:
        state = load_clusters(store)
        if subject.isdigit():
            cid = int(subject)
        else:
            cid = int(cluster_of_addresses(store, [store.address_id(subject)])[0])
        ids = members(state.labels, cid)
        if ids.size == 0:
            raise NotFoundError(f"cluster {cid} is not in the store")
        if ids.size > MAX_SNAPSHOT:
            raise ValidationError(
                f"cluster {cid} has {ids.size:,} addresses: snapshots hold at most {MAX_SNAPSHOT:,}",
                field="cluster",
            )
        addresses = [a for a in store.address_strings(ids) if a]
        return {"cluster_id": cid, "clustering_generation": state.meta.get("generation"),
                "store_generation": store.generation, "addresses": addresses}  # fmt: skip
    finally:
        store.close()


def live_view(store_dir: Path, snapshot: dict[str, Any]) -> dict[str, Any]:
    """Where the snapshot's addresses are in today's clustering."""
    store = ChainStore.open(store_dir)
    try:
        state = load_clusters(store)
        ids = store.address_ids(list(snapshot["addresses"]))
        now = cluster_of_addresses(store, ids[ids >= 0])
        clusters, counts = np.unique(now, return_counts=True)
        main = int(clusters[np.argmax(counts)]) if clusters.size else None
        current = (
            set(store.address_strings(members(state.labels, main))) if main is not None else set()
        )
        old = set(snapshot["addresses"])
        return {"clusters_now": {int(c): int(n) for c, n in zip(clusters, counts, strict=True)}, "main_cluster": main,
                "joined": len(current - old), "left": sorted(old - current)[:1000],
                "clustering_generation": state.meta.get("generation")}  # fmt: skip
    finally:
        store.close()
