"""Haircut taint followed forward block by block, for ``taint`` and ``service`` rules.

An input spending a watched source is fully tainted at hop 0; a transaction's outputs each
carry the share of its input value that was tainted (haircut), one hop further than its most
recent tainted input. Outputs are followed while that share is at least the rule's
``min_percent`` and the hop count at most ``max_hops`` (a haircut share never rises by mixing
with cleaner coins, so dropping weaker ones loses no alert above the threshold by more than
their own contribution). A ``service`` rule stops following at the service: a deposit is
where it alerts, not a new source. The followed outputs are rows of ``monitor_taint``, written
in the block's transaction, so a restart or a reorg resumes from exactly what was committed.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import numpy as np

from chaintrail.store.blockview import BlockView


@dataclass
class TaintedOutput:
    """One followed output."""

    fraction: float
    hops: int


@dataclass
class TaintHop:
    """A transaction that moved tainted funds for one rule."""

    rule_id: int
    tx: int  # local tx index
    fraction: float
    hops: int
    tainted_in: int  # satoshis of taint spent
    outputs: list[int]  # local output indexes that carry it on (or reached the service)


@dataclass
class TaintBook:
    """Followed outputs per rule; ``added``/``spent`` collect the block's changes to commit."""

    by_rule: dict[int, dict[int, TaintedOutput]] = field(default_factory=dict)
    added: list[tuple[int, int, float, int, int]] = field(default_factory=list)  # rule,out,f,hops,h
    spent: list[tuple[int, int, int]] = field(default_factory=list)  # rule, out, height

    def all_outputs(self) -> np.ndarray:
        """Every followed output id (for the block's one ``isin``)."""
        ids = [o for book in self.by_rule.values() for o in book]
        return np.unique(np.array(ids, np.int64)) if ids else np.zeros(0, np.int64)

    def take_changes(self) -> tuple[list[tuple[int, int, float, int, int]], list[tuple[int, int, int]]]:  # fmt: skip
        """The block's additions and spends (cleared)."""
        added, spent = self.added, self.spent
        self.added, self.spent = [], []
        return added, spent


def propagate(
    view: BlockView,
    book: TaintBook,
    rule_id: int,
    source_inputs: set[int],
    max_hops: int,
    min_fraction: float,
    stop_outputs: np.ndarray | None,
) -> list[TaintHop]:
    """Follow one rule's taint through the block's transactions in order.

    ``source_inputs`` are local input indexes spending a watched source; ``stop_outputs`` marks
    local outputs at the rule's service (reported, not followed further), None for taint rules.
    """
    a = view.arrays
    followed = book.by_rule.setdefault(rule_id, {})
    prev = a.in_prev_out
    from_book = np.flatnonzero(np.isin(prev, np.fromiter(followed, np.int64, len(followed)))) if followed else np.zeros(0, np.int64)  # fmt: skip
    todo = sorted({int(a.in_tx[i]) for i in [*source_inputs, *from_book.tolist()]})
    if not todo:
        return []
    in_block = prev >= view.out_base  # spends of outputs made earlier in this block
    spenders: dict[int, list[int]] = {}
    for i in np.flatnonzero(in_block).tolist():
        spenders.setdefault(int(prev[i]), []).append(i)
    heapq.heapify(todo)
    seen: set[int] = set()
    hops_out: list[TaintHop] = []
    while todo:
        t = heapq.heappop(todo)
        if t in seen:
            continue
        seen.add(t)
        lo, n = int(a.tx_in_start[t]), int(a.tx_n_in[t])
        total = tainted = 0.0
        nearest = None
        for i in range(lo, lo + n):
            v = int(a.in_value[i])
            if v < 0:
                continue
            total += v
            if i in source_inputs:
                f, h = 1.0, 0
            else:
                got = followed.pop(int(prev[i]), None)
                if got is None:
                    continue
                f, h = got.fraction, got.hops
                book.spent.append((rule_id, int(prev[i]), int(view.tx_height[t])))
            tainted += f * v
            nearest = h if nearest is None else min(nearest, h)
        if nearest is None or total <= 0 or tainted <= 0:
            continue
        frac, hops = tainted / total, nearest + 1
        if hops > max_hops or frac < min_fraction:
            continue
        o0, no = int(a.tx_out_start[t]), int(a.tx_n_out[t])
        carried: list[int] = []
        for k in range(o0, o0 + no):
            if a.out_value[k] <= 0:
                continue
            if stop_outputs is not None and stop_outputs[k]:
                carried.append(k)
                continue
            out_id = view.out_base + k
            followed[out_id] = TaintedOutput(frac, hops)
            book.added.append((rule_id, out_id, frac, hops, int(view.tx_height[t])))
            if stop_outputs is None:
                carried.append(k)
            for j in spenders.get(out_id, []):
                heapq.heappush(todo, int(a.in_tx[j]))
        if carried:
            hops_out.append(TaintHop(rule_id, t, frac, hops, int(round(tainted)), carried))
    return hops_out
