"""Wall time of one cached CLI lookup (``chaintrail address`` / ``tx``), beside its floor.

Each round runs, as fresh processes, in turn: ``python -c pass`` (the interpreter), the import
floor of any lookup (typer, rich, numpy, duckdb, pyarrow), ``python -c 'import numba'``,
``chaintrail --help``, ``chaintrail address ADDR`` and ``chaintrail tx TXID``; with
``--baseline-src DIR`` (the ``src`` of an older checkout) the two lookups also run from there in
the same rounds. One warm-up round first (disk cache, numba cache). Prints the median and the
minimum of each over ``--rounds`` rounds, and the machine's load.

    python bench/bench_startup.py STORE ADDRESS TXID [--baseline-src /tmp/old/src] [--rounds 9]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

FLOOR = "import typer, rich, numpy, duckdb, pyarrow, pyarrow.parquet"


def _time(argv: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {proc.stderr.decode()[-500:]}")
    return elapsed


def main() -> None:
    """Measure and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("store", type=Path)
    ap.add_argument("address")
    ap.add_argument("txid")
    ap.add_argument("--baseline-src", type=Path, help="src/ of an older checkout to compare")
    ap.add_argument("--rounds", type=int, default=9)
    args = ap.parse_args()
    py = sys.executable
    env = dict(os.environ, COLUMNS="120")
    cli = [py, "-m", "chaintrail"]
    lookups = {
        "address": [*cli, "address", args.address, "--store", str(args.store)],
        "tx": [*cli, "tx", args.txid, "--store", str(args.store)],
    }
    runs: dict[str, tuple[list[str], dict[str, str]]] = {
        "python -c pass": ([py, "-c", "pass"], env),
        "import floor (typer, rich, numpy, duckdb, pyarrow)": ([py, "-c", FLOOR], env),
        "import numba": ([py, "-c", "import numba"], env),
        "chaintrail --help": ([*cli, "--help"], env),
        **{f"chaintrail {k}": (v, env) for k, v in lookups.items()},
    }
    if args.baseline_src:
        old = dict(env, PYTHONPATH=str(args.baseline_src.resolve()))
        runs |= {f"chaintrail {k} (baseline checkout)": (v, old) for k, v in lookups.items()}
    for argv, e in runs.values():  # warm-up: page cache, numba's on-disk cache
        _time(argv, e)
    times: dict[str, list[float]] = {name: [] for name in runs}
    load = os.getloadavg()[0]
    for _ in range(args.rounds):
        for name, (argv, e) in runs.items():
            times[name].append(_time(argv, e))
    print(f"load average at start {load:.2f}, after {os.getloadavg()[0]:.2f}; {args.rounds} rounds")
    print(f"| {'run':<52} | median | min |")
    print(f"|{'-' * 54}|-------:|----:|")
    for name, ts in times.items():
        print(f"| {name:<52} | {statistics.median(ts):.2f} s | {min(ts):.2f} s |")


if __name__ == "__main__":
    main()
