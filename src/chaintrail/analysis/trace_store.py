"""Wire tracing to a chain store: clusters, CoinJoin verdicts, tags, names, and seed targets.

The only module of the tracing family that knows about :class:`ChainStore` and the clustering
state; the engine itself only sees arrays. What addresses *are* (labels, categories, services)
comes from the layer above through :class:`AddressAttribution` (``chaintrail.intel.tracing``
passes the intel attribution), so analysis never imports intel.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from chaintrail.analysis.exposure import AddressTags
from chaintrail.analysis.trace import Tracer
from chaintrail.analysis.trace_models import Direction, Seeds, TraceParams
from chaintrail.analysis.trace_result import Naming
from chaintrail.errors import AddressError, NotFoundError, UsageError
from chaintrail.rates import shipped_rates
from chaintrail.store.arrays import ChainArrays

_TXID = re.compile(r"^[0-9a-fA-F]{64}$")
_OUTPOINT = re.compile(r"^([0-9a-fA-F]{64}):(\d+)$")
_HEX = re.compile(r"[0-9a-fA-F]+")
#: What a trace may start from, for error messages.
START_FORMS = "expected an ADDRESS, a TXID (64 hex digits) or TXID:VOUT"


class AddressAttribution(Protocol):
    """What tracing, exposure and risk need to know about address ids (label, category, where
    trails stop); ``chaintrail.intel.attribution.Attribution`` is one."""

    def any_tagged(self) -> bool:
        """Whether any address has a category."""
        ...

    def service_mask(self) -> np.ndarray:
        """Bool per address id: a service where trails stop."""
        ...

    def exposure_codes(self) -> tuple[np.ndarray, list[str]]:
        """(code per address id, 0 = untagged; category name per code)."""
        ...

    def category_of(self, address_id: int) -> str | None:
        """Category of one address id, or None."""
        ...

    def labels_of(self, address_ids: np.ndarray) -> list[str | None]:
        """Labels of address ids (None where untagged)."""
        ...

    def categories_of(self, address_ids: np.ndarray) -> list[str | None]:
        """Categories of address ids (None where untagged)."""
        ...

    def own_tag_mask(self) -> np.ndarray:
        """Bool per address id: labelled by a tag on the address itself, not its cluster's."""
        ...


#: Builds the attribution of a store's addresses, given the cluster id per address (or None).
AttributionLoader = Callable[[Any, "np.ndarray | None"], AddressAttribution]


@dataclass
class TraceContext:
    """A store opened for tracing: the tracer, names, tags and clusters (None where absent)."""

    store: Any  # ChainStore
    chain: ChainArrays
    tracer: Tracer
    naming: Naming
    tags: AddressTags | None
    attribution: AddressAttribution | None
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


def service_stop_mask(attribution: AddressAttribution, cluster_of: np.ndarray | None) -> np.ndarray:
    """True for every address in a cluster that has a service-tagged address (or the address
    itself when there is no clustering)."""
    mask = np.asarray(attribution.service_mask(), dtype=bool)
    if cluster_of is None or not mask.any():
        return mask
    service_clusters = np.unique(cluster_of[: mask.shape[0]][mask])
    return np.isin(cluster_of[: mask.shape[0]], service_clusters)


def open_context(store: Any, attribution_for: AttributionLoader | None = None) -> TraceContext:
    """Everything a trace, exposure or risk query needs from ``store``; ``attribution_for``
    (store, cluster id per address) says what the addresses are (None: nothing is tagged)."""
    chain = store.arrays()
    cluster_of, mixes, heuristics = _clusters(store, chain.n_addresses, chain.n_txs)
    attribution = attribution_for(store, cluster_of) if attribution_for is not None else None
    tagged = attribution is not None and attribution.any_tagged()
    stop = service_stop_mask(attribution, cluster_of) if attribution is not None and tagged else None
    tags = None
    if attribution is not None and tagged:
        code, names = attribution.exposure_codes()
        tags = AddressTags(code, names)
    naming = Naming(
        address=lambda ids: [s or f"address#{i}" for i, s in zip(ids.tolist(), store.address_strings(ids), strict=True)],
        txid=store.txids_hex,
        cluster_of=cluster_of,
        label=attribution.labels_of if attribution is not None else None,
        category=attribution.categories_of if attribution is not None else None,
        rates=shipped_rates("btc"),
        clustering=heuristics,
        own_tag=attribution.own_tag_mask() if attribution is not None else None,
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
        aid = _start_address_id(ctx.store, target)
        seeds = ctx.tracer.seeds_for_addresses(np.array([aid]), params)
    seeds.description = target
    return seeds


def _start_address_id(store: Any, target: str) -> int:
    """Address id of a start that is neither a TXID nor TXID:VOUT; a UsageError saying what a
    start may be when it is no address either (NotFoundError when it is one not in the store)."""
    kind, sep, _ = target.partition(":")
    if sep and kind.isalpha():
        raise UsageError(f"trace start {target!r}: unknown kind {kind!r}; {START_FORMS}")
    if _HEX.fullmatch(target):
        raise UsageError(f"trace start {target!r}: {len(target)} hex digits, a TXID has 64; {START_FORMS}")
    try:
        return int(store.address_id(target))
    except AddressError as exc:
        reason = str(exc).removeprefix(f"{exc.source}: ") if exc.source else str(exc)
        raise UsageError(f"trace start {target!r}: not an address ({reason}); {START_FORMS}") from exc


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
    ids = np.array([_start_address_id(ctx.store, t) for t in dict.fromkeys(targets)], dtype=np.int64)
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
