"""How to store amounts up to 2**256: Parquet size and exact-sum speed of four layouts.

    python bench/bench_eth_amounts.py [--rows 2000000]

Values: the real amounts of tests/data/eth (transaction and token transfer values of blocks
17173049-17173050) drawn with replacement to ``--rows`` rows and scaled by 0.5-1.5 so they
are distinct but keep the real magnitudes (zeros stay zero), plus 0.1 % spam-token values near 2**256 (real: scam tokens emit Transfer
events of 2**256-1). Layouts: four uint64 limbs (chaintrail), a 32-byte big-endian binary, a
decimal string, and float64 (inexact; the baseline). Exact total per layout: DuckDB
``SUM`` per limb recombined in Python; the others must go through Python ints.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from chaintrail.chains.ethereum import u256

ROOT = Path(__file__).resolve().parents[1]
STREAM = ROOT / "tests" / "data" / "eth" / "etl" / "test_stream" / "blocks_17173049_17173050"


def real_values() -> list[int]:
    """Transaction and token transfer values of the two real blocks."""
    vals = [json.loads(x)["value"] for x in (STREAM / "expected_transactions.json").read_text().splitlines()]
    vals += [json.loads(x)["value"] for x in (STREAM / "expected_token_transfers.json").read_text().splitlines()]
    return vals


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rows", type=int, default=2_000_000)
    args = ap.parse_args()
    rng = np.random.default_rng(1)
    base = real_values()
    idx = rng.integers(0, len(base), args.rows)
    scale = rng.integers(500, 1500, args.rows).tolist()  # distinct values of the real magnitudes
    values = [base[i] * f // 1000 for i, f in zip(idx.tolist(), scale, strict=True)]
    for k in rng.choice(args.rows, args.rows // 1000, replace=False).tolist():
        values[k] = u256.MAX_U256 - int(rng.integers(0, 1 << 62))
    exact = sum(values)
    limbs = u256.from_ints(values)
    tables = {
        "4 x uint64 limbs": pa.table({f"value_{k}": limbs[:, k] for k in range(4)}),
        "binary(32) big-endian": pa.table({"value": pa.FixedSizeBinaryArray.from_buffers(
            pa.binary(32), args.rows, [None, pa.py_buffer(u256.to_be_bytes(limbs).reshape(-1))])}),
        "decimal string": pa.table({"value": pa.array([str(v) for v in values])}),
        "float64 (inexact)": pa.table({"value": u256.to_float(limbs)}),
    }  # fmt: skip
    print(f"{args.rows:,} amounts ({len(base)} real magnitudes, scaled; 0.1 % near 2**256)")
    print(f"{'layout':24s} {'bytes/row':>10s} {'write s':>8s} {'exact total s':>14s}  exact?")
    with tempfile.TemporaryDirectory() as tmp:
        for name, table in tables.items():
            path = Path(tmp) / "a.parquet"
            t0 = time.perf_counter()
            pq.write_table(table, path, compression="zstd", compression_level=1)
            wt = time.perf_counter() - t0
            size = path.stat().st_size
            con = duckdb.connect()
            t0 = time.perf_counter()
            if name.startswith("4 x"):
                sums = con.execute("SELECT " + ", ".join(f"SUM(value_{k})::VARCHAR" for k in range(4))
                                   + f" FROM '{path}'").fetchone()  # fmt: skip
                total = sum(int(s) << (64 * k) for k, s in enumerate(sums))
            elif name.startswith("binary"):
                col = pq.read_table(path).column("value").to_pylist()
                total = sum(int.from_bytes(v, "big") for v in col)
            elif name.startswith("decimal"):
                col = pq.read_table(path).column("value").to_pylist()
                total = sum(map(int, col))
            else:
                total = int(con.execute(f"SELECT SUM(value) FROM '{path}'").fetchone()[0])
            st = time.perf_counter() - t0
            print(f"{name:24s} {size / args.rows:10.2f} {wt:8.2f} {st:14.3f}  {total == exact}")


if __name__ == "__main__":
    main()
