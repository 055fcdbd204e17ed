"""Exposure: how much of what an address or cluster received (and sent) touches each category.

Received exposure traces the target's incoming coins *backward* by haircut for up to N hops;
sent exposure traces the coins it spent *forward*. A trail ends at the first tagged address it
meets, and the haircut amount that reached it counts for that tag's category: ``direct`` when
the tagged address is the immediate counterparty (hop 1), ``indirect`` beyond. Amounts are
integer satoshis; percentages are of the total traced.

Received coins are the outputs paid to the target by transactions the target did not fund
itself (its own change would count its past twice).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chaintrail.analysis.trace import Tracer
from chaintrail.analysis.trace_models import Direction, EndReason, Seeds, TaintModel, TraceParams
from chaintrail.budget import Meter
from chaintrail.errors import NotFoundError, UsageError
from chaintrail.limits import MAX_EXPOSURE_HOPS


@dataclass
class AddressTags:
    """Per-address tag category codes (0 = untagged) and the category name of each code."""

    code: np.ndarray  # int16/int32 per address id
    names: list[str]  # names[code]; names[0] is unused

    def mask(self) -> np.ndarray:
        """True for every tagged address."""
        return self.code > 0


@dataclass
class CategoryExposure:
    """Satoshis from (or to) one category, split into direct and indirect."""

    category: str
    direct: int
    indirect: int
    amount: int
    percent: float


@dataclass
class SideExposure:
    """One direction (received or sent): total traced and the breakdown by category."""

    total: int
    by_category: list[CategoryExposure]
    untagged: int  # ended untagged: hop limit, mined coins, unspent
    fees: int
    cut: int  # not followed (below 1 satoshi of haircut, frontier cap)
    budget_cut: int = 0  # not followed further because the work budget ran out


def _own_funded(tracer: Tracer, outs: np.ndarray, own: np.ndarray) -> np.ndarray:
    """True where the tx creating the output has an input from one of ``own`` addresses
    (``own`` sorted). Vectorised over the creating txs' inputs: a big cluster has tens of
    thousands of outputs."""
    ch = tracer.chain
    txs, back = np.unique(ch.out_tx[outs], return_inverse=True)
    starts = np.asarray(ch.tx_in_start[txs], np.int64)
    counts = np.asarray(ch.tx_n_in[txs], np.int64)
    total = int(counts.sum())
    if total == 0:
        return np.zeros(outs.size, bool)
    first = np.cumsum(counts) - counts  # where each tx's inputs begin in the gathered list
    idx = np.repeat(starts - first, counts) + np.arange(total)
    addr = np.asarray(ch.in_addr[idx], np.int64)
    pos = np.minimum(np.searchsorted(own, addr), own.size - 1)
    mine = (addr >= 0) & (own[pos] == addr)
    per_tx = np.zeros(txs.size, bool)
    np.logical_or.at(per_tx, np.repeat(np.arange(txs.size), counts), mine)
    return per_tx[back]


def _side(
    tracer: Tracer,
    tags: AddressTags,
    seeds: Seeds,
    params: TraceParams,
    stop: np.ndarray,
    meter: Meter | None,
) -> SideExposure:
    flow = tracer.run(seeds, params, stop_addr=stop, meter=meter, limit_results=False)
    total = float(seeds.amounts.sum())
    ch = tracer.chain
    direct: dict[int, float] = {}
    indirect: dict[int, float] = {}
    service = flow.term_reason == EndReason.SERVICE
    stopped = flow.term_reason == EndReason.BUDGET
    codes = tags.code[ch.out_addr[flow.term_out[service]]]
    for c, a, h in zip(
        codes.tolist(),
        flow.term_amt[service].tolist(),
        flow.term_hop[service].tolist(),
        strict=True,
    ):
        bucket = direct if h <= 1 else indirect
        bucket[c] = bucket.get(c, 0.0) + a
    cats = []
    for c in sorted(set(direct) | set(indirect)):
        d, i = direct.get(c, 0.0), indirect.get(c, 0.0)
        cats.append(
            CategoryExposure(
                category=tags.names[c], direct=int(round(d)), indirect=int(round(i)),
                amount=int(round(d + i)), percent=round(100.0 * (d + i) / total, 4) if total else 0.0,
            )
        )  # fmt: skip
    cats.sort(key=lambda x: -x.amount)
    return SideExposure(
        total=int(round(total)),
        by_category=cats,
        untagged=int(round(float(flow.term_amt[~service & ~stopped].sum()))),
        fees=int(round(flow.fee)),
        cut=int(round(sum(c.value for c in flow.cuts))),
        budget_cut=int(round(float(flow.term_amt[stopped].sum()))),
    )


def exposure(
    tracer: Tracer,
    tags: AddressTags,
    address_ids: np.ndarray,
    *,
    hops: int = 3,
    max_frontier: int = 10_000,
    meter: Meter | None = None,
) -> dict[str, SideExposure]:
    """``{"received": ..., "sent": ...}`` exposure of the address set (one address or a cluster).

    With a ``meter`` the traces stop when the budget runs out: what they had not followed yet
    counts as ``budget_cut`` (so the categories are lower bounds) and ``meter.cut`` says why.
    """
    if not 1 <= hops <= MAX_EXPOSURE_HOPS:
        raise UsageError(f"--hops must be between 1 and {MAX_EXPOSURE_HOPS}, got {hops}")
    own = np.unique(np.asarray(address_ids, np.int64))
    if own.size == 0 or own.max() >= tracer.chain.n_addresses:
        raise NotFoundError("exposure: no such address or cluster in the store")
    stop = tags.mask().copy()
    stop[own] = False  # the target's own tags do not end its own trails
    outs = tracer.outputs_of(own)
    values = tracer.chain.out_value[outs].astype(np.int64)
    incoming = ~_own_funded(tracer, outs, own) & (values > 0)
    common = dict(hops=hops, stop_at_services=True, demix=False, max_frontier=max_frontier)
    back = TraceParams(direction=Direction.BACKWARD, model=TaintModel.HAIRCUT, **common)
    fwd = TraceParams(direction=Direction.FORWARD, model=TaintModel.HAIRCUT, **common)
    empty = SideExposure(0, [], 0, 0, 0)
    received = (
        _side(tracer, tags, Seeds(outs[incoming], values[incoming]), back, stop, meter)
        if incoming.any() else empty
    )  # fmt: skip
    spent = tracer.chain.out_spent_by[outs] >= 0
    sent = (
        _side(tracer, tags, Seeds(outs[spent], values[spent]), fwd, stop, meter)
        if spent.any() else empty
    )
    return {"received": received, "sent": sent}
