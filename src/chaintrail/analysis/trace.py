"""Fund-flow tracing: forward (where money went) or backward (where it came from), hop by hop.

:class:`Tracer` binds one :class:`~chaintrail.store.arrays.ChainArrays` (plus optional CoinJoin
verdicts and a per-address stop mask for stop-at-services) and runs traces over it with the
numba kernels of :mod:`trace_kernels` / :mod:`trace_fifo`; CoinJoins are handed to
:mod:`trace_demix`. A trace yields a :class:`TraceFlow` (raw records); :mod:`trace_result`
turns that into the graph, terminals and paths a user reads.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from chaintrail.analysis import trace_demix as demix
from chaintrail.analysis import trace_kernels as K
from chaintrail.analysis.trace_fifo import fifo_step
from chaintrail.analysis.trace_models import (
    SIDE_IN,
    SIDE_OUT,
    Cut,
    Direction,
    EndReason,
    Rule,
    Seeds,
    TaintModel,
    TraceFlow,
    TraceParams,
)
from chaintrail.budget import Meter
from chaintrail.errors import NotFoundError, UsageError
from chaintrail.store.arrays import ChainArrays

_END_OF_STATUS = {
    K.UNSPENT: EndReason.UNSPENT,
    K.WINDOW: EndReason.WINDOW,
    K.MINED: EndReason.MINED,
    K.NO_DATA: EndReason.NO_DATA,
}


class _Frontier:
    """Traced outputs waiting to cross their next tx (FIFO keeps the satoshi interval)."""

    def __init__(self, out, amt, cam, lo=None, hi=None, src_tx=None) -> None:
        self.src_tx = None if src_tx is None else np.asarray(src_tx, np.int64)  # tx that made it
        self.out = np.asarray(out, dtype=np.int64)
        self.amt = np.asarray(amt, dtype=np.float64)
        self.cam = np.asarray(cam, dtype=np.float64)
        self.lo = np.zeros(self.out.size, np.int64) if lo is None else np.asarray(lo, np.int64)
        self.hi = self.amt.astype(np.int64) if hi is None else np.asarray(hi, np.int64)

    def take(self, mask: np.ndarray) -> _Frontier:
        return _Frontier(
            self.out[mask], self.amt[mask], self.cam[mask], self.lo[mask], self.hi[mask]
        )

    @staticmethod
    def concat(parts: list[_Frontier]) -> _Frontier:
        return _Frontier(
            np.concatenate([p.out for p in parts]),
            np.concatenate([p.amt for p in parts]),
            np.concatenate([p.cam for p in parts]),
            np.concatenate([p.lo for p in parts]),
            np.concatenate([p.hi for p in parts]),
        )

    @property
    def conf(self) -> np.ndarray:
        return np.divide(self.cam, self.amt, out=np.zeros_like(self.amt), where=self.amt > 0)


class _Recorder:
    """Collects flow and terminal records hop by hop; ``flow()`` concatenates them."""

    def __init__(self, count: bool = True) -> None:
        self.rec: list[tuple[np.ndarray, ...]] = []
        self.term: list[tuple[np.ndarray, ...]] = []
        self.count = count
        self.size = 0  # records + terminals so far (what a result budget counts), if counted

    def records(self, side, tx, out, amt, conf, rule, hop) -> None:
        n = out.shape[0]
        self.size += n if self.count else 0
        if n:
            self.rec.append(
                (
                    np.full(n, side, np.uint8),
                    np.asarray(tx, np.int64),
                    np.asarray(out, np.int64),
                    np.asarray(amt, np.float64),
                    np.broadcast_to(np.asarray(conf, np.float64), (n,)).copy(),
                    np.broadcast_to(np.asarray(rule, np.uint8), (n,)).copy(),
                    np.full(n, hop, np.int32),
                )
            )

    def terminals(self, front: _Frontier, reason, hop: int) -> None:
        n = front.out.shape[0]
        self.size += n if self.count else 0
        if n:
            reasons = np.broadcast_to(np.asarray(reason, np.uint8), (n,)).copy()
            self.term.append((front.out, front.amt, front.conf, reasons, np.full(n, hop, np.int32)))

    def known_outs(self, seeds: np.ndarray, min_conf: float = 0.0) -> np.ndarray:
        """Seeds and every output traced so far with at least ``min_conf`` confidence."""
        return np.unique(np.concatenate([seeds, *[r[2][r[4] >= min_conf] for r in self.rec]]))

    def columns(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        rec_types = (np.uint8, np.int64, np.int64, np.float64, np.float64, np.uint8, np.int32)
        term_types = (np.int64, np.float64, np.float64, np.uint8, np.int32)
        rec = [
            np.concatenate([r[c] for r in self.rec]) if self.rec else np.empty(0, t)
            for c, t in enumerate(rec_types)
        ]
        term = [
            np.concatenate([r[c] for r in self.term]) if self.term else np.empty(0, t)
            for c, t in enumerate(term_types)
        ]
        return rec, term


class Tracer:
    """Runs traces over one chain. ``coinjoin_tx``: bool per tx (detected if None);
    ``stop_addr``: bool per address, True where stop-at-services ends a trail."""

    def __init__(
        self,
        chain: ChainArrays,
        *,
        coinjoin_tx: np.ndarray | None = None,
        stop_addr: np.ndarray | None = None,
    ) -> None:
        self.chain = chain
        self._coinjoin_tx = coinjoin_tx
        self.stop_addr = stop_addr
        self._addr_order: np.ndarray | None = None
        self._addr_start: np.ndarray | None = None

    @property
    def coinjoin_tx(self) -> np.ndarray:
        """CoinJoin mix verdict per tx (computed once by the CoinJoin detectors if not given)."""
        if self._coinjoin_tx is None:
            self._coinjoin_tx = demix.mix_transactions(self.chain)
        return self._coinjoin_tx

    def outputs_of(self, addr_ids: np.ndarray) -> np.ndarray:
        """Every output id paid to any of ``addr_ids`` (index built on first use)."""
        if self._addr_order is None:
            out_addr = self.chain.out_addr
            self._addr_order = np.argsort(out_addr, kind="stable").astype(np.int64)
            keys = np.arange(self.chain.n_addresses + 1)
            self._addr_start = np.searchsorted(out_addr[self._addr_order], keys)
        assert self._addr_start is not None
        parts = [
            self._addr_order[self._addr_start[a] : self._addr_start[a + 1]]
            for a in np.asarray(addr_ids, np.int64)
        ]
        return np.sort(np.concatenate(parts)) if parts else np.empty(0, np.int64)

    # ---- seeds ------------------------------------------------------------------------
    def seeds_for_addresses(self, addr_ids: np.ndarray, params: TraceParams) -> Seeds:
        """All outputs the addresses received inside the window, fully traced."""
        ch = self.chain
        outs = self.outputs_of(addr_ids)
        h_lo, h_hi, t_lo, t_hi = params.window()
        tx = ch.out_tx[outs]
        keep = (ch.tx_height[tx] >= h_lo) & (ch.tx_height[tx] <= h_hi)
        keep &= (ch.tx_time[tx] >= t_lo) & (ch.tx_time[tx] <= t_hi)
        outs = outs[keep]
        if outs.size == 0:
            raise NotFoundError("the seed addresses received nothing inside the trace window")
        return Seeds(outs, ch.out_value[outs].astype(np.int64))

    def seeds_for_tx(self, tx: int, direction: Direction) -> Seeds:
        """Forward: the tx's outputs; backward: the outputs its inputs spent."""
        ch = self.chain
        if direction is Direction.FORWARD:
            s = int(ch.tx_out_start[tx])
            outs = np.arange(s, s + int(ch.tx_n_out[tx]), dtype=np.int64)
        else:
            s = int(ch.tx_in_start[tx])
            outs = ch.in_prev_out[s : s + int(ch.tx_n_in[tx])].astype(np.int64)
            outs = outs[outs >= 0]
            if outs.size == 0:
                raise NotFoundError("the transaction has no resolved inputs to trace back from")
        return Seeds(outs, ch.out_value[outs].astype(np.int64), stop_at_seed=True)

    def seeds_for_output(self, out_id: int) -> Seeds:
        """One output, fully traced."""
        outs = np.array([out_id], dtype=np.int64)
        return Seeds(outs, self.chain.out_value[outs].astype(np.int64), stop_at_seed=True)

    # ---- the trace ----------------------------------------------------------------------
    def run(
        self,
        seeds: Seeds,
        params: TraceParams,
        *,
        stop_addr: np.ndarray | None = None,
        meter: Meter | None = None,
        progress: Callable[[int, int, int], None] | None = None,
        limit_results: bool = True,
    ) -> TraceFlow:
        """Trace from ``seeds`` under ``params``; every satoshi is accounted for in the flow.

        ``stop_addr`` overrides the tracer's stop mask for this trace only. ``meter`` bounds
        the work: it is asked before each hop and each CoinJoin demixed; when it says stop,
        the trails still moving end there (reason ``budget``) and ``flow.budget`` says why.
        ``progress(hop, hops, frontier size)`` is called before each hop. Without
        ``limit_results`` only the meter's time and cancellation count (exposure keeps sums,
        not the flow records).
        """
        stop = self.stop_addr if stop_addr is None else stop_addr
        if params.stop_at_services and stop is None:
            raise UsageError("stop-at-services needs service tags: import a TagPack first")
        forward = params.direction is Direction.FORWARD
        poison = params.model is TaintModel.POISON
        fifo = params.model is TaintModel.FIFO
        window = params.window()
        defer = self.coinjoin_tx if params.demix else np.zeros(0, np.bool_)
        side_cross, side_emit = (SIDE_IN, SIDE_OUT) if forward else (SIDE_OUT, SIDE_IN)
        rec = _Recorder(count=limit_results)
        mixing = demix.DemixState(self.chain, self.coinjoin_tx) if params.demix else None
        amt0 = seeds.amounts.astype(np.float64)
        front = _Frontier(seeds.out_ids, amt0, amt0.copy())
        if seeds.stop_at_seed and params.stop_at_services and stop is not None:
            front = self._stop_at(front, stop, rec, 0)
        seen_tx = np.empty(0, np.int64)
        cuts = {r: Cut(r) for r in ("min_value", "min_confidence", "frontier_cap", "unresolved")}
        fee = 0.0
        crossed_txs = 0
        hop = 0
        out_of_budget = False
        for hop in range(1, params.hops + 1):
            if front.out.size == 0:
                hop -= 1
                break
            if meter is not None and not meter.ok(rec.size):
                hop -= 1
                out_of_budget = True
                break
            if progress is not None:
                progress(hop, params.hops, int(front.out.size))
            status, via = self._route(front.out, forward, window, defer)
            for st, reason in _END_OF_STATUS.items():
                ended = status == st
                if ended.any():
                    rec.terminals(front.take(ended), reason, hop - 1)
            crossing = (status == K.MOVED) | (status == K.DEFERRED)
            if fifo:
                emitted, hop_fee = self._fifo(front, status, via, forward)
            else:
                emitted, hop_fee, new_seen = self._spread(
                    front, status, via, forward, poison, seen_tx
                )
                if poison:
                    seen_tx = np.union1d(seen_tx, new_seen)
            fee += hop_fee
            parts = [emitted]
            rules = [np.zeros(emitted.out.size, np.uint8)]
            deferred = status == K.DEFERRED
            if deferred.any():
                mixed, mixed_rules, mix_fee, undone = self._demix(
                    front.take(deferred), via[deferred], forward, poison, rec, seeds, mixing, meter
                )
                parts.append(mixed)
                rules.append(mixed_rules)
                fee += mix_fee
                if undone.size:  # the budget ran out among the mixes: those trails end here
                    stopped = deferred & np.isin(via, undone)
                    rec.terminals(front.take(stopped), EndReason.BUDGET, hop - 1)
                    crossing &= ~stopped
                    out_of_budget = True
            rec.records(
                side_cross,
                via[crossing],
                front.out[crossing],
                front.amt[crossing],
                front.conf[crossing],
                Rule.MODEL,
                hop,
            )
            crossed_txs += int(np.unique(via[crossing]).size)
            nxt = _Frontier.concat(parts)
            nxt_rule = np.concatenate(rules)
            src_tx = np.concatenate([p.src_tx for p in parts])
            front = self._filter(nxt, nxt_rule, src_tx, side_emit, hop, params, rec, cuts, stop)
            if out_of_budget:
                break
        else:
            hop = params.hops
        if front.out.size:
            status, _ = self._route(front.out, forward, window, np.zeros(0, np.bool_))
            still = EndReason.BUDGET if out_of_budget else EndReason.MAX_HOPS
            reason = np.where(status == K.UNSPENT, EndReason.UNSPENT, still)
            reason = np.where(status == K.MINED, EndReason.MINED, reason)
            rec.terminals(front, reason.astype(np.uint8), hop)
        (r_side, r_tx, r_out, r_amt, r_conf, r_rule, r_hop), term = rec.columns()
        return TraceFlow(
            params=params, seeds=seeds,
            rec_side=r_side, rec_tx=r_tx, rec_out=r_out, rec_amt=r_amt, rec_conf=r_conf,
            rec_rule=r_rule, rec_hop=r_hop,
            term_out=term[0], term_amt=term[1], term_conf=term[2], term_reason=term[3],
            term_hop=term[4],
            fee=fee, cuts=[c for c in cuts.values() if c.count],
            hops_done=int(r_hop.max()) if r_hop.size else 0,
            txs_crossed=crossed_txs,
            budget=meter.report() if (meter is not None and out_of_budget) else None,
        )  # fmt: skip

    # ---- steps --------------------------------------------------------------------------
    def _route(self, outs, forward, window, defer):
        ch = self.chain
        h_lo, h_hi, t_lo, t_hi = window
        if forward:
            return K.route_forward(
                outs, ch.out_spent_by, ch.in_tx, ch.tx_height, ch.tx_time,
                h_lo, h_hi, t_lo, t_hi, defer,
            )  # fmt: skip
        return K.route_backward(
            outs, ch.out_tx, ch.tx_coinbase, ch.tx_n_in, ch.tx_height, ch.tx_time,
            h_lo, h_hi, t_lo, t_hi, defer,
        )  # fmt: skip

    def _spread(self, front, status, via, forward, poison, seen_tx):
        ch = self.chain
        if forward:
            r_tx, r_out, r_amt, r_cam, fee, new_seen = K.spread_forward(
                status, via, front.amt, front.cam, seen_tx, poison,
                ch.tx_in_start, ch.tx_n_in, ch.in_value, ch.tx_out_start, ch.tx_n_out,
                ch.out_value,
            )  # fmt: skip
        else:
            r_tx, r_out, r_amt, r_cam, new_seen = K.spread_backward(
                status, via, front.amt, front.cam, seen_tx, poison,
                ch.tx_in_start, ch.tx_n_in, ch.in_value, ch.in_prev_out,
            )  # fmt: skip
            fee = 0.0
        emitted = _Frontier(r_out, r_amt, r_cam, src_tx=r_tx)
        return emitted, fee, new_seen

    def _fifo(self, front, status, via, forward):
        ch = self.chain
        r_tx, r_out, r_lo, r_hi, r_conf, fee = fifo_step(
            forward, status, via, front.out, front.lo, front.hi, front.conf,
            ch.out_spent_by, ch.tx_in_start, ch.tx_n_in, ch.in_value, ch.in_prev_out,
            ch.tx_out_start, ch.tx_n_out, ch.out_value,
        )  # fmt: skip
        amt = (r_hi - r_lo).astype(np.float64)
        emitted = _Frontier(r_out, amt, amt * r_conf, r_lo, r_hi, src_tx=r_tx)
        return emitted, float(fee)

    def _demix(self, items: _Frontier, via: np.ndarray, forward, poison, rec, seeds, mixing, meter):
        """Send taint through CoinJoins by the demixing rules; returns outputs, rules, fee and
        the mix txs left undone because the budget ran out (their items did not cross)."""
        ch = self.chain
        outs = [np.empty(0, np.int64)]
        amts, cams = [np.empty(0, np.float64)], [np.empty(0, np.float64)]
        rules, txs = [np.empty(0, np.uint8)], [np.empty(0, np.int64)]
        fee = 0.0
        mixes = np.unique(via)
        if forward:
            mixing.see(rec.known_outs(seeds.out_ids), rec.known_outs(seeds.out_ids, demix.SURE))
            mixing.enter(mixes)
        undone_from = mixes.size
        for k, t in enumerate(mixes):
            if meter is not None and not meter.ok(rec.size):
                undone_from = k
                break
            mine = via == t
            group = items.take(mine)
            taint = float(group.amt.sum())
            conf_in = float(group.cam.sum()) / taint if taint > 0 else 0.0
            if forward:
                party_value = int(ch.out_value[group.out].sum())
                links = demix.party_links(mixing, int(t), group.out)
                if not links:  # nothing to go on: plain haircut over the whole mix
                    links = demix.whole_mix_links(ch, int(t), party_value)
                ids, amt, conf, rule = demix.demix_amounts(
                    ch, links, party_value, float(party_value) if poison else taint
                )
                fee += max(taint - float(amt.sum()), 0.0) if not poison else 0.0
                outs.append(ids)
                amts.append(amt)
                cams.append(amt * conf * conf_in)
                rules.append(rule)
                txs.append(np.full(ids.size, t, np.int64))
            else:
                for j in range(group.out.size):
                    links = demix.demix_backward(ch, int(t), int(group.out[j]))
                    ids = np.array([lk.out_id for lk in links], np.int64)
                    w = ch.out_value[ids].astype(np.float64)
                    amt = group.amt[j] * w / w.sum() if w.sum() > 0 else w
                    conf = np.array([lk.confidence for lk in links], np.float64)
                    outs.append(ids)
                    amts.append(amt)
                    cams.append(amt * conf * group.conf[j])
                    rules.append(np.array([int(lk.rule) for lk in links], np.uint8))
                    txs.append(np.full(ids.size, t, np.int64))
        amt = np.concatenate(amts)
        out = _Frontier(np.concatenate(outs), amt, np.concatenate(cams), src_tx=np.concatenate(txs))
        return out, np.concatenate(rules), fee, mixes[undone_from:]

    def _filter(self, nxt, rule, src_tx, side, hop, params, rec, cuts, stop) -> _Frontier:
        """Drop unresolved and small outputs, end trails at services, cap the frontier; record."""
        keep = nxt.out >= 0
        if (~keep).any():
            cuts["unresolved"].count += int((~keep).sum())
            cuts["unresolved"].value += float(nxt.amt[~keep].sum())
        small = keep & (nxt.amt < max(params.min_value, 1))
        if small.any():
            cuts["min_value"].count += int(small.sum())
            cuts["min_value"].value += float(nxt.amt[small].sum())
        keep &= ~small
        if params.min_confidence > 0:
            doubtful = keep & (rule != Rule.MODEL) & (nxt.conf < params.min_confidence)
            if doubtful.any():
                cuts["min_confidence"].count += int(doubtful.sum())
                cuts["min_confidence"].value += float(nxt.amt[doubtful].sum())
            keep &= ~doubtful
        if keep.sum() > params.max_frontier:
            idx = np.nonzero(keep)[0]
            order = idx[np.argsort(-nxt.amt[idx], kind="stable")]
            dropped = order[params.max_frontier :]
            cuts["frontier_cap"].count += int(dropped.size)
            cuts["frontier_cap"].value += float(nxt.amt[dropped].sum())
            keep[dropped] = False
        rec.records(
            side, src_tx[keep], nxt.out[keep], nxt.amt[keep], nxt.conf[keep], rule[keep], hop
        )
        front = nxt.take(keep)
        if params.stop_at_services and stop is not None:
            front = self._stop_at(front, stop, rec, hop)
        return front

    def _stop_at(self, front: _Frontier, stop: np.ndarray, rec: _Recorder, hop: int) -> _Frontier:
        """End the trails of outputs paid to a service address (terminal SERVICE)."""
        if front.out.size == 0:
            return front
        addr = self.chain.out_addr[front.out]
        at_service = (addr >= 0) & stop[np.maximum(addr, 0)]
        if at_service.any():
            rec.terminals(front.take(at_service), EndReason.SERVICE, hop)
            front = front.take(~at_service)
        return front
