"""Run every benchmark with its default (small, bundled) inputs and print each figure.

``python -m bench.run`` (or ``make bench``) runs the quick set; ``--large DIR`` points the
benchmarks that need a generated chain at one (``chaintrail simulate --preset large --out DIR``).
Each benchmark prints its figures beside a baseline measured in the same run; this runner only
orders them, records the machine, and keeps going when one fails so the others still report.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def machine_line() -> str:
    """One line describing this machine (CPU, cores, memory, Python)."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {mem_gib:.0f} GiB, Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark scripts in ``bench/`` one after another; return the number that failed."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--large", type=Path, help="a generated chain directory for the big figures")
    ap.add_argument("--only", action="append", default=[], help="run only bench_<NAME>.py")
    args = ap.parse_args(argv)
    print(f"machine: {machine_line()}")
    failures = 0
    for script in sorted(HERE.glob("bench_*.py")):
        name = script.stem.removeprefix("bench_")
        if args.only and name not in args.only:
            continue
        cmd = [sys.executable, str(script)]
        if args.large:
            cmd += ["--chain", str(args.large)]
        print(f"\n=== {name}: {' '.join(cmd[1:])}", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call(cmd, cwd=ROOT)
        print(f"=== {name}: exit {rc} in {time.perf_counter() - t0:.1f} s", flush=True)
        failures += rc != 0
    return failures


if __name__ == "__main__":
    sys.exit(main())
