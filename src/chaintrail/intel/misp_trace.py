"""A trace as one MISP event (offline, through PyMISP; no MISP server).

* every address node -> a ``coin-address`` object (``address``, ``symbol`` BTC, ``text`` = the
  label where attribution names it); a cluster node -> a ``coin-address`` with ``text``
  ``cluster:N``; an output without an address -> its transaction's object;
* every txid on the flow -> a ``btc-transaction`` (``transaction-number``, ``time`` where exact,
  ``btc-address`` of each address it moved traced value between);
* every edge -> an object reference ``transferred-to`` from the source's object to the target's;
* what the trace found at a node or on an edge travels as JSON in the object/reference
  ``comment``; the trace's parameters and totals in a ``text`` attribute of the event.
"""

from __future__ import annotations

import datetime as dt
import json

from pymisp import MISPEvent, MISPObject

from chaintrail.analysis.trace_models import TraceResult
from chaintrail.intel.trace_report import (
    OUTPUT_NODE,
    TRANSFER,
    exact_tx_times,
    node_figures,
    trace_summary,
    trace_title,
)


def trace_to_misp(result: TraceResult) -> str:
    """Serialise a trace as one MISP event (JSON text, ``{"Event": {...}}``)."""
    ev = MISPEvent()
    ev.info = trace_title(result)
    ev.distribution = 0
    ev.analysis = 2
    ev.threat_level_id = 2
    ev.date = dt.date.today()
    ev.add_attribute("text", json.dumps(trace_summary(result), sort_keys=True),
                     comment="chaintrail trace: parameters and totals", to_ids=False)  # fmt: skip
    figures = node_figures(result)
    touching: dict[str, set[str]] = {}  # txid -> addresses it moved traced value between
    for e in result.edges:
        for t in e.txids:
            touching.setdefault(t, set()).update(
                x for x in (e.source, e.target) if not OUTPUT_NODE.match(x) and not x.startswith("cluster:")
            )
    objects: dict[str, MISPObject] = {}
    for txid, when in sorted(exact_tx_times(result).items()):
        o = MISPObject("btc-transaction", strict=False)
        o.add_attribute("transaction-number", value=txid)
        if when:
            o.add_attribute("time", value=dt.datetime.fromtimestamp(when, dt.UTC))
        for a in sorted(touching.get(txid, ())):
            o.add_attribute("btc-address", value=a)
        ev.add_object(o)
        objects[txid] = o
    for n in result.nodes:
        m = OUTPUT_NODE.match(n.id)
        if m:
            tx = objects.get(m.group(1))
            if tx is None:
                tx = MISPObject("btc-transaction", strict=False)
                tx.add_attribute("transaction-number", value=m.group(1))
                ev.add_object(tx)
                objects[m.group(1)] = tx
            objects[n.id] = tx
            continue
        o = MISPObject("coin-address", strict=False)
        if n.kind == "cluster":
            o.add_attribute("text", value=n.id)
        else:
            o.add_attribute("address", value=n.id)
            o.add_attribute("symbol", value="BTC")
        if n.label:
            o.add_attribute("text", value=n.label)
        o.comment = json.dumps({"trace_node": figures[n.id]}, sort_keys=True)
        ev.add_object(o)
        objects[n.id] = o
    for e in result.edges:
        edge = {"amount": e.amount, "txids": e.txids, "first_time": e.first_time,
                "last_time": e.last_time, "rules": e.rules, "confidence": e.confidence}  # fmt: skip
        objects[e.source].add_reference(objects[e.target].uuid, TRANSFER,
                                        comment=json.dumps({"trace_edge": edge}, sort_keys=True))  # fmt: skip
    return '{"Event": ' + ev.to_json(indent=2) + "}\n"
