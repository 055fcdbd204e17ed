"""DuckDB views over a manifest's Parquet segments (one in-memory database per store generation).

Tables: ``blocks, txs, inputs, outputs, addresses``; derived views: ``spends`` (the input that
spends each output), ``address_activity`` (one row per address per output/input) and
``address_stats`` (balance, totals, tx count, first/last seen height per address).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from chaintrail.store.layout import TABLES, Manifest, segment_files
from chaintrail.store.segments import SCHEMAS

DERIVED_VIEWS = """
CREATE VIEW spends AS
  SELECT prev_out_id AS out_id, in_id, tx_id AS spending_tx_id FROM inputs
  WHERE prev_out_id IS NOT NULL;
CREATE VIEW address_activity AS
  SELECT o.address_id, o.tx_id, o.value AS received, 0::BIGINT AS sent FROM outputs o
  WHERE o.address_id IS NOT NULL
  UNION ALL
  SELECT i.address_id, i.tx_id, 0::BIGINT, i.value FROM inputs i WHERE i.address_id IS NOT NULL;
CREATE VIEW address_stats AS
  SELECT a.address_id, a.address, a.script_type, a.first_seen_height,
         max(t.height) AS last_seen_height,
         sum(x.received)::BIGINT AS total_received, sum(x.sent)::BIGINT AS total_sent,
         (sum(x.received) - sum(x.sent))::BIGINT AS balance,
         count(DISTINCT x.tx_id) AS tx_count
  FROM address_activity x JOIN addresses a USING (address_id) JOIN txs t USING (tx_id)
  GROUP BY ALL;
"""


def connect(root: Path, m: Manifest, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the store's tables and derived views."""
    con = duckdb.connect(":memory:")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    for table in TABLES:
        files = segment_files(root, m, table)
        if files:
            listing = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
            con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet([{listing}])")
        else:  # a real (empty) table: registered Arrow data is invisible to other cursors
            con.register(f"_empty_{table}", SCHEMAS[table].empty_table())
            con.execute(f"CREATE TABLE {table} AS SELECT * FROM _empty_{table}")
            con.unregister(f"_empty_{table}")
    con.execute(DERIVED_VIEWS)
    return con
