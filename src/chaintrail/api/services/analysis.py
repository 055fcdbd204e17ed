"""chaintrail's own endpoints (``/v1``): trace, exposure, risk, tx heuristics, off-chain links.

All analysis goes through ``intel.tracing.open_trace_context`` (clusters, CoinJoin verdicts,
intel attribution, service stop mask), opened once per served chain and reused, so the API
answers exactly what ``chaintrail trace|exposure|risk --json`` prints. Trace, exposure and risk
run under the request's work meter; an answer cut by its budget says so in ``budget``.
"""

from __future__ import annotations

from dataclasses import asdict

import numpy as np

from chaintrail.analysis.exposure import exposure as compute
from chaintrail.analysis.heuristics import tx_heuristics
from chaintrail.analysis.risk import score_risk
from chaintrail.analysis.trace_export import result_dict
from chaintrail.analysis.trace_models import TraceParams
from chaintrail.analysis.trace_result import build_result
from chaintrail.analysis.trace_store import seeds_for_target
from chaintrail.api.fields import require_address
from chaintrail.api.services.chainview import ChainView
from chaintrail.budget import Meter
from chaintrail.errors import NotFoundError, UsageError
from chaintrail.intel.coverage import attribution_warnings
from chaintrail.intel.offchain import add_link, neighbourhood
from chaintrail.intel.store import intel_path
from chaintrail.intel.taxonomy import load_taxonomy


def trace(ctx, currency: str, req, meter: Meter) -> dict:  # noqa: ANN001
    """POST /v1/{currency}/trace: follow value from an address, a tx or one output."""
    view = ctx.chain(currency)
    tc = view.trace_context()
    params = TraceParams(
        direction=req.direction, model=req.model, hops=req.hops, min_value=req.min_value,
        height_from=req.height_from, height_to=req.height_to,
        stop_at_services=req.stop_at_services, demix=req.demix,
        max_frontier=meter.frontier(req.max_frontier),
    )  # fmt: skip
    target = _trace_start(req.address, req.tx_hash, req.output_index)
    seeds = seeds_for_target(tc, target, params)
    flow = tc.tracer.run(seeds, params, meter=meter)
    return result_dict(build_result(flow, tc.chain, tc.naming, cluster_nodes=req.cluster_nodes))


def _trace_start(address: str | None, tx_hash: str | None, output_index: int | None) -> str:
    """The one start a trace request names (its fields are checked by ``TraceRequest``)."""
    if address is not None and tx_hash is not None:
        raise UsageError("trace: give address or tx_hash, not both")
    if output_index is not None and tx_hash is None:
        raise UsageError("trace: output_index needs tx_hash (it picks one output of that transaction)")
    if address is not None:
        return address
    if tx_hash is not None:
        return tx_hash if output_index is None else f"{tx_hash}:{output_index}"
    raise UsageError("trace: give an address, or a tx_hash (optionally with output_index)")


def _subject_ids(view: ChainView, address: str | None, cluster: int | None) -> np.ndarray:
    if (address is None) == (cluster is None):
        raise UsageError("give exactly one of address or cluster")
    if address is not None:
        return np.array([view.address_id(require_address(address))], dtype=np.int64)
    return np.asarray(view.members(cluster), dtype=np.int64)


def exposure(
    ctx, currency: str, address: str | None, cluster: int | None, hops: int, meter: Meter  # noqa: ANN001
) -> dict:
    """GET /v1/{currency}/exposure: received/sent value by tagged category, direct and indirect."""
    view = ctx.chain(currency)
    ids = _subject_ids(view, address, cluster)
    tc = view.trace_context()
    if tc.tags is None:
        raise UsageError("exposure needs tags: import a TagPack or a sanctions list first")
    res = compute(tc.tracer, tc.tags, ids, hops=hops, max_frontier=meter.frontier(10_000),
                  meter=meter)  # fmt: skip
    subject = {"address": address} if address is not None else {"cluster": cluster}
    sides = {k: asdict(v) for k, v in res.items()}
    return {**subject, "hops": hops, **sides, "budget": meter.report()}


def risk(ctx, currency: str, address: str, hops: int, meter: Meter) -> dict:  # noqa: ANN001
    """GET /v1/{currency}/addresses/{address}/risk: score 0-10 and the rules that fired
    (``budget`` set: the exposure behind it was cut short, the score is a lower bound)."""
    view = ctx.chain(currency)
    ids = _subject_ids(view, address, None)
    tc = view.trace_context()
    own = (
        [c for c in (tc.attribution.category_of(int(a)) for a in ids) if c]
        if tc.attribution
        else []
    )
    res = (
        compute(tc.tracer, tc.tags, ids, hops=hops, max_frontier=meter.frontier(10_000),
                meter=meter)  # fmt: skip
        if tc.tags is not None
        else {}
    )
    score = score_risk(own, res, ancestors=load_taxonomy().ancestors)
    warnings = attribution_warnings(ctx.store_dir, tc.tags is not None)
    return {"address": address, **asdict(score), "warnings": warnings, "budget": meter.report()}


def heuristics(ctx, currency: str, tx_hash: str) -> dict:  # noqa: ANN001
    """GET /v1/{currency}/txs/{tx_hash}/heuristics: change and CoinJoin verdicts of a tx."""
    view = ctx.chain(currency)
    return tx_heuristics(view.store, view.tx_id(tx_hash))


def offchain_links(ctx, currency: str, address: str, depth: int) -> dict:  # noqa: ANN001
    """GET /v1/{currency}/addresses/{address}/offchain: entities (emails, accounts, cases ...)
    within ``depth`` evidence links of this wallet, with the links (none -> empty lists)."""
    view = ctx.chain(currency)
    view.address_id(address)
    if not intel_path(ctx.store_dir).exists():
        return {"address": address, "entities": [], "links": []}
    try:
        found = neighbourhood(ctx.store_dir, f"address:{address}", depth)
    except NotFoundError:
        return {"address": address, "entities": [], "links": []}
    return {"address": address, **found}


def add_offchain_link(ctx, currency: str, address: str, body, caller: str) -> dict:  # noqa: ANN001
    """POST /v1/{currency}/addresses/{address}/offchain (analyst keys): record one link."""
    view = ctx.chain(currency)
    view.address_id(address)
    fields = body.model_dump(exclude_none=True)
    other = fields.pop("ref")
    fields["note"] = (fields.get("note", "") + f" [api key {caller}]").strip()
    return add_link(ctx.store_dir, f"address:{address}", other, **fields)
