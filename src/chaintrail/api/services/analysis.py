"""chaintrail's own endpoints (``/v1``): trace, exposure, risk, tx heuristics, off-chain links.

Traces and exposure run the analysis package's kernels over the served chain's arrays; names
come from the store's lookups and tags from the intel store (tags as stop points / categories).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from chaintrail.api.services.chainview import ChainView
from chaintrail.api.services.tags import _rows
from chaintrail.errors import ChaintrailError, NotFoundError, UsageError


def _category_codes(ctx, view: ChainView):  # noqa: ANN001, ANN202
    """exposure.AddressTags: category code per address id from the intel store's tags."""
    from chaintrail.analysis.exposure import AddressTags

    rows = _rows(
        ctx,
        "SELECT subject, coalesce(category, 'unknown') AS category FROM tags"
        " WHERE subject_type = 'address' AND lower(currency) = ?",
        [view.currency],
    )
    names = ["", *sorted({r["category"] for r in rows})]
    code = np.zeros(view.arrays.n_addresses, np.int32)
    if rows:
        ids = _ids(view, rows)
        for aid, r in zip(ids.tolist(), rows, strict=True):
            if aid >= 0:
                code[aid] = names.index(r["category"])
    return AddressTags(code, names)


def _ids(view: ChainView, rows: list[dict]) -> np.ndarray:
    out = np.full(len(rows), -1, np.int64)
    for i, r in enumerate(rows):
        try:
            out[i] = view.address_id(r["subject"])
        except ChaintrailError:  # tagged addresses not on this chain are skipped
            out[i] = -1
    return out


def _tracer(ctx, view: ChainView):  # noqa: ANN001, ANN202
    from chaintrail.analysis.trace import Tracer

    if getattr(view, "_tracer", None) is None:
        tags = _category_codes(ctx, view)
        view._tracer = (Tracer(view.arrays, stop_addr=tags.mask()), tags)
    return view._tracer


def _naming(view: ChainView, tags):  # noqa: ANN001, ANN202
    from chaintrail.analysis.trace_result import Naming

    return Naming(
        address=lambda ids: view.address_strs(np.asarray(ids)),
        txid=lambda ids: [view.tx_hash(int(t)) for t in np.asarray(ids).tolist()],
        cluster_of=view.clusters()[0],
        category=lambda ids: [
            tags.names[tags.code[i]] if i >= 0 and tags.code[i] else None
            for i in np.asarray(ids).tolist()
        ],
    )


def trace(ctx, currency: str, req) -> dict:  # noqa: ANN001
    """POST /v1/{currency}/trace: follow value from an address, tx or output."""
    from chaintrail.analysis.trace_models import TraceParams
    from chaintrail.analysis.trace_result import build_result

    view = ctx.chain(currency)
    tracer, tags = _tracer(ctx, view)
    params = TraceParams(
        direction=req.direction,
        model=req.model,
        hops=req.hops,
        min_value=req.min_value,
        height_from=req.height_from,
        height_to=req.height_to,
        stop_at_services=req.stop_at_services,
        demix=req.demix,
        max_frontier=req.max_frontier,
    )
    if req.address is not None:
        seeds = tracer.seeds_for_addresses(np.array([view.address_id(req.address)]), params)
    elif req.tx_hash is not None and req.output_index is not None:
        tid = view.tx_id(req.tx_hash)
        if req.output_index >= int(view.arrays.tx_n_out[tid]):
            raise NotFoundError(f"tx {req.tx_hash} has no output {req.output_index}")
        seeds = tracer.seeds_for_output(int(view.arrays.tx_out_start[tid]) + req.output_index)
    elif req.tx_hash is not None:
        seeds = tracer.seeds_for_tx(view.tx_id(req.tx_hash), params.direction)
    else:
        raise UsageError("trace: give an address, or a tx_hash (optionally with output_index)")
    result = build_result(
        tracer.run(seeds, params), view.arrays, _naming(view, tags), cluster_nodes=req.cluster_nodes
    )
    return dataclasses.asdict(result)


def exposure(ctx, currency: str, address: str | None, cluster: int | None, hops: int) -> dict:  # noqa: ANN001
    """GET /v1/{currency}/exposure: where an address's/cluster's money came from and went, by category."""
    from chaintrail.analysis.exposure import exposure as run_exposure

    view = ctx.chain(currency)
    if (address is None) == (cluster is None):
        raise UsageError("exposure: give exactly one of address or cluster")
    ids = np.array([view.address_id(address)]) if address is not None else view.members(cluster)
    tracer, tags = _tracer(ctx, view)
    sides = run_exposure(tracer, tags, ids, hops=hops)
    return {side: dataclasses.asdict(v) for side, v in sides.items()}


def heuristics(ctx, currency: str, tx_hash: str) -> dict:  # noqa: ANN001
    """GET /v1/{currency}/txs/{tx_hash}/heuristics: change and CoinJoin verdicts of a tx."""
    from chaintrail.analysis.heuristics import tx_heuristics

    view = ctx.chain(currency)
    return tx_heuristics(view.store, view.tx_id(tx_hash))


def offchain_links(ctx, currency: str, address: str) -> dict:  # noqa: ANN001
    """GET /v1/{currency}/addresses/{address}/offchain: off-chain links (emails, accounts,
    cases ...) recorded in the intel store where this wallet is either end."""
    view = ctx.chain(currency)
    view.address_id(address)
    rows = _rows(
        ctx,
        "SELECT link_id, src, dst, relation, evidence, observed_at, valid_from, valid_to,"
        " confidence, tlp, note FROM links WHERE src = ? OR dst = ? ORDER BY link_id",
        [address, address],
    )
    for row in rows:
        for key in ("observed_at", "valid_from", "valid_to"):
            if row[key] is not None:
                row[key] = row[key].isoformat()
        if row["confidence"] is not None:
            row["confidence"] = int(row["confidence"])
    return {"address": address, "links": rows}
