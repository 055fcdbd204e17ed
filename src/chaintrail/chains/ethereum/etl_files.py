"""ethereum-etl export files (CSV or JSON lines) -> :class:`EtlTable` columns of Python values.

CSV is read by pyarrow with every column as text (so 78-digit amounts stay exact and empty
cells are null); JSON lines by msgspec in one call per file (big integers stay ints). The
table's kind comes from its columns (:mod:`.etl_fields`); unknown columns fail here.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.csv as pacsv

from chaintrail.chains.ethereum import etl_fields
from chaintrail.chains.ethereum.files import Paths, as_list, input_files
from chaintrail.errors import DecodeError, InputError, ValidationError

EXTENSIONS = (".csv", ".json", ".jsonl")


@dataclass
class EtlTable:
    """One export file: its kind, its columns (name -> values, None for empty), row count."""

    kind: str
    source: str
    columns: dict[str, list[Any]]
    n: int
    header_lines: int  # 1 for CSV (the header), 0 for JSON lines

    def col(self, name: str) -> list[Any]:
        """Values of column ``name`` (all None if the file lacks it)."""
        return self.columns.get(name) or [None] * self.n

    def where(self, row: int, column: str) -> str:
        """``line N column C`` for an error message."""
        return f"line {row + 1 + self.header_lines} {column}"

    def fail(self, row: int, column: str, message: str) -> ValidationError:
        """A ValidationError naming this file, the line and the column."""
        return ValidationError(message, source=self.source, field=self.where(row, column))


def _read_csv(path: Path) -> tuple[dict[str, list[Any]], int] | None:
    with open(path, newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh), None)
    if not header:
        return None
    try:
        table = pacsv.read_csv(
            path,
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in header}, strings_can_be_null=True
            ),
            parse_options=pacsv.ParseOptions(newlines_in_values=False),
        )
    except (pa.ArrowInvalid, OSError) as exc:
        raise DecodeError(f"not a readable CSV export: {exc}", source=str(path)) from exc
    return {name: table.column(name).to_pylist() for name in table.column_names}, table.num_rows


def _read_jsonl(path: Path) -> tuple[dict[str, list[Any]], int] | None:
    lines = [ln for ln in path.read_bytes().splitlines() if ln.strip()]
    if not lines:
        return None
    try:
        msgspec.json.decode(lines[0])
    except msgspec.DecodeError:
        return None  # not JSON lines (a pretty-printed JSON document, say)
    try:
        rows = msgspec.json.decode(b"[" + b",".join(lines) + b"]")
    except msgspec.DecodeError:
        for i, ln in enumerate(lines):
            try:
                msgspec.json.decode(ln)
            except msgspec.DecodeError as exc:
                raise DecodeError(f"line {i + 1} is not JSON: {exc}", source=str(path)) from None
        raise DecodeError("not JSON lines", source=str(path)) from None
    if not all(isinstance(r, dict) for r in rows):
        raise DecodeError("expected one JSON object per line", source=str(path))
    names: dict[str, None] = {}
    for r in rows:
        names.update(dict.fromkeys(r))
    return {k: [r.get(k) for r in rows] for k in names}, len(rows)


def read_table(path: Path) -> EtlTable | None:
    """One export file as a table; None if it is empty or not an ethereum-etl export."""
    reader = _read_csv if path.suffix == ".csv" else _read_jsonl
    try:
        got = reader(path)
    except UnicodeDecodeError as exc:
        raise DecodeError(f"not UTF-8 text: {exc}", source=str(path)) from exc
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", source=str(path)) from exc
    if got is None:
        return None
    columns, n = got
    kind = etl_fields.kind_of(set(columns))
    if kind is None:
        return None
    unknown = etl_fields.unknown_columns(kind, set(columns))
    if unknown:
        raise ValidationError(
            f"unknown {kind} column(s) {unknown}: add them to PARSED or IGNORED in "
            "chaintrail/chains/ethereum/etl_fields.py with a reason",
            source=str(path),
        )
    return EtlTable(kind, str(path), columns, n, 1 if path.suffix == ".csv" else 0)


def read_tables(paths: Paths,
                on_skip: Callable[[Path, str], None] | None = None) -> dict[str, list[EtlTable]]:  # fmt: skip
    """Every export table under ``paths``, grouped by kind. A named file that is not an export
    is an error; in a directory it is reported through ``on_skip`` and left out."""
    named = set(as_list(paths))
    tables: dict[str, list[EtlTable]] = {}
    for f in input_files(paths, EXTENSIONS):
        t = read_table(f)
        if t is None:
            if f in named and f.stat().st_size:
                raise DecodeError("not an ethereum-etl export (blocks, transactions, receipts, logs, "
                                  "token_transfers, traces, contracts or tokens)", source=str(f))  # fmt: skip
            if on_skip is not None:
                on_skip(f, "empty, or not an ethereum-etl export")
            continue
        tables.setdefault(t.kind, []).append(t)
    return tables
