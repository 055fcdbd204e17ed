"""What a cluster rests on: its multi-input components and the change links that join them.

A cluster is the union of *multi-input components* (addresses spent together in txs no
detector flags, the strong evidence) joined by change links (each decided by one level of the
change cascade, a weaker, named heuristic). :func:`cluster_evidence` rebuilds the components
of one cluster from the chain and replays the clustering run's change-link log over them, so
an investigator can state which part of a cluster rests on which assumption, and
``cluster-info --split multi-input`` can show the components on their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from chaintrail.analysis.coinjoin import MERGE_BLOCKING
from chaintrail.kernels import kernel
from chaintrail.store.arrays import ChainArrays

MULTI_INPUT = "multi-input"


@dataclass
class Component:
    """One multi-input component: its address ids (sorted) and its size."""

    addresses: np.ndarray

    @property
    def size(self) -> int:
        """Number of addresses."""
        return int(self.addresses.shape[0])


@dataclass
class Bridge:
    """A change link joining two components: the tx, the change vout and the deciding rule."""

    tx_id: int
    vout: int
    rule: str
    components: tuple[int, int]  # indexes into ClusterEvidence.components


@dataclass
class ClusterEvidence:
    """A cluster split into multi-input components, with the change links between them."""

    cluster_id: int
    size: int
    components: list[Component]  # largest first
    links: dict[str, int] = field(default_factory=dict)  # rule -> change links inside the cluster
    joins: dict[str, int] = field(default_factory=dict)  # rule -> links that joined components
    bridges: list[Bridge] = field(default_factory=list)

    @property
    def multi_input_share(self) -> float:
        """Share of the cluster's addresses in its largest multi-input component."""
        return self.components[0].size / self.size if self.size else 0.0

    def summary(self) -> dict[str, object]:
        """JSON-able counts (what ``cluster-info`` shows as ``evidence``)."""
        return {
            "multi_input_components": len(self.components),
            "largest_component": self.components[0].size if self.components else 0,
            "multi_input_share": round(self.multi_input_share, 4),
            "change_links": dict(self.links),
            "change_joins": dict(self.joins),
        }


@kernel()
def _components(local_in, tx_starts, tx_counts, n):  # type: ignore[no-untyped-def]
    """Union-find over ``n`` local ids: each tx's local input ids are one set; root per id."""
    parent = np.arange(n)
    for t in range(tx_starts.shape[0]):
        first = -1
        for i in range(tx_starts[t], tx_starts[t] + tx_counts[t]):
            a = local_in[i]
            if a < 0:
                continue
            if first < 0:
                first = a
                continue
            ra, rb = first, a
            while parent[ra] != ra:
                parent[ra] = parent[parent[ra]]
                ra = parent[ra]
            while parent[rb] != rb:
                parent[rb] = parent[parent[rb]]
                rb = parent[rb]
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    for x in range(n):
        r = x
        while parent[r] != r:
            r = parent[r]
        parent[x] = r
    return parent


def cluster_evidence(
    arrays: ChainArrays,
    labels: np.ndarray,
    verdict: np.ndarray,
    links: pa.Table,
    level_names: list[str],
    refused_txs: np.ndarray,
    cluster_id: int,
) -> ClusterEvidence:
    """Split cluster ``cluster_id`` into its multi-input components and replay the change
    links (``links``: the run's link log; ``refused_txs``: links the guard refused)."""
    labels = np.asarray(labels)
    members = np.flatnonzero(labels == cluster_id)
    n = members.shape[0]
    in_addr = np.asarray(arrays.in_addr)
    known = (in_addr >= 0) & (in_addr < labels.shape[0])
    inside = np.zeros(in_addr.shape[0], dtype=bool)
    inside[known] = labels[in_addr[known]] == cluster_id
    in_tx = np.asarray(arrays.in_tx)
    txs = np.unique(in_tx[inside])
    v = np.asarray(verdict)
    txs = txs[txs < v.shape[0]]
    txs = txs[(v[txs] & MERGE_BLOCKING) == 0]
    starts = np.asarray(arrays.tx_in_start)[txs].astype(np.int64)
    counts = np.asarray(arrays.tx_n_in)[txs].astype(np.int64)
    offsets = np.cumsum(counts) - counts  # where each tx's inputs start in ``idx``
    idx = np.repeat(starts - offsets, counts) + np.arange(int(counts.sum()), dtype=np.int64)
    local = np.searchsorted(members, in_addr[idx])
    local = np.where(
        (local < n) & (members[np.minimum(local, max(n - 1, 0))] == in_addr[idx]), local, -1
    ).astype(np.int64)
    root = _components(local, offsets, counts, n) if n else np.zeros(0, np.int64)
    roots, comp_of, sizes = np.unique(root, return_inverse=True, return_counts=True)
    order = np.argsort(-sizes, kind="stable")
    rank_of = np.empty_like(order)
    rank_of[order] = np.arange(order.shape[0])
    comp = rank_of[comp_of]
    components = [Component(members[comp == k]) for k in range(order.shape[0])]
    ev = ClusterEvidence(int(cluster_id), int(n), components)
    if links.num_rows == 0 or n == 0:
        return ev
    tx_ids = links.column("tx_id").to_numpy()
    vouts = links.column("vout").to_numpy().astype(np.int64)
    levels = links.column("level").to_numpy()
    out_ids = np.asarray(arrays.tx_out_start)[tx_ids] + vouts
    change_addr = np.asarray(arrays.out_addr)[out_ids]
    mine = (change_addr >= 0) & ~np.isin(tx_ids, refused_txs)
    mine[mine] = labels[change_addr[mine]] == cluster_id
    parent = list(range(len(components)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    first_in = np.asarray(arrays.in_addr)[np.asarray(arrays.tx_in_start)[tx_ids[mine]]]
    for t, vo, lv, ca, src in zip(tx_ids[mine].tolist(), vouts[mine].tolist(),
                                  levels[mine].tolist(), change_addr[mine].tolist(),
                                  first_in.tolist(), strict=True):  # fmt: skip
        rule = level_names[lv] if 0 <= lv < len(level_names) else f"level {lv}"
        ev.links[rule] = ev.links.get(rule, 0) + 1
        ia, ib = _local(members, src), _local(members, ca)
        if ia < 0 or ib < 0:
            continue
        a, b = find(int(comp[ia])), find(int(comp[ib]))
        if a != b:
            parent[max(a, b)] = min(a, b)
            ev.joins[rule] = ev.joins.get(rule, 0) + 1
            ev.bridges.append(Bridge(t, vo, rule, (int(comp[ia]), int(comp[ib]))))
    return ev


def _local(members: np.ndarray, addr: int) -> int:
    k = int(np.searchsorted(members, addr))
    return k if k < members.shape[0] and members[k] == addr else -1
