"""Attribution of a few addresses or one cluster, for ``address``, ``tx`` and ``cluster-info``.

Reads only the tags that matter (on those addresses, on their clusters, and the cluster-defining
tags) and resolves them through :mod:`chaintrail.intel.attribution_rules`, the rule the
whole-chain arrays of :mod:`chaintrail.intel.attribution` use, so a lookup shows what a trace,
exposure or risk score sees. Each answer is ``{label, category, tag}``: ``tag`` is the winning
tag, with ``inherited_from`` (``cluster:ID`` or the cluster-defining address) when it names the
address's cluster rather than the address.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from chaintrail.analysis.clustering import load_clusters
from chaintrail.errors import NotFoundError
from chaintrail.intel.addresscheck import canonical_address
from chaintrail.intel.attribution import tag_address_ids
from chaintrail.intel.attribution_rules import TagRows, cluster_rows, named_clusters, resolve
from chaintrail.intel.model import TAG_COLUMNS, tag_to_public
from chaintrail.intel.store import IntelStore, intel_path

_BTC = "(currency IS NULL OR upper(currency) = 'BTC')"
_OWN_AND_CLUSTER_SQL = (
    f"SELECT {', '.join(TAG_COLUMNS)} FROM tags WHERE {_BTC}"
    " AND ((subject_type = 'address' AND subject_key IN (SELECT unnest(?)))"
    " OR (subject_type = 'cluster' AND subject IN (SELECT unnest(?))))"
)
_DEFINERS = f"subject_type = 'address' AND is_cluster_definer AND {_BTC}"
#: Below this many cluster-defining tags, reading them all beats listing the clusters' members.
FEW_DEFINERS = 5_000


class _Clustering:
    """The last clustering run: cluster of an address id, members of clusters."""

    def __init__(self, labels: np.ndarray) -> None:
        self.labels = labels

    def of(self, ids: np.ndarray) -> np.ndarray:
        """Cluster id of each address id (addresses newer than the run: their own id)."""
        ids = np.asarray(ids, dtype=np.int64)
        out = ids.copy()
        known = (ids >= 0) & (ids < self.labels.shape[0])
        out[known] = self.labels[ids[known]]
        return out

    def members(self, clusters: list[int]) -> np.ndarray:
        """Address ids of every member of ``clusters``."""
        found = np.flatnonzero(np.isin(self.labels, np.asarray(clusters, dtype=np.int64)))
        newer = [c for c in clusters if c >= self.labels.shape[0]]  # singletons newer than the run
        return np.concatenate([found, np.asarray(newer, dtype=np.int64)]) if newer else found


def _clustering(chain_store: Any) -> _Clustering | None:
    """The last clustering run of ``chain_store``, or None before the first one."""
    try:
        return _Clustering(np.asarray(load_clusters(chain_store).labels, dtype=np.int64))
    except NotFoundError:
        return None


def _rows(store_path: Path, chain_store: Any, keys: list[str], clusters: list[int],
          clustering: _Clustering | None) -> tuple[TagRows, np.ndarray]:  # fmt: skip
    """Tags on ``keys`` (canonical addresses) and on ``clusters``, and the cluster-defining tags
    that may name those clusters (all of them, or those on their members when that is fewer),
    with the chain address id of each address tag."""
    with IntelStore.open(store_path, read_only=True) as st:
        recs = st.query(_OWN_AND_CLUSTER_SQL, [keys, [str(c) for c in clusters]])
        if clustering is not None and clusters:
            found = st.con.execute(f"SELECT count(*) FROM tags WHERE {_DEFINERS}").fetchone()
            n_definers = int(found[0]) if found else 0
            members = clustering.members(clusters) if n_definers > FEW_DEFINERS else None
            if members is None or members.size >= n_definers:
                sql, params = f"SELECT {', '.join(TAG_COLUMNS)} FROM tags WHERE {_DEFINERS}", []
            else:
                member_keys = [canonical_address(a) for a in chain_store.address_strings(members) if a]
                sql = f"SELECT {', '.join(TAG_COLUMNS)} FROM tags WHERE {_DEFINERS} AND subject_key IN (SELECT unnest(?))"
                params = [member_keys]
            recs += st.query(sql, params)  # a tag read twice ranks the same: harmless
    ids = tag_address_ids(chain_store, [r["subject"] for r in recs], [r["subject_type"] for r in recs])
    return TagRows.from_records(recs), ids


def _answer(rows: TagRows, row: int, inherited: bool) -> dict[str, Any]:
    rec = rows.records[row]
    tag = {**tag_to_public(rec), "subject_type": rec["subject_type"], "subject": rec["subject"]}
    if inherited:
        tag["inherited_from"] = f"cluster:{rec['subject']}" if rec["subject_type"] == "cluster" else rec["subject"]
    return {"label": rows.label[row], "category": rows.concept_of(row), "tag": tag}


def address_attribution(
    store_path: str | Path, chain_store: Any, addresses: list[str]
) -> dict[str, dict[str, Any] | None]:
    """Per address string ``{label, category, tag}`` (see the module docstring), or None."""
    store_path = Path(store_path)
    if not addresses or not intel_path(store_path).exists():
        return dict.fromkeys(addresses)
    clustering = _clustering(chain_store)
    ids = np.asarray(chain_store.address_ids(addresses), dtype=np.int64)
    clusters = None
    if clustering is not None:
        clusters = clustering.of(ids)
        clusters[ids < 0] = -1
    keys = [canonical_address(a) for a in addresses]
    wanted = sorted({int(c) for c in clusters.tolist() if c >= 0}) if clusters is not None else []
    rows, row_address = _rows(store_path, chain_store, keys, wanted, clustering)
    local = {k: i for i, k in enumerate(keys)}
    row_target = np.array([local.get(r["subject_key"], -1) if r["subject_type"] == "address" else -1
                           for r in rows.records], dtype=np.int64)  # fmt: skip
    row_cluster = np.full(len(rows), -1, dtype=np.int64)
    if clustering is not None:
        row_cluster = named_clusters(rows, row_address, clustering.of)
    winner, inherited = resolve(rows, row_target, row_cluster, np.arange(len(addresses)), clusters)
    return {a: (None if w < 0 else _answer(rows, w, inh))
            for a, w, inh in zip(addresses, winner.tolist(), inherited.tolist(), strict=True)}  # fmt: skip


def cluster_attribution(store_path: str | Path, chain_store: Any, cluster: int) -> dict[str, Any] | None:
    """``{label, category, tag}`` of the best tag naming ``cluster`` (a tag on the cluster or a
    member's ``is_cluster_definer`` tag; ``tag.inherited_from`` says which), or None."""
    store_path = Path(store_path)
    clustering = _clustering(chain_store)
    if clustering is None or not intel_path(store_path).exists():
        return None
    rows, row_address = _rows(store_path, chain_store, [], [cluster], clustering)
    named = named_clusters(rows, row_address, clustering.of)
    (best,) = cluster_rows(rows, named, np.array([cluster])).tolist()
    return None if best < 0 else _answer(rows, best, True)
