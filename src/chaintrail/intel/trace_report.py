"""What a shared trace says, whatever the format (STIX report, MISP event).

Its title and totals, the figures at each node (label, category, traced satoshis, terminal
amount, reasons and paths), the txids on the flow with the block time where it is exact, and
how an output without an address is named (``TXID:VOUT``).
"""

from __future__ import annotations

import re
from typing import Any

from chaintrail.analysis.trace_models import TraceResult

#: A node id naming an output without an address (``TXID:VOUT``).
OUTPUT_NODE = re.compile(r"^([0-9a-f]{64}):(\d+)$")
_TXID = re.compile(r"^([0-9a-fA-F]{64})(?::\d+)?$")
#: The relation of a traced transfer between two nodes.
TRANSFER = "transferred-to"


def exact_tx_times(result: TraceResult) -> dict[str, int | None]:
    """Every txid on the flow (the seed transaction included) with its block time where an
    edge carries it alone (else None)."""
    times: dict[str, int | None] = {}
    seed = _TXID.match(result.seeds)
    if seed:
        times[seed.group(1).lower()] = None
    for e in result.edges:
        for t in e.txids:
            times.setdefault(t, None)
        if len(e.txids) == 1 and e.first_time > 0:
            times[e.txids[0]] = e.first_time
    return times


def node_figures(result: TraceResult) -> dict[str, dict[str, Any]]:
    """What the trace found at each node (label, category, received, seed/terminal, and the
    terminal's amount, reasons, confidence and paths), keyed by node id, None values left out."""
    terminals = {t.address: t for t in result.terminals}
    out: dict[str, dict[str, Any]] = {}
    for n in result.nodes:
        fig: dict[str, Any] = {"node": n.id, "kind": n.kind, "cluster_id": n.cluster_id, "label": n.label,
                               "category": n.category, "received": n.received, "seed": n.seed,
                               "terminal": n.terminal}  # fmt: skip
        t = terminals.get(n.id)
        if t is not None:
            fig.update(terminal_amount=t.amount, terminal_reasons=t.reasons,
                       terminal_confidence=t.confidence, terminal_paths=t.paths)  # fmt: skip
        out[n.id] = {k: v for k, v in fig.items() if v is not None}
    return out


def trace_summary(result: TraceResult) -> dict[str, Any]:
    """The trace's parameters and totals (everything but nodes, edges and terminals)."""
    return {"direction": result.direction, "model": result.model, "hops": result.hops,
            "seeds": result.seeds, "traced": result.traced, "fee": result.fee, "cut": result.cut,
            "hops_done": result.hops_done, "txs_crossed": result.txs_crossed,
            "nodes": len(result.nodes), "edges": len(result.edges),
            "terminals": len(result.terminals)}  # fmt: skip


def trace_title(result: TraceResult) -> str:
    """One line naming the trace, e.g. ``chaintrail forward haircut trace from <seed>``."""
    return f"chaintrail {result.direction} {result.model} trace from {result.seeds}"
