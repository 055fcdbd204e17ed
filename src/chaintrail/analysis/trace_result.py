"""Build the user-facing :class:`TraceResult` from a raw :class:`TraceFlow`.

Nodes are addresses (or clusters with ``cluster_nodes``); an output without an address is its
own node named ``TXID:VOUT``. Within one tx, an edge's amount splits the tx's traced outflow to
each output in proportion to each traced input (exact for haircut, the aggregate for FIFO and
poison). Amounts are rounded to integer satoshis only here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from chaintrail.analysis.trace_graph import tx_edges, walk_paths
from chaintrail.analysis.trace_models import (
    SIDE_IN,
    Direction,
    EndReason,
    Rule,
    Terminal,
    TraceEdge,
    TraceFlow,
    TraceNode,
    TraceResult,
)
from chaintrail.rates import DailyRates
from chaintrail.store.arrays import ChainArrays
from chaintrail.times import utc_iso

Lookup = Callable[[np.ndarray], list]


@dataclass
class Naming:
    """How ids become names and tags: the store's lookups in the CLI, plain ids in tests.

    ``address``/``txid`` map id arrays to strings; ``cluster_of`` is a cluster id per address;
    ``label``/``category`` map address ids to a tag label / category name (or None).
    """

    address: Lookup
    txid: Lookup
    cluster_of: np.ndarray | None = None
    label: Lookup | None = None
    category: Lookup | None = None
    rates: DailyRates | None = None  # fiat values of terminal deposits
    clustering: str | None = None  # heuristics of the clustering run behind cluster_of
    own_tag: np.ndarray | None = None  # bool per address: tagged itself (not via its cluster)


def _node_keys(chain: ChainArrays, outs: np.ndarray, naming: Naming, clusters: bool) -> np.ndarray:
    """A node key per output: address id, cluster id, or -(out+2) for no address."""
    addr = chain.out_addr[outs].astype(np.int64)
    keys = addr.copy()
    if clusters and naming.cluster_of is not None:
        has = addr >= 0
        keys[has] = naming.cluster_of[addr[has]]
    keys[addr < 0] = -(outs[addr < 0] + 2)
    return keys


class _Names:
    """Resolves node keys to id strings, labels and categories, once per key."""

    def __init__(self, chain: ChainArrays, naming: Naming, clusters: bool, rep: dict[int, int]):
        self.chain, self.naming, self.clusters, self.rep = chain, naming, clusters, rep
        self._cache: dict[int, tuple[str, int | None, str | None, str | None]] = {}

    def resolve(self, keys: list[int]) -> None:
        todo = [k for k in keys if k not in self._cache]
        addr_keys = [k for k in todo if k >= 0]
        reps = np.array([self.rep[k] for k in addr_keys], dtype=np.int64)
        names = self.naming.address(reps) if reps.size else []
        labels = (
            self.naming.label(reps) if (self.naming.label and reps.size) else [None] * len(reps)
        )
        cats = (
            self.naming.category(reps)
            if (self.naming.category and reps.size)
            else [None] * len(reps)
        )
        for k, a, name, lab, cat in zip(addr_keys, reps, names, labels, cats, strict=True):
            cid = None
            if self.naming.cluster_of is not None:
                cid = int(self.naming.cluster_of[a])
            node = f"cluster:{k}" if self.clusters and self.naming.cluster_of is not None else name
            self._cache[k] = (node, cid, lab, cat)
        for k in (k for k in todo if k < 0):
            out = -k - 2
            tx = int(self.chain.out_tx[out])
            vout = out - int(self.chain.tx_out_start[tx])
            txid = self.naming.txid(np.array([tx]))[0]
            self._cache[k] = (f"{txid}:{vout}", None, None, None)

    def __getitem__(self, key: int) -> tuple[str, int | None, str | None, str | None]:
        return self._cache[key]


def build_result(
    flow: TraceFlow, chain: ChainArrays, naming: Naming, *, cluster_nodes: bool = False
) -> TraceResult:
    """Nodes, edges, terminals (with paths) and cut report of one trace."""
    p = flow.params
    forward = p.direction is Direction.FORWARD
    is_in = flow.rec_side == SIDE_IN
    is_out = ~is_in
    all_outs = np.concatenate([flow.rec_out, flow.term_out, flow.seeds.out_ids])
    keys_all = _node_keys(chain, all_outs, naming, cluster_nodes)
    rep: dict[int, int] = {}
    addr_all = chain.out_addr[all_outs]
    for k, a in zip(keys_all.tolist(), addr_all.tolist(), strict=True):
        if k >= 0 and k not in rep:
            rep[k] = a
    names = _Names(chain, naming, cluster_nodes, rep)
    names.resolve(list(dict.fromkeys(keys_all.tolist())))
    n_rec, n_term = flow.rec_out.size, flow.term_out.size
    rec_key = keys_all[:n_rec]
    term_key = keys_all[n_rec : n_rec + n_term]
    seed_key = keys_all[n_rec + n_term :]

    edges = _edges(flow, chain, rec_key, is_in, is_out, names, naming)
    paths = _paths(flow, chain, naming, forward)
    terminals = _terminals(flow, term_key, names, paths, p.max_paths)
    _add_deposits(terminals, flow, term_key, chain, naming, names)
    key_of = {names[k][0]: k for k in set(term_key.tolist())}
    for t in terminals:
        t.assumptions = [p.model.value, *t.assumptions, *_attribution(t, naming, key_of)]
    received: dict[int, float] = {}
    for k, a in zip(rec_key[is_out].tolist(), flow.rec_amt[is_out].tolist(), strict=True):
        received[k] = received.get(k, 0.0) + a
    uncrossed = ~np.isin(flow.seeds.out_ids, flow.rec_out[is_out])  # backward crossings count
    for k, a in zip(
        seed_key[uncrossed].tolist(), flow.seeds.amounts[uncrossed].tolist(), strict=True
    ):
        received[k] = received.get(k, 0.0) + a
    seed_set, term_set = set(seed_key.tolist()), set(term_key.tolist())
    nodes = []
    for k in dict.fromkeys(keys_all.tolist()):
        node, cid, lab, cat = names[k]
        nodes.append(
            TraceNode(
                id=node,
                kind="cluster" if (cluster_nodes and k >= 0 and naming.cluster_of is not None) else "address",
                cluster_id=cid, label=lab, category=cat,
                received=int(round(received.get(k, 0.0))),
                seed=k in seed_set, terminal=k in term_set,
            )
        )  # fmt: skip
    return TraceResult(
        direction=p.direction.value,
        model=p.model.value,
        hops=p.hops,
        seeds=flow.seeds.description,
        nodes=nodes,
        edges=edges,
        terminals=terminals,
        traced=int(flow.seeds.amounts.sum()),
        fee=int(round(flow.fee)),
        cut=[
            {"reason": c.reason, "count": c.count, "value": int(round(c.value))} for c in flow.cuts
        ],
        hops_done=flow.hops_done,
        txs_crossed=flow.txs_crossed,
        budget=flow.budget,
    )


def _attribution(t: Terminal, naming: Naming, key_of: dict[str, int]) -> list[str]:
    """How a service terminal is known to be that service: its own tag, or its cluster's
    (then the clustering heuristics are an assumption of the trace)."""
    if EndReason.SERVICE.label not in t.reasons or t.label is None:
        return []
    addr = key_of.get(t.address, -1)
    own = naming.own_tag
    if addr >= 0 and own is not None and addr < own.shape[0] and own[addr]:
        return ["address tag"]
    if naming.clustering is None:
        return ["address tag"]
    kind = "multi-input" if "change:" not in naming.clustering else "multi-input + change"
    return [f"cluster tag ({kind})"]


def _edges(flow, chain, rec_key, is_in, is_out, names: _Names, naming: Naming) -> list[TraceEdge]:
    oi = np.argsort(flow.rec_tx[is_in], kind="stable")
    oo = np.argsort(flow.rec_tx[is_out], kind="stable")
    src, dst, txs, amt, cam, rule = tx_edges(
        flow.rec_tx[is_in][oi], rec_key[is_in][oi], flow.rec_amt[is_in][oi],
        flow.rec_tx[is_out][oo], rec_key[is_out][oo], flow.rec_amt[is_out][oo],
        (flow.rec_amt * flow.rec_conf)[is_out][oo], flow.rec_rule[is_out][oo],
    )  # fmt: skip
    if src.size == 0:
        return []
    order = np.lexsort((txs, dst, src))
    src, dst, txs, amt, cam, rule = (x[order] for x in (src, dst, txs, amt, cam, rule))
    brk = np.nonzero((np.diff(src) != 0) | (np.diff(dst) != 0))[0] + 1
    starts = np.concatenate([[0], brk])
    ends = np.concatenate([brk, [src.size]])
    tx_names = dict(zip(np.unique(txs).tolist(), naming.txid(np.unique(txs)), strict=True))
    edges = []
    for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
        a = float(amt[s:e].sum())
        if a < 0.5:
            continue
        t_ids = np.unique(txs[s:e])
        times = chain.tx_time[t_ids]
        edges.append(
            TraceEdge(
                source=names[int(src[s])][0], target=names[int(dst[s])][0],
                amount=int(round(a)), txids=[tx_names[t] for t in t_ids.tolist()],
                first_time=int(times.min()), last_time=int(times.max()),
                rules=sorted({Rule(r).label for r in np.unique(rule[s:e]).tolist()}),
                confidence=round(float(cam[s:e].sum()) / a, 4),
            )
        )  # fmt: skip
    return edges


def _paths(flow: TraceFlow, chain: ChainArrays, naming: Naming, forward: bool):
    """A function: terminal output ids -> list of txid paths (money order)."""
    is_in = flow.rec_side == SIDE_IN
    a_mask = ~is_in if forward else is_in  # output -> the tx on its far side
    b_mask = is_in if forward else ~is_in  # tx -> outputs on the other side
    ao = np.argsort(flow.rec_out[a_mask], kind="stable")
    bo = np.argsort(flow.rec_tx[b_mask], kind="stable")
    a = (flow.rec_out[a_mask][ao], flow.rec_tx[a_mask][ao], flow.rec_amt[a_mask][ao],
         flow.rec_rule[a_mask][ao])  # fmt: skip
    b = (flow.rec_tx[b_mask][bo], flow.rec_out[b_mask][bo], flow.rec_amt[b_mask][bo])
    max_len = flow.params.hops + 2

    def paths_for(outs: np.ndarray) -> list[tuple[list[str], set[str]]]:
        rows, rules = walk_paths(outs.astype(np.int64), *a, *b, max_len)
        all_tx = np.unique(rows[rows >= 0])
        names = dict(zip(all_tx.tolist(), naming.txid(all_tx), strict=True)) if all_tx.size else {}
        res = []
        for row, rule in zip(rows, rules, strict=True):
            steps = [names[t] for t in row[row >= 0].tolist()]
            used = {Rule(r).label for r in rule[row >= 0].tolist() if r != Rule.MODEL}
            res.append((steps[::-1] if forward else steps, used))
        return res

    return paths_for


def _terminals(flow, term_key, names: _Names, paths_for, max_paths: int) -> list[Terminal]:
    if flow.term_out.size == 0:
        return []
    order = np.lexsort((-flow.term_amt, term_key))
    keys = term_key[order]
    brk = np.nonzero(np.diff(keys) != 0)[0] + 1
    starts = np.concatenate([[0], brk])
    ends = np.concatenate([brk, [keys.size]])
    picks = np.concatenate(
        [order[s : min(e, s + max_paths)] for s, e in zip(starts, ends, strict=True)]
    )
    pick_paths = dict(zip(picks.tolist(), paths_for(flow.term_out[picks]), strict=True))
    result = []
    for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
        idx = order[s:e]
        amount = float(flow.term_amt[idx].sum())
        node, cid, lab, cat = names[int(keys[s])]
        paths: list[list[str]] = []
        rules: set[str] = set()
        for j in idx[:max_paths].tolist():
            steps, used = pick_paths[j]
            rules |= used
            if steps not in paths:
                paths.append(steps)
        reasons = sorted({EndReason(r).label for r in np.unique(flow.term_reason[idx]).tolist()})
        conf = (
            float((flow.term_amt[idx] * flow.term_conf[idx]).sum()) / amount if amount > 0 else 0.0
        )
        result.append(
            Terminal(
                address=node, cluster_id=cid, label=lab, category=cat,
                amount=int(round(amount)), reasons=reasons, confidence=round(conf, 4), paths=paths,
                assumptions=[f"demix:{r}" for r in sorted(rules)],
            )
        )  # fmt: skip
    result.sort(key=lambda t: -t.amount)
    return result


def _add_deposits(
    terminals: list[Terminal], flow: TraceFlow, term_key: np.ndarray, chain: ChainArrays,
    naming: Naming, names: _Names,
) -> None:
    """Fill each terminal's ``deposits``: the txs whose outputs hold its traced value, with the
    traced amount each carried, its block time (unix and UTC) and fiat value at that time."""
    if not terminals:
        return
    txs = chain.out_tx[flow.term_out].astype(np.int64)
    uniq = np.unique(txs)
    tx_names = dict(zip(uniq.tolist(), naming.txid(uniq), strict=True))
    per_node: dict[str, dict[int, float]] = {}
    for k, t, a in zip(term_key.tolist(), txs.tolist(), flow.term_amt.tolist(), strict=True):
        per_tx = per_node.setdefault(names[k][0], {})
        per_tx[t] = per_tx.get(t, 0.0) + a
    rates = naming.rates
    for term in terminals:
        per_tx = per_node.get(term.address, {})
        for t in sorted(per_tx, key=lambda t: (int(chain.tx_time[t]), t)):
            when, amount = int(chain.tx_time[t]), int(round(per_tx[t]))
            term.deposits.append({
                "txid": tx_names[t], "time": when, "time_utc": utc_iso(when), "amount": amount,
                "fiat_values": rates.fiat_values(amount, when) if rates else [],
                "rate_dates": rates.rate_dates(when) if rates else {},
            })  # fmt: skip


__all__ = ["Naming", "build_result"]
