"""The formats a trace exports to, and which one an ``--out`` file name asks for.

Graph tools get JSON, CSV, GraphML or GEXF (:mod:`chaintrail.analysis.trace_export`); CTI
platforms get a STIX 2.1 report or a MISP event (:mod:`chaintrail.intel.stix_trace`,
:mod:`chaintrail.intel.misp_trace`). Without ``--format`` the file name decides
(``.json .csv .graphml .gexf .stix.json .misp.json``); a name that says nothing is refused, and
so is a name that says another format than ``--format`` (never JSON in a ``.graphml`` file).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from chaintrail.analysis.trace_export import to_csv, to_gexf, to_graphml, to_json
from chaintrail.analysis.trace_models import TraceResult
from chaintrail.atomicfile import write_text_atomic
from chaintrail.errors import UsageError
from chaintrail.intel.misp_trace import trace_to_misp
from chaintrail.intel.stix_trace import trace_to_stix

RENDERERS: dict[str, Callable[[TraceResult], str]] = {
    "json": to_json, "csv": to_csv, "graphml": to_graphml, "gexf": to_gexf,
    "stix": trace_to_stix, "misp": trace_to_misp,
}  # fmt: skip
FORMATS = tuple(RENDERERS)
#: file name endings and the format each names (the longest ending wins)
SUFFIXES = {".stix.json": "stix", ".misp.json": "misp", ".json": "json", ".csv": "csv",
            ".graphml": "graphml", ".gexf": "gexf"}  # fmt: skip
_JSON_TEXT = frozenset({"json", "stix", "misp"})  # formats a plain .json name may hold


def format_of_name(out: Path) -> str | None:
    """The format an export file name asks for (``case.stix.json`` -> stix), or None."""
    name = out.name.lower()
    for suffix in sorted(SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix) and len(name) > len(suffix):
            return SUFFIXES[suffix]
    return None


def export_format(out: Path, fmt: str | None) -> str:
    """The format to write ``out`` in: ``fmt`` (refused when the name says another format),
    else the one the name says; UsageError when neither says one."""
    named = format_of_name(out)
    if fmt is None:
        if named is None:
            raise UsageError(
                f"{out}: cannot tell the export format from the file name; add --format "
                f"{'|'.join(FORMATS)} or end the name in {' '.join(SUFFIXES)}"
            )
        return named
    if fmt not in RENDERERS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if named is not None and named != fmt and not (named == "json" and fmt in _JSON_TEXT):
        raise UsageError(f"{out} names a {named} file but --format is {fmt}; rename it or drop --format")
    return fmt


def render_trace(result: TraceResult, fmt: str) -> str:
    """The trace as text in format ``fmt`` (one of :data:`FORMATS`)."""
    if fmt not in RENDERERS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    return RENDERERS[fmt](result)


def write_trace(result: TraceResult, fmt: str, out: Path, *, force: bool = False) -> None:
    """Write the trace to ``out`` atomically (refusals: :mod:`chaintrail.atomicfile`)."""
    write_text_atomic(out, render_trace(result, fmt), force=force)
