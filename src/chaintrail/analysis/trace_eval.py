"""Score traces against the simulator's ground truth (``truth/scenarios.json``).

For each scenario: trace forward from its seed addresses (haircut, stop at services, demixing
on unless switched off) and compare the service terminals with the truth's exchange deposits.
Used by ``bench/eval_tracing.py`` (ACCURACY.md) and the tiny-preset accuracy test.
"""

from __future__ import annotations

import numpy as np

from chaintrail.analysis.trace_models import EndReason, TraceParams
from chaintrail.analysis.trace_result import build_result
from chaintrail.analysis.trace_store import TraceContext


def score_scenarios(
    ctx: TraceContext,
    scenarios: list[dict],
    *,
    hops: int = 30,
    demix: bool = True,
    min_confidence: float = 0.0,
) -> list[dict]:
    """Per scenario: address and exchange recall, amount errors (|traced - truth| / truth), and
    the share of the cashed-out value found at the right exchanges (``found_share``: per
    exchange, traced up to its true amount) and at wrong ones (``wrong_share``: traced beyond
    the true amount of each exchange, exchanges that got none included)."""
    params = TraceParams(hops=hops, stop_at_services=True, demix=demix, max_frontier=50_000,
                         min_confidence=min_confidence)  # fmt: skip
    rows = []
    for sc in scenarios:
        ids = ctx.store.address_ids(sc["seed_addresses"])
        seeds = ctx.tracer.seeds_for_addresses(ids[ids >= 0], params)
        seeds.description = sc["name"]
        flow = ctx.tracer.run(seeds, params)
        res = build_result(flow, ctx.chain, ctx.naming)
        at = {t.address: t for t in res.terminals if EndReason.SERVICE.label in t.reasons}
        per_address = []
        for tt in sc["terminals"]:
            got = at.get(tt["address"])
            amount = got.amount if got else 0
            per_address.append(
                {"address": tt["address"], "exchange": tt["entity_name"], "truth": tt["amount"],
                 "traced": amount, "error": abs(amount - tt["amount"]) / max(tt["amount"], 1)}
            )  # fmt: skip
        by_ex_truth: dict[str, int] = {}
        for tt in sc["terminals"]:
            by_ex_truth[tt["entity_name"]] = by_ex_truth.get(tt["entity_name"], 0) + tt["amount"]
        by_ex_got: dict[str, int] = {}
        for t in at.values():
            if t.label:
                by_ex_got[t.label] = by_ex_got.get(t.label, 0) + t.amount
        ex_err = {ex: abs(by_ex_got.get(ex, 0) - v) / max(v, 1) for ex, v in by_ex_truth.items()}
        exchanges = {t.label for t in at.values() if t.label and t.category == "exchange"}
        got_ex = {ex: sum(t.amount for t in at.values() if t.label == ex and t.category == "exchange")
                  for ex in exchanges}  # fmt: skip
        right = sum(min(got_ex.get(ex, 0), v) for ex, v in by_ex_truth.items())
        wrong = sum(max(v - by_ex_truth.get(ex, 0), 0) for ex, v in got_ex.items())
        total = max(sum(by_ex_truth.values()), 1)
        found = [r for r in per_address if r["traced"] > 0]
        rows.append(
            {
                "scenario": sc["name"], "kind": sc["kind"], "truth_total": sc["terminal_amount"],
                "address_recall": len(found) / max(len(per_address), 1),
                "address_within_5pct": sum(r["error"] <= 0.05 for r in per_address) / max(len(per_address), 1),
                "exchange_recall": sum(by_ex_got.get(ex, 0) > 0 for ex in by_ex_truth) / max(len(by_ex_truth), 1),
                "exchange_max_error": max(ex_err.values(), default=0.0),
                "median_address_error": float(np.median([r["error"] for r in per_address])) if per_address else 0.0,
                "traced_to_services": int(sum(t.amount for t in at.values())),
                "truth_cashed_out": total, "found_right": right, "found_wrong": wrong,
                "found_share": right / total, "wrong_share": wrong / total,
                "per_address": per_address,
            }
        )  # fmt: skip
    return rows
