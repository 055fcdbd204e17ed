"""A trace as a STIX 2.1 ``report``: its wallets, transactions and transfers, ready for a CTI platform.

* every address node -> a ``cryptocurrency-wallet`` (the same id as in intel exports), with a
  ``chaintrail-trace`` property extension holding what the trace found there (traced satoshis
  received, seed/terminal, label, category, cluster, and for terminals the amount that ended
  there, why, and the explaining paths); a labelled wallet also gets a ``note`` with its label;
* a cluster node (``--cluster-nodes``) -> a ``grouping`` named ``cluster N``;
* an output without an address -> its transaction (the figures go on the transaction's extension);
* every txid on the flow -> a ``cryptocurrency-transaction`` (with its block time where one edge
  carries it alone, so the time is exact);
* every edge -> a ``relationship`` ``transferred-to`` between the two nodes with the traced
  satoshis, txids, rules and confidence;
* the trace itself -> a ``report`` referring to all of the above, its parameters and totals in
  the report's extension.

Amounts are integer satoshis, as in every chaintrail export.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import stix2

from chaintrail.amounts import btc
from chaintrail.analysis.trace_models import TraceNode, TraceResult
from chaintrail.intel.stix_model import (
    CHAINTRAIL_IDENTITY,
    EPOCH,
    NS,
    TRACE_EXT,
    CryptocurrencyTransaction,
    CryptocurrencyWallet,
    extension_definitions,
    stix_time,
)
from chaintrail.intel.trace_report import (
    OUTPUT_NODE,
    TRANSFER,
    exact_tx_times,
    node_figures,
    trace_summary,
    trace_title,
)


def _ext(fields: dict[str, Any]) -> dict[str, Any]:
    """A property extension of ``fields`` (STIX allows neither null values nor empty lists)."""
    return {"extension_type": "property-extension",
            **{k: v for k, v in fields.items() if v is not None and v != []}}  # fmt: skip


def _unix(t: int | None) -> str | None:
    if t is None or t <= 0:
        return None
    return stix_time(dt.datetime.fromtimestamp(int(t), dt.UTC).isoformat())


def _node_object(n: TraceNode, fig: dict[str, Any]) -> Any:
    ext = {TRACE_EXT: _ext(fig)}
    if n.kind == "cluster":
        return stix2.Grouping(
            id=f"grouping--{uuid.uuid5(NS, n.id)}", name=f"cluster {n.cluster_id}",
            context="suspicious-activity", object_refs=[CHAINTRAIL_IDENTITY],
            created=EPOCH, modified=EPOCH, extensions=ext,
        )  # fmt: skip
    return CryptocurrencyWallet(value=n.id, extensions=ext, allow_custom=True)


def _note(n: TraceNode, about: str, created: str) -> Any:
    what = f"{n.label} ({n.category})" if n.category else str(n.label)
    return stix2.Note(
        id=f"note--{uuid.uuid5(NS, 'trace-label|' + n.id + '|' + str(n.label))}",
        created=created, modified=created, abstract=n.label,
        content=f"{n.id}: {what}, as chaintrail's attribution names it", object_refs=[about],
    )  # fmt: skip


def trace_to_stix(result: TraceResult, *, now: dt.datetime | None = None) -> str:
    """Serialise a trace as a STIX 2.1 bundle holding one ``report`` (JSON text)."""
    created = stix_time((now or dt.datetime.now(dt.UTC)).isoformat()) or EPOCH
    objects: list[Any] = extension_definitions()
    figures = node_figures(result)
    outputs: dict[str, dict[str, Any]] = {}  # txid -> {vout: figures} of outputs without address
    for n in result.nodes:
        m = OUTPUT_NODE.match(n.id)
        if m:
            outputs.setdefault(m.group(1), {})[m.group(2)] = figures[n.id]
    times = exact_tx_times(result)
    for txid in outputs:
        times.setdefault(txid, None)
    stix_id: dict[str, str] = {}
    in_report: list[str] = []
    for txid, t in sorted(times.items()):
        extra: dict[str, Any] = {"symbol": "BTC"}
        if _unix(t):
            extra["execution_time"] = _unix(t)
        if txid in outputs:
            extra["extensions"] = {TRACE_EXT: _ext({"outputs": outputs[txid]})}
        obj = CryptocurrencyTransaction(value=txid, allow_custom=True, **extra)
        objects.append(obj)
        stix_id[txid] = obj.id
        in_report.append(obj.id)
    for n in result.nodes:
        m = OUTPUT_NODE.match(n.id)
        if m:
            stix_id[n.id] = stix_id[m.group(1)]
            continue
        obj = _node_object(n, figures[n.id])
        objects.append(obj)
        stix_id[n.id] = obj.id
        in_report.append(obj.id)
        if n.label:
            note = _note(n, obj.id, created)
            objects.append(note)
            in_report.append(note.id)
    for e in result.edges:
        ext = _ext({"amount": e.amount, "txids": e.txids, "first_time": e.first_time,
                    "last_time": e.last_time, "rules": e.rules, "confidence": e.confidence})  # fmt: skip
        start, stop = _unix(e.first_time), _unix(e.last_time)
        rel = stix2.Relationship(
            relationship_type=TRANSFER, source_ref=stix_id[e.source], target_ref=stix_id[e.target],
            created=created, modified=created, start_time=start,
            stop_time=stop if (stop and start and stop > start) else None,
            confidence=max(0, min(100, round(100 * e.confidence))),
            description=f"{btc(e.amount)} traced in {len(e.txids)} transaction(s)",
            extensions={TRACE_EXT: ext}, allow_custom=True,
        )  # fmt: skip
        objects.append(rel)
        in_report.append(rel.id)
    summary = trace_summary(result)
    objects.append(stix2.Report(
        name=trace_title(result), published=created, created=created, modified=created,
        created_by_ref=CHAINTRAIL_IDENTITY, report_types=["threat-report"],
        description=(f"{btc(result.traced)} traced {result.direction} over {result.hops_done} hops "
                     f"({result.model} model): {len(result.terminals)} terminals, "
                     f"{result.txs_crossed} transactions crossed, fees {btc(result.fee)}"),
        object_refs=in_report or [CHAINTRAIL_IDENTITY],
        extensions={TRACE_EXT: _ext(summary)},
    ))  # fmt: skip
    # stix2's pretty printer is quadratic in the bundle size; indent the compact text instead
    bundle = stix2.Bundle(objects=objects, allow_custom=True).serialize()
    return json.dumps(json.loads(bundle), indent=2) + "\n"
