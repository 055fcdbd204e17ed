"""Paths of the real Ethereum fixtures (tests/data/eth) and helpers to compare ethereum-etl rows."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

ETH = Path(__file__).resolve().parents[2] / "data" / "eth"
ETL = ETH / "etl"
BLOCKS_JOB = ETL / "test_export_blocks_job"
RECEIPTS_483920 = ETL / "test_export_receipts_job" / "receipts_with_logs"
TRANSFERS_483920 = ETL / "test_export_token_transfers_job" / "block_with_transfers"
STREAM = ETL / "test_stream" / "blocks_17173049_17173050"
WITHDRAWALS = BLOCKS_JOB / "blocks_with_transactions_and_withdrawals"
RPC_17173049 = ETH / "rpc_from_etl"
PARITY = ETL / "test_export_traces_job"
GETH = ETL / "test_extract_geth_traces_job"
TRACE_CASES = ("block_with_create", "block_with_error", "block_with_subtraces", "block_with_suicide",
               "block_without_transactions")  # fmt: skip


def cell(v: Any) -> str:
    """A rendered value as ethereum-etl writes it in CSV."""
    if v is None:
        return ""
    if isinstance(v, list):
        if v and isinstance(v[0], dict):  # withdrawals: objects joined by commas, no brackets
            return ",".join(json.dumps(x, separators=(",", ":")) for x in v)
        return ",".join(map(str, v))
    return str(v)


def csv_rows(path: Path) -> list[dict[str, str]]:
    """Rows of an expected CSV file."""
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def json_rows(path: Path) -> list[dict[str, Any]]:
    """Rows of an expected JSON-lines file."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def as_csv(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Rendered rows as CSV text cells."""
    return [{k: cell(v) for k, v in r.items()} for r in rows]


def assert_rows_match(got: list[dict[str, Any]], expected: list[dict[str, Any]], key: str,
                      skip: tuple[str, ...] = ()) -> None:  # fmt: skip
    """Every field of every expected row equals ours (rows matched by ``key``); no extra rows."""
    ours = {str(r[key]): r for r in got}
    assert len(ours) == len(got) == len(expected)
    for e in expected:
        g = ours[str(e[key])]
        for k, v in e.items():
            if k not in skip:
                assert g[k] == v, f"{key}={e[key]} field {k}: ours {g[k]!r:.80} expected {v!r:.80}"
