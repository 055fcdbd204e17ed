"""The one rule that says what an address is: which tag wins, and when a cluster's tag counts.

Every surface (``address``, ``tx``, ``cluster-info``, ``risk``, ``exposure``, trace terminals,
the API) resolves attribution through :func:`resolve`, so they cannot disagree:

1. **The best tag** of a set wins: abuse concepts (ransomware, sanction, scam ...) over entity
   concepts (exchange, miner ...), then higher confidence, then the newer ``lastmod``.
2. **A tag's concept** (shown as its ``category``) is its ``abuse`` if set, else its
   ``category``, else its first concept (:func:`tag_concept`): an abuse-only tag is not
   uncategorised.
3. **An address** takes its own best tag; an address without tags takes the best tag that
   **names its cluster**: a tag on the cluster itself (``tags add cluster:ID``) or an address tag
   marked ``is_cluster_definer`` on any member.

Tags arrive as :class:`TagRows` (parallel arrays, one row per tag); callers say which address id
each address tag is on and which cluster each row names, and :func:`resolve` picks the winning
row per address.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from chaintrail.intel.taxonomy import load_taxonomy

CATEGORIES: list[str] = list(load_taxonomy().concepts)
CATEGORY_CODE: dict[str, int] = {c: i for i, c in enumerate(CATEGORIES)}


def tag_concept(abuse: str | None, category: str | None, concepts: Sequence[str] | None) -> str | None:
    """The one concept a tag is filed under: abuse, else category, else its first concept."""
    return abuse or category or (concepts[0] if concepts else None)


@cache
def _rank_table() -> np.ndarray:
    taxo = load_taxonomy()
    abuse = [c == "abuse" or "abuse" in taxo.ancestors(c) for c in CATEGORIES]
    return np.array([2 if a else 1 for a in abuse] + [0], dtype=np.int16)  # code -1 ranks 0


def concept_rank(codes: np.ndarray) -> np.ndarray:
    """2 for abuse concepts, 1 for entity concepts, 0 for none (code -1), per concept code."""
    return _rank_table()[np.asarray(codes, dtype=np.int64)]


def _ordinal(day: Any) -> int:
    if isinstance(day, dt.datetime):
        return day.date().toordinal()
    if isinstance(day, dt.date):
        return day.toordinal()
    if isinstance(day, str) and day:
        try:
            return dt.date.fromisoformat(day[:10]).toordinal()
        except ValueError:
            return 0
    return 0


def rank_key(tag: dict[str, Any]) -> tuple[int, int, int]:
    """Sort key of one tag dict, best first when sorted ascending (rule 1)."""
    concept = tag_concept(tag.get("abuse"), tag.get("category"), tag.get("concepts"))
    rank = int(concept_rank(np.array([CATEGORY_CODE.get(concept or "", -1)]))[0])
    return -rank, -int(tag.get("confidence_level") or 0), -_ordinal(tag.get("lastmod"))


@dataclass
class TagRows:
    """Tags reduced to what resolution needs, one row per tag (parallel arrays)."""

    code: np.ndarray  # int16 concept code (CATEGORIES), -1 unknown
    level: np.ndarray  # int32 confidence level
    lastmod: np.ndarray  # int64 date ordinal, 0 unknown
    label: list[str]
    definer: np.ndarray  # bool: an is_cluster_definer address tag
    cluster: np.ndarray  # int64: the cluster a cluster tag is on, -1 for address tags
    records: list[dict[str, Any]]  # the rows as read (for showing the winning tag), or []

    #: the tag fields resolution reads, in the order :meth:`from_columns` takes them
    FIELDS = ("subject_type", "subject", "abuse", "category", "concepts", "label",
              "confidence_level", "lastmod", "is_cluster_definer")  # fmt: skip

    @classmethod
    def from_columns(cls, columns: Sequence[Sequence[Any]], records: list[dict[str, Any]] | None = None) -> TagRows:
        """Rows from one sequence per field of :attr:`FIELDS` (``records``: the tags as dicts, kept
        to show the winning tag)."""
        types, subjects, abuse, category, concepts, label, level, lastmod, definer = columns
        code = [CATEGORY_CODE.get(tag_concept(a, c, k) or "", -1) for a, c, k in zip(abuse, category, concepts, strict=True)]
        is_cluster = np.array([t == "cluster" for t in types], dtype=bool)
        return cls(
            code=np.array(code, dtype=np.int16),
            level=np.array([v or 0 for v in level], dtype=np.int32),
            lastmod=np.array([_ordinal(d) for d in lastmod], dtype=np.int64),
            label=[v or "" for v in label],
            definer=np.array([bool(d) for d in definer], dtype=bool) & ~is_cluster,
            cluster=np.array([int(s) if c and str(s).isdigit() else -1 for s, c in zip(subjects, is_cluster, strict=True)],
                             dtype=np.int64),  # fmt: skip
            records=records or [],
        )

    @classmethod
    def from_records(cls, records: list[dict[str, Any]]) -> TagRows:
        """Rows from tag dicts having every field of :attr:`FIELDS` (the dicts are kept)."""
        return cls.from_columns([[r.get(f) for r in records] for f in cls.FIELDS], records)

    def __len__(self) -> int:
        return len(self.label)

    def concept_of(self, row: int) -> str | None:
        """The concept (category) of row ``row``, or None."""
        c = int(self.code[row])
        return CATEGORIES[c] if c >= 0 else None


def named_clusters(rows: TagRows, row_address: np.ndarray, cluster_of: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """The cluster each row names (rule 3): a cluster tag's cluster, an ``is_cluster_definer``
    address tag's address's cluster (``cluster_of``: address ids -> cluster ids); -1 otherwise."""
    out = rows.cluster.copy()
    definers = np.flatnonzero(rows.definer & (row_address >= 0))
    if definers.size:
        out[definers] = cluster_of(row_address[definers])
    return out


def best_rows(keys: np.ndarray, rows: TagRows) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct keys >= 0, the best row for each) by rule 1; rows with key -1 are ignored."""
    keys = np.asarray(keys, dtype=np.int64)
    if keys.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    order = np.lexsort((-rows.lastmod, -rows.level, -concept_rank(rows.code), keys))
    order = order[keys[order] >= 0]
    first = np.ones(order.size, bool)
    first[1:] = keys[order][1:] != keys[order][:-1]
    best = order[first]
    return keys[best], best


def _lookup(uniq: np.ndarray, best: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """best[i] where uniq[i] == wanted, else -1 (``uniq`` sorted)."""
    out = np.full(wanted.shape[0], -1, dtype=np.int64)
    if uniq.size == 0:
        return out
    pos = np.clip(np.searchsorted(uniq, wanted), 0, uniq.size - 1)
    hit = (uniq[pos] == wanted) & (wanted >= 0)
    out[hit] = best[pos[hit]]
    return out


def resolve(
    rows: TagRows,
    row_address: np.ndarray,
    row_cluster: np.ndarray,
    targets: np.ndarray,
    target_cluster: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """The winning tag row of each target address id (rule 3) and whether it was inherited.

    ``row_address``: the address id an address tag is on (-1 for other rows and addresses not on
    chain); ``row_cluster``: the cluster a row names (cluster tags, and ``is_cluster_definer``
    address tags mapped to their address's cluster; -1 otherwise); ``target_cluster``: the cluster
    of each target (None without a clustering: own tags only). Returns (row per target, -1 none;
    True where the row names the target's cluster rather than the address itself).
    """
    targets = np.asarray(targets, dtype=np.int64)
    uniq, best = best_rows(row_address, rows)
    own = _lookup(uniq, best, targets)
    inherited = np.zeros(targets.shape[0], dtype=bool)
    if target_cluster is None:
        return own, inherited
    cuniq, cbest = best_rows(row_cluster, rows)
    named = _lookup(cuniq, cbest, np.asarray(target_cluster, dtype=np.int64))
    take = (own < 0) & (named >= 0)
    own[take] = named[take]
    inherited[take] = True
    return own, inherited


def cluster_rows(rows: TagRows, row_cluster: np.ndarray, clusters: np.ndarray) -> np.ndarray:
    """The best row naming each cluster id (-1 where none does)."""
    uniq, best = best_rows(row_cluster, rows)
    return _lookup(uniq, best, np.asarray(clusters, dtype=np.int64))
