"""Wire tracing to a chain store: clusters, CoinJoin verdicts, tags, names, and seed targets.

The only module of the tracing family that knows about :class:`ChainStore`, the clustering
state and the intel attribution; the engine itself only sees arrays.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from chaintrail.analysis.exposure import AddressTags
from chaintrail.analysis.trace import Tracer
from chaintrail.analysis.trace_models import Direction, Seeds, TraceParams
from chaintrail.analysis.trace_result import Naming
from chaintrail.errors import NotFoundError, UsageError
from chaintrail.store.arrays import ChainArrays

_TXID = re.compile(r"^[0-9a-fA-F]{64}$")
_OUTPOINT = re.compile(r"^([0-9a-fA-F]{64}):(\d+)$")


@dataclass
class TraceContext:
    """A store opened for tracing: the tracer, names, tags and clusters (None where absent)."""

    store: Any  # ChainStore
    chain: ChainArrays
    tracer: Tracer
    naming: Naming
    tags: AddressTags | None
    attribution: Any | None  # chaintrail.intel.attribution.Attribution
    cluster_of: np.ndarray | None


def _clusters(
    store: Any, n_addr: int, n_txs: int
) -> tuple[np.ndarray | None, np.ndarray | None, str | None]:
    """(cluster id per address, CoinJoin mix flag per tx, heuristics) of the last clustering
    run."""
    from chaintrail.analysis.clustering import load_clusters
    from chaintrail.analysis.coinjoin import MIXES

    try:
        state = load_clusters(store)
    except NotFoundError:
        return None, None, None
    labels = np.asarray(state.labels, dtype=np.int64)
    cluster_of = np.arange(n_addr, dtype=np.int64)  # addresses newer than the run: singletons
    k = min(n_addr, labels.shape[0])
    cluster_of[:k] = labels[:k]
    verdict = np.asarray(state.verdict)
    mixes = None
    if verdict.shape[0] == n_txs:
        mixes = (verdict & MIXES) != 0
    return cluster_of, mixes, state.meta.get("heuristics")


def service_stop_mask(attribution: Any, cluster_of: np.ndarray | None) -> np.ndarray:
    """True for every address in a cluster that has a service-tagged address (or the address
    itself when there is no clustering)."""
    mask = np.asarray(attribution.service_mask(), dtype=bool)
    if cluster_of is None or not mask.any():
        return mask
    service_clusters = np.unique(cluster_of[: mask.shape[0]][mask])
    return np.isin(cluster_of[: mask.shape[0]], service_clusters)


def open_context(store: Any) -> TraceContext:
    """Everything a trace, exposure or risk query needs from ``store``."""
    from chaintrail.intel.attribution import load_attribution

    chain = store.arrays()
    cluster_of, mixes, heuristics = _clusters(store, chain.n_addresses, chain.n_txs)
    attribution = load_attribution(store.root, store)
    own_tag = np.asarray(attribution.addr_category) >= 0
    if cluster_of is not None:
        attribution = attribution.with_clusters(cluster_of)
    tagged = (attribution.addr_category >= 0).any()
    stop = service_stop_mask(attribution, cluster_of) if tagged else None
    tags = None
    if tagged:
        code, names = attribution.exposure_codes()
        tags = AddressTags(code, names)

    def categories(ids: np.ndarray) -> list[str | None]:
        return [attribution.category_of(int(a)) for a in ids.tolist()]

    naming = Naming(
        address=lambda ids: [s or f"address#{i}" for i, s in zip(ids.tolist(), store.address_strings(ids), strict=True)],
        txid=store.txids_hex,
        cluster_of=cluster_of,
        label=attribution.labels_of,
        category=categories,
        clustering=heuristics,
        own_tag=own_tag,
    )  # fmt: skip
    tracer = Tracer(chain, coinjoin_tx=mixes, stop_addr=stop)
    return TraceContext(store, chain, tracer, naming, tags, attribution, cluster_of)


def seeds_for_target(ctx: TraceContext, target: str, params: TraceParams) -> Seeds:
    """Seeds for ``ADDR``, ``TXID`` or ``TXID:VOUT`` (NotFoundError if unknown)."""
    target = target.strip()
    ch = ctx.chain
    m = _OUTPOINT.match(target)
    if m:
        tx = ctx.store.tx_id(m.group(1))
        vout = int(m.group(2))
        if vout >= int(ch.tx_n_out[tx]):
            raise NotFoundError(
                f"{target}: the transaction has only {int(ch.tx_n_out[tx])} outputs"
            )
        seeds = ctx.tracer.seeds_for_output(int(ch.tx_out_start[tx]) + vout)
    elif _TXID.match(target):
        seeds = ctx.tracer.seeds_for_tx(ctx.store.tx_id(target), Direction(params.direction))
    else:
        aid = ctx.store.address_id(target)
        seeds = ctx.tracer.seeds_for_addresses(np.array([aid]), params)
    seeds.description = target
    return seeds


def seeds_for_targets(ctx: TraceContext, targets: list[str], params: TraceParams) -> Seeds:
    """Seeds for one target (see :func:`seeds_for_target`) or for several addresses traced
    together, as an investigator does with all of a ransom campaign's payment addresses."""
    targets = [t.strip() for t in targets if t.strip()]
    if not targets:
        raise UsageError("give at least one ADDRESS, TXID or TXID:VOUT to trace from")
    if len(targets) == 1:
        return seeds_for_target(ctx, targets[0], params)
    not_addr = [t for t in targets if _TXID.match(t) or _OUTPOINT.match(t)]
    if not_addr:
        raise UsageError(
            f"{not_addr[0]}: several targets must all be addresses (trace one TXID or TXID:VOUT at a time)"
        )
    ids = np.array([ctx.store.address_id(t) for t in dict.fromkeys(targets)], dtype=np.int64)
    seeds = ctx.tracer.seeds_for_addresses(ids, params)
    seeds.description = f"{len(ids)} addresses ({targets[0]}, ...)"
    return seeds


def addresses_for_subject(ctx: TraceContext, subject: str) -> tuple[str, np.ndarray]:
    """("address" or "cluster", address ids) for an address string or a numeric cluster id."""
    subject = subject.strip()
    if subject.isdigit():
        if ctx.cluster_of is None:
            raise NotFoundError(f"cluster {subject}: no clustering yet; run 'chaintrail cluster'")
        members = np.nonzero(ctx.cluster_of == int(subject))[0]
        if members.size == 0:
            raise NotFoundError(f"cluster {subject} is not in the store")
        return "cluster", members
    return "address", np.array([ctx.store.address_id(subject)], dtype=np.int64)
