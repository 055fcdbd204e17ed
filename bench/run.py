"""Run every benchmark and print each figure beside its same-run baseline.

``python -m bench.run`` (``make bench``) runs the whole set on a generated chain: ``--chain DIR``
(a ``chaintrail simulate`` output directory) or, by default, a ``small`` chain generated once into
``bench/out/``. ``--tagpacks DIR`` points the tag-import benchmark at a GraphSense tagpacks
checkout (``../shared/data/graphsense-tagpacks`` in this project's workspace); it is skipped
without one. Each benchmark prints its own figures and baseline; this runner records the machine
and keeps going when one fails, so the others still report.
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
BLOCKS = sorted((ROOT / "tests" / "data" / "btc").glob("block_*.raw"))
BLK_0_438 = ROOT / "tests" / "data" / "btc" / "blk_mainnet_blocks_0-438.dat"


def machine_line() -> str:
    """One line describing this machine (CPU, cores, memory, Python, load)."""
    cpu = platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = os.getloadavg()[0]
    return (f"{cpu}, {os.cpu_count()} cores, {mem_gib:.0f} GiB, Python "
            f"{platform.python_version()}, load average {load:.2f}")  # fmt: skip


def _default_chain() -> Path:
    chain = HERE / "out" / "small-seed1"
    if not (chain / "truth" / "scenarios.json").exists():
        print(f"generating the default benchmark chain in {chain} ...", flush=True)
        subprocess.check_call(
            [sys.executable, "-m", "chaintrail", "simulate", "--preset", "small", "--seed", "1",
             "--out", str(chain), "--force"]
        )  # fmt: skip
    return chain


def commands(chain: Path, tagpacks: Path | None) -> dict[str, list[str]]:
    """Benchmark name -> argv (after the python executable)."""
    blk = sorted((chain / "blocks").glob("blk*.dat"))
    out = {
        "decode": ["bench/bench_decode.py", *map(str, BLOCKS), str(BLK_0_438)],
        "ingest": ["bench/bench_ingest.py", *map(str, blk)],
        "simulate": ["bench/bench_simulate.py", str(HERE / "out" / "simulate"), "--presets",
                     "tiny,small"],
        "cluster": ["bench/bench_cluster.py", "--chain", str(chain)],
        "trace": ["bench/bench_trace.py", "--chain", str(chain)],
        "api": ["bench/bench_api.py", "--chain", str(chain)],
        "hub": ["bench/bench_hub.py"],
        "eval_clustering": ["bench/eval_clustering.py", "--chain", str(chain)],
        "eval_tracing": ["bench/eval_tracing.py", "--chain", str(chain)],
    }  # fmt: skip
    if tagpacks is not None:
        out["tags"] = ["bench/bench_tags.py", str(tagpacks)]
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks one after another; return the number that failed."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chain", type=Path, help="a `chaintrail simulate` output directory")
    ap.add_argument("--tagpacks", type=Path, help="a graphsense-tagpacks folder")
    ap.add_argument("--only", action="append", default=[], help="run only this benchmark")
    args = ap.parse_args(argv)
    print(f"machine: {machine_line()}")
    chain = args.chain or _default_chain()
    failures = 0
    for name, cmd in commands(chain, args.tagpacks).items():
        if args.only and name not in args.only:
            continue
        print(f"\n=== {name}: {' '.join(cmd)}", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call([sys.executable, *cmd], cwd=ROOT)
        print(f"=== {name}: exit {rc} in {time.perf_counter() - t0:.1f} s", flush=True)
        failures += rc != 0
    return failures


if __name__ == "__main__":
    sys.exit(main())
