"""One committed block in, alert drafts out: every enabled rule against the block's spends,
outputs and merges.

The work per block is a handful of vectorised passes whatever the number of rules or watched
addresses (an ``isin`` of the block's input addresses, spent outputs and clusters against the
index's sorted ids), then Python only over the hits. Alert keys are derived from the rule, the
block, the transaction and the subject, so evaluating the same block again (after a crash, or
when catching up) yields the same keys and the outbox stores each alert once.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from chaintrail.analysis.cluster_live import LiveClusters
from chaintrail.chains.bitcoin.address import encode_address_keys
from chaintrail.hub.monitor.index import Resolver, RuleSpec, WatchIndex
from chaintrail.hub.monitor.taint import TaintBook, TaintHop, propagate
from chaintrail.store.blockview import BlockView

TAINTING = ("taint", "service")


def alert_key(*parts: object) -> str:
    """The base idempotency key of an alert: SHA-256 of its identifying parts."""
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


@dataclass
class AlertDraft:
    """An alert before it is stored."""

    rule: RuleSpec
    event: str  # alert | pending
    base_key: str
    subject: str
    amount: int | None
    txid: str | None
    height: int | None = None
    block_hash: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass
class BlockContext:
    """What evaluating a block needs besides the block: the store's lookups and state."""

    resolver: Resolver
    clusters: LiveClusters
    taint: TaintBook
    first_out_of_height: np.ndarray  # int64 first output id of each height (creation heights)


def _names(resolver: Resolver, ids: list[int]) -> dict[int, str | None]:
    if not ids:
        return {}
    uniq = sorted({i for i in ids if i >= 0})
    names = encode_address_keys(resolver.address_keys(np.array(uniq, np.int64))) if uniq else []
    return dict(zip(uniq, names, strict=True)) | {-1: None}


class BlockEvaluator:
    """Evaluates blocks against an index (one instance per follower)."""

    def __init__(self, index: WatchIndex, ctx: BlockContext) -> None:
        self.index, self.ctx = index, ctx

    # ------------------------------------------------------------------ helpers
    def _tx_json(self, view: BlockView, t: int, names: dict[int, str | None], fraction: float | None = None) -> dict[str, Any]:  # fmt: skip
        a = view.arrays
        i0, ni = int(a.tx_in_start[t]), int(a.tx_n_in[t])
        o0, no = int(a.tx_out_start[t]), int(a.tx_n_out[t])
        outs = [{"vout": k - o0, "address": names.get(int(a.out_addr[k])), "value": int(a.out_value[k])}
                for k in range(o0, o0 + no)]  # fmt: skip
        if fraction is not None:
            for o in outs:
                o["tainted"] = int(round(o["value"] * fraction))
        return {"inputs": [{"address": names.get(int(a.in_addr[i])), "value": int(a.in_value[i]),
                            "spends": f"{bytes(view.in_prev_txid[i]).hex()}:{int(view.in_prev_vout[i])}"}
                           for i in range(i0, i0 + ni)], "outputs": outs}  # fmt: skip

    def _draft(self, view: BlockView, rule: RuleSpec, t: int, subject: str, amount: int | None,
               payload: dict[str, Any]) -> AlertDraft:  # fmt: skip
        b = view.block_of_tx(t)
        txid = view.txid(t)
        return AlertDraft(rule, "alert", alert_key(rule.id, rule.kind, view.hashes[b], txid, subject),
                          subject, amount, txid, int(view.heights[b]), view.hashes[b], payload)  # fmt: skip

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, view: BlockView) -> list[AlertDraft]:
        """Alert drafts of every enabled rule for the blocks of ``view`` (in chain order).

        Updates the live clustering and the taint book (whose changes the caller commits with
        the drafts).
        """
        idx, ctx = self.index, self.ctx
        a = view.arrays
        new_addr = np.unique(a.out_addr[a.out_addr >= ctx.clusters.parent.shape[0]]).astype(np.int64)
        idx.resolve_new(ctx.resolver, new_addr, [view.txid(t) for t in range(view.n_txs)] if idx.waiting_txs else [])  # fmt: skip
        in_addr = a.in_addr.astype(np.int64)
        joins = [r for r, role, _ in idx.clusters if idx.rules[r].kind == "cluster_join"]
        before_in = ctx.clusters.cluster_ids(in_addr) if joins else None
        before_members = ctx.clusters.cluster_ids(idx.cluster_members) if joins else None
        ctx.clusters.apply(view)
        in_cl = ctx.clusters.cluster_ids(in_addr)
        out_cl = ctx.clusters.cluster_ids(a.out_addr.astype(np.int64))
        member_cl = ctx.clusters.cluster_ids(idx.cluster_members)
        src_cl: dict[int, set[int]] = defaultdict(set)  # cluster id -> source rules
        svc_cl: dict[int, set[int]] = defaultdict(set)  # cluster id -> service rules
        for (rule, role, _), cid in zip(idx.clusters, member_cl.tolist(), strict=True):
            (svc_cl if role == "service" else src_cl)[cid].add(rule)
        hits = self._source_hits(view, in_addr, in_cl, src_cl)
        drafts: list[AlertDraft] = []
        per_rule: dict[int, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
        for i, rules in hits.items():
            for r in rules:
                per_rule[r][int(a.in_tx[i])].append(i)
        names_wanted: list[int] = []
        pending: list[tuple[RuleSpec, int, str, int, dict[str, Any], float | None]] = []
        for r, txs in per_rule.items():
            rule = idx.rules[r]
            if rule.kind == "movement":
                for t, ins in txs.items():
                    amount = int(sum(max(0, int(a.in_value[i])) for i in ins))
                    if amount >= rule.params.get("min_amount", 0):
                        pending.append((rule, t, f"a{int(in_addr[ins[0]])}", amount, {}, None))
            elif rule.kind == "dormant":
                self._dormant(view, rule, {t: ins for t, ins in txs.items()}, pending)
            elif rule.kind == "large_outflow":
                self._outflow(view, rule, txs, in_cl, out_cl, pending)
        for r in (r for r, rule in idx.rules.items() if rule.kind in ("dormant", "large_outflow") and r not in per_rule):  # fmt: skip
            rule = idx.rules[r]
            if r not in idx.with_subjects:
                everything = {t: list(range(int(a.tx_in_start[t]), int(a.tx_in_start[t] + a.tx_n_in[t]))) for t in range(view.n_txs)}  # fmt: skip
                if rule.kind == "dormant":
                    self._dormant(view, rule, everything, pending)
                else:
                    self._outflow(view, rule, everything, in_cl, out_cl, pending)
        for rule in (r for r in idx.rules.values() if r.kind in TAINTING):
            srcs = {i for t in per_rule.get(rule.id, {}).values() for i in t}
            stop = None
            if rule.kind == "service":
                svc_ids = [c for c, rs in svc_cl.items() if rule.id in rs]
                svc_addrs = [x for x, rs in idx.service_addr.items() if rule.id in rs]
                stop = np.isin(out_cl, svc_ids) | np.isin(a.out_addr, svc_addrs)
            hops = propagate(view, self.ctx.taint, rule.id, srcs, int(rule.params["max_hops"]),
                             float(rule.params["min_percent"]) / 100.0, stop)  # fmt: skip
            self._taint_drafts(view, rule, hops, pending)
        if joins:
            assert before_in is not None and before_members is not None
            self._joins(view, before_in, in_cl, before_members, member_cl, pending)
        for _, t, _, _, _, _ in pending:
            i0, o0 = int(a.tx_in_start[t]), int(a.tx_out_start[t])
            names_wanted += in_addr[i0 : i0 + int(a.tx_n_in[t])].tolist()
            names_wanted += a.out_addr[o0 : o0 + int(a.tx_n_out[t])].tolist()
        names = _names(ctx.resolver, names_wanted)
        for rule, t, subject, amount, extra, fraction in pending:
            if subject.startswith("a") and subject[1:].lstrip("-").isdigit():
                subject = names.get(int(subject[1:])) or subject
            payload = {**extra, "tx": self._tx_json(view, t, names, fraction)}
            drafts.append(self._draft(view, rule, t, subject, amount, payload))
        return drafts

    def _source_hits(self, view: BlockView, in_addr: np.ndarray, in_cl: np.ndarray,
                     src_cl: dict[int, set[int]]) -> dict[int, set[int]]:  # fmt: skip
        """Input index -> source rules it hits (address, output or cluster subjects)."""
        idx = self.index
        prev = view.arrays.in_prev_out
        cl_ids = np.array(sorted(src_cl), np.int64)
        mask = np.isin(in_addr, idx.addr_ids) | np.isin(prev, idx.out_ids) | np.isin(in_cl, cl_ids)
        out: dict[int, set[int]] = {}
        for i in np.flatnonzero(mask).tolist():
            rules = set(idx.addr.get(int(in_addr[i]), ())) | set(idx.outs.get(int(prev[i]), ()))
            rules |= src_cl.get(int(in_cl[i]), set())
            if rules:
                out[i] = rules
        return out

    def _dormant(self, view: BlockView, rule: RuleSpec, txs: dict[int, list[int]], pending: list) -> None:  # type: ignore[type-arg]  # fmt: skip
        a = view.arrays
        first_out = self.ctx.first_out_of_height
        min_blocks, min_amount = int(rule.params["min_blocks"]), int(rule.params["min_amount"])
        for t, ins in txs.items():
            idx = np.array(ins, np.int64)
            prev = a.in_prev_out[idx]
            ok = prev >= 0
            created = np.searchsorted(first_out, prev, "right") - 1
            age = int(view.tx_height[t]) - created
            woke = ok & (age >= min_blocks) & (a.in_value[idx] >= max(min_amount, 1))
            if woke.any():
                j = int(np.argmax(np.where(woke, age, -1)))
                amount = int(a.in_value[idx][woke].sum())
                pending.append((rule, t, f"a{int(a.in_addr[idx[j]])}", amount,
                                {"dormant_blocks": int(age[j]), "created_height": int(created[j])}, None))  # fmt: skip

    def _outflow(self, view: BlockView, rule: RuleSpec, txs: dict[int, list[int]], in_cl: np.ndarray,
                 out_cl: np.ndarray, pending: list) -> None:  # type: ignore[type-arg]  # fmt: skip
        a = view.arrays
        min_amount = int(rule.params["min_amount"])
        for t, ins in txs.items():
            if a.tx_coinbase[t] or not ins:
                continue
            clusters = set(in_cl[np.array(ins, np.int64)].tolist()) - {-1}
            if not clusters:
                continue
            o0, no = int(a.tx_out_start[t]), int(a.tx_n_out[t])
            leaving = int(sum(int(a.out_value[k]) for k in range(o0, o0 + no) if int(out_cl[k]) not in clusters))
            if leaving >= max(min_amount, 1):
                cid = min(clusters)
                pending.append((rule, t, f"cluster:{cid}", leaving, {"cluster_id": cid}, None))

    def _taint_drafts(self, view: BlockView, rule: RuleSpec, hops: list[TaintHop], pending: list) -> None:  # type: ignore[type-arg]  # fmt: skip
        a = view.arrays
        for h in hops:
            extra = {"hops": h.hops, "percent": round(h.fraction * 100, 2)}
            if rule.kind == "taint":
                pending.append((rule, h.tx, f"hop{h.hops}", h.tainted_in, extra, h.fraction))
                continue
            for k in h.outputs:
                amount = int(round(int(a.out_value[k]) * h.fraction))
                pending.append((rule, h.tx, f"a{int(a.out_addr[k])}", amount,
                                {**extra, "vout": k - int(a.tx_out_start[h.tx])}, h.fraction))  # fmt: skip

    def _joins(self, view: BlockView, before_in: np.ndarray, after_in: np.ndarray,
               before_m: np.ndarray, after_m: np.ndarray, pending: list) -> None:  # type: ignore[type-arg]  # fmt: skip
        idx, a = self.index, view.arrays
        for (r, _, _), b, now in zip(idx.clusters, before_m.tolist(), after_m.tolist(), strict=True):
            rule = idx.rules[r]
            if rule.kind != "cluster_join":
                continue
            joined = np.flatnonzero((after_in == now) & (before_in != b) & (a.in_addr >= 0))
            by_tx: dict[int, list[int]] = defaultdict(list)
            for i in joined.tolist():
                by_tx[int(a.in_tx[i])].append(int(a.in_addr[i]))
            for t, addrs in by_tx.items():
                pending.append((rule, t, f"a{sorted(addrs)[0]}", None,
                                {"cluster_id": now, "joined": len(set(addrs))}, None))  # fmt: skip
