"""The tag model shared by every importer, the store and the exporters.

A tag says something about one *subject*: an address, a transaction or a cluster. Tags are kept
column-wise (``dict[str, list]``) between parsing and storage so that a 250k-tag import goes to
DuckDB through Arrow in one batch. JSON output uses :data:`PUBLIC_FIELDS`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from chaintrail.errors import ValidationError
from chaintrail.intel.taxonomy import TLP_LEVELS

SUBJECT_TYPES = ("address", "tx", "cluster")
PROVENANCES = ("pack", "list", "analyst", "stix", "misp", "csv")

#: Default TLP marking per provenance when the input says nothing: public packs and published
#: sanctions lists are CLEAR; an analyst's own or exchanged intelligence is AMBER.
DEFAULT_TLP = {
    "pack": "CLEAR",
    "list": "CLEAR",
    "analyst": "AMBER",
    "stix": "AMBER",
    "misp": "AMBER",
    "csv": "GREEN",
}

#: Columns of the ``tags`` table, in order, with their Arrow types.
TAG_SCHEMA = pa.schema(
    [
        ("pack_id", pa.string()),
        ("subject_type", pa.string()),
        ("subject", pa.string()),
        ("subject_key", pa.string()),
        ("currency", pa.string()),
        ("network", pa.string()),
        ("label", pa.string()),
        ("category", pa.string()),
        ("abuse", pa.string()),
        ("concepts", pa.list_(pa.string())),
        ("actor", pa.string()),
        ("confidence", pa.string()),
        ("confidence_level", pa.int16()),
        ("source", pa.string()),
        ("creator", pa.string()),
        ("lastmod", pa.date32()),
        ("tlp", pa.string()),
        ("provenance", pa.string()),
        ("is_cluster_definer", pa.bool_()),
        ("tag_type", pa.string()),
        ("context", pa.string()),
        ("line", pa.int32()),
    ]
)
TAG_COLUMNS = tuple(TAG_SCHEMA.names)

#: Fields shown by ``tags show --json`` and the attribution API, in order.
PUBLIC_FIELDS = (
    "subject_type",
    "subject",
    "currency",
    "label",
    "category",
    "abuse",
    "concepts",
    "actor",
    "confidence",
    "confidence_level",
    "source",
    "creator",
    "lastmod",
    "tlp",
    "provenance",
    "pack_id",
    "is_cluster_definer",
    "tag_type",
    "context",
)


def check_text(value: str, field: str, *, one_line: bool = False) -> str:
    """``value`` if it holds no NUL byte (nor, with ``one_line``, any control character);
    ValidationError naming ``field`` otherwise."""
    for i, ch in enumerate(value):
        if ch == "\x00" or (one_line and (ord(ch) < 0x20 or ord(ch) == 0x7F)):
            what = "a NUL byte" if ch == "\x00" else f"control character {ch!r}"
            raise ValidationError(f"contains {what} at character {i}: {value[:60]!r}", field=field)
    return value


#: text columns of a tag that must be one clean line (labels are shown in tables and lists)
ONE_LINE_COLUMNS = ("label", "subject", "category", "abuse", "actor", "confidence", "currency")


def empty_columns() -> dict[str, list[Any]]:
    """A fresh column dict with one empty list per tag column."""
    return {name: [] for name in TAG_COLUMNS}


def columns_to_arrow(cols: dict[str, list[Any]]) -> pa.Table:
    """Tag columns -> an Arrow table with :data:`TAG_SCHEMA` (for one bulk insert).

    ValidationError (naming the column and the tag's line, if known) for a NUL byte in any
    text, or any control character in a :data:`ONE_LINE_COLUMNS` value.
    """
    table = pa.table({n: pa.array(cols[n], type=TAG_SCHEMA.field(n).type) for n in TAG_COLUMNS})
    for name in TAG_COLUMNS:
        if TAG_SCHEMA.field(name).type != pa.string():
            continue
        bad = "[\\x00-\\x1f\\x7f]" if name in ONE_LINE_COLUMNS else "\\x00"
        hits = pc.match_substring_regex(table.column(name), bad)
        if pc.any(hits).as_py():
            row = int(pc.index(hits, True).as_py())
            line = cols["line"][row] if cols.get("line") else None
            where = f" (tag on line {line})" if line is not None else ""
            check_text(cols[name][row], name + where, one_line=name in ONE_LINE_COLUMNS)
    return table


def normalise_tlp(value: str | None, *, source: str | None = None) -> str | None:
    """``amber``/``TLP:AMBER``/``tlp:amber+strict`` -> the TLP 2.0 level name; None stays None.

    TLP 1.0 ``WHITE`` maps to ``CLEAR``. Anything else is a ValidationError.
    """
    if value is None or value == "":
        return None
    v = str(value).strip().upper()
    if v.startswith("TLP:"):
        v = v[4:]
    if v == "WHITE":
        v = "CLEAR"
    if v not in TLP_LEVELS:
        raise ValidationError(
            f"unknown TLP marking {value!r}; expected one of {', '.join(TLP_LEVELS)}",
            source=source,
            field="tlp",
        )
    return v


def to_date(value: Any) -> dt.date | None:
    """A YAML/CSV/JSON lastmod value (date, datetime, ISO text or unix seconds) -> date."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(int(value), tz=dt.UTC).date()
    return dt.date.fromisoformat(str(value).strip()[:10])


def tag_to_public(row: dict[str, Any]) -> dict[str, Any]:
    """A stored tag row -> the JSON dict users and the API see (dates as ISO text)."""
    out = {k: row.get(k) for k in PUBLIC_FIELDS}
    if isinstance(out["lastmod"], dt.date):
        out["lastmod"] = out["lastmod"].isoformat()
    out["concepts"] = list(out["concepts"] or [])
    return out
