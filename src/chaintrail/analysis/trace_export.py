"""Render a :class:`TraceResult` as JSON, CSV, GraphML or GEXF (Gephi, Maltego, yEd import these).

Amounts are integer satoshis in every format. Which format a file gets and how it is written
(atomically, never over what should not be replaced) is :mod:`chaintrail.intel.trace_formats`.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from dataclasses import asdict

from chaintrail.analysis.trace_models import TraceResult
from chaintrail.times import utc_iso

_NODE_ATTRS = (  # name, graphml type, gexf type
    ("kind", "string", "string"),
    ("cluster_id", "long", "long"),
    ("label", "string", "string"),
    ("category", "string", "string"),
    ("received", "long", "long"),
    ("seed", "boolean", "boolean"),
    ("terminal", "boolean", "boolean"),
)
_EDGE_ATTRS = (
    ("amount", "long", "long"),
    ("txids", "string", "string"),
    ("first_time", "long", "long"),
    ("last_time", "long", "long"),
    ("rules", "string", "string"),
    ("confidence", "double", "double"),
)


def result_dict(result: TraceResult) -> dict:
    """The result as plain JSON-ready data (what ``--json`` prints); every unix time has its
    ISO 8601 UTC form beside it (``*_utc``)."""
    doc = asdict(result)
    for e in doc["edges"]:
        e["first_time_utc"], e["last_time_utc"] = utc_iso(e["first_time"]), utc_iso(e["last_time"])
    return doc


def to_json(result: TraceResult) -> str:
    """JSON text: ``nodes, edges, terminals`` plus trace metadata."""
    return json.dumps(result_dict(result), indent=2) + "\n"


def to_csv(result: TraceResult) -> str:
    """One row per edge (``record=edge``) and per terminal (``record=terminal``)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(
        ["record", "source", "target", "amount", "txids", "first_time", "last_time",
         "first_time_utc", "last_time_utc", "rules", "confidence", "label", "category", "reasons",
         "paths"]
    )  # fmt: skip
    for e in result.edges:
        w.writerow(
            ["edge", e.source, e.target, e.amount, " ".join(e.txids), e.first_time, e.last_time,
             utc_iso(e.first_time), utc_iso(e.last_time), " ".join(e.rules), e.confidence, "", "",
             "", ""]
        )  # fmt: skip
    for t in result.terminals:
        first = t.deposits[0]["time"] if t.deposits else None
        last = t.deposits[-1]["time"] if t.deposits else None
        w.writerow(
            ["terminal", "", t.address, t.amount, " ".join(d["txid"] for d in t.deposits),
             first or "", last or "", utc_iso(first) or "", utc_iso(last) or "", "", t.confidence,
             t.label or "", t.category or "", " ".join(t.reasons),
             " | ".join(" ".join(p) for p in t.paths)]
        )  # fmt: skip
    return buf.getvalue()


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value)


def to_graphml(result: TraceResult) -> str:
    """GraphML (directed), node and edge attributes declared as typed keys."""
    root = ET.Element("graphml", xmlns="http://graphml.graphdrawing.org/xmlns")
    for name, gtype, _ in _NODE_ATTRS:
        ET.SubElement(
            root, "key", {"id": f"n_{name}", "for": "node", "attr.name": name, "attr.type": gtype}
        )
    for name, gtype, _ in _EDGE_ATTRS:
        ET.SubElement(
            root, "key", {"id": f"e_{name}", "for": "edge", "attr.name": name, "attr.type": gtype}
        )
    graph = ET.SubElement(root, "graph", id="trace", edgedefault="directed")
    for node in result.nodes:
        el = ET.SubElement(graph, "node", id=node.id)
        for name, _, _ in _NODE_ATTRS:
            value = getattr(node, name)
            if value is not None:
                ET.SubElement(el, "data", key=f"n_{name}").text = _text(value)
    for i, edge in enumerate(result.edges):
        el = ET.SubElement(graph, "edge", id=f"e{i}", source=edge.source, target=edge.target)
        for name, _, _ in _EDGE_ATTRS:
            ET.SubElement(el, "data", key=f"e_{name}").text = _text(getattr(edge, name))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def to_gexf(result: TraceResult) -> str:
    """GEXF 1.3 (Gephi): edge weight = traced satoshis, attributes declared per class."""
    root = ET.Element("gexf", xmlns="http://gexf.net/1.3", version="1.3")
    graph = ET.SubElement(root, "graph", defaultedgetype="directed", mode="static")
    for cls, attrs in (("node", _NODE_ATTRS), ("edge", _EDGE_ATTRS)):
        decl = ET.SubElement(graph, "attributes", {"class": cls})
        for i, (name, _, gtype) in enumerate(attrs):
            ET.SubElement(decl, "attribute", id=str(i), title=name, type=gtype)
    nodes = ET.SubElement(graph, "nodes")
    for node in result.nodes:
        el = ET.SubElement(nodes, "node", id=node.id, label=node.label or node.id)
        vals = ET.SubElement(el, "attvalues")
        for i, (name, _, _) in enumerate(_NODE_ATTRS):
            value = getattr(node, name)
            if value is not None:
                ET.SubElement(vals, "attvalue", {"for": str(i), "value": _text(value)})
    edges = ET.SubElement(graph, "edges")
    for n, edge in enumerate(result.edges):
        el = ET.SubElement(
            edges, "edge", id=f"e{n}", source=edge.source, target=edge.target,
            weight=str(edge.amount),
        )  # fmt: skip
        vals = ET.SubElement(el, "attvalues")
        for i, (name, _, _) in enumerate(_EDGE_ATTRS):
            ET.SubElement(vals, "attvalue", {"for": str(i), "value": _text(getattr(edge, name))})
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"

