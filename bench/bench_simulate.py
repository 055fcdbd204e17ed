"""Benchmark the simulator: generation time, tx/s, bytes on disk and peak RSS per preset.

Usage: python bench/bench_simulate.py OUT_DIR [--presets tiny,small,medium] [--large]
                                               [--variants privacy,mixed,...]
Each preset runs in a child process so its peak RSS is its own. The baseline is the tiny
preset measured in the same run: every figure is also printed as a ratio to it.
``--variants``: also generate the first preset after tiny (default small) for each named
variant, beside the baseline variant of the same preset in the same run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

_CHILD = """
import json, resource, sys, time
from chaintrail.sim import simulate
r = simulate(sys.argv[1], 1, sys.argv[2], variant=sys.argv[3], force=True)
print(json.dumps({"txs": r.n_txs, "blocks": r.n_blocks, "bytes": r.bytes_on_disk,
                  "files": len(r.block_files), "seconds": r.seconds, "phases": r.phase_seconds,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_preset(preset: str, out: Path, variant: str = "baseline") -> dict:  # type: ignore[type-arg]
    """Run one preset (of ``variant``) in a fresh interpreter and return its measurements."""
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, preset, str(out / f"{preset}-{variant}"), variant],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    """Parse arguments, run the presets, print one line per preset."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out", type=Path)
    ap.add_argument("--presets", default="tiny,small,medium")
    ap.add_argument("--large", action="store_true", help="also run the ~10M-tx preset")
    ap.add_argument("--variants", default="", help="comma-separated variants to time too")
    args = ap.parse_args()
    presets = args.presets.split(",") + (["large"] if args.large else [])
    if presets[0] != "tiny":
        presets.insert(0, "tiny")
    base = None
    for p in presets:
        m = run_preset(p, args.out)
        tps = m["txs"] / m["seconds"]
        base = base or {"tps": tps, "seconds": m["seconds"]}
        phases = " ".join(f"{k}={v:.1f}s" for k, v in m["phases"].items())
        print(
            f"{p:7s} txs={m['txs']:>10,} blocks={m['blocks']:>6,} time={m['seconds']:8.1f}s "
            f"({m['seconds'] / base['seconds']:.1f}x tiny) tx/s={tps:>9,.0f} "
            f"({tps / base['tps']:.2f}x tiny) disk={m['bytes'] / 1e6:9.1f}MB files={m['files']} "
            f"peak_rss={m['peak_rss_mb']:.0f}MB [{phases}]",
            flush=True,
        )
    variants = [v for v in args.variants.split(",") if v]
    if variants:
        preset = presets[1] if len(presets) > 1 else "small"
        ref = run_preset(preset, args.out)
        print(f"{preset} baseline: {ref['txs']:,} txs in {ref['seconds']:.1f}s", flush=True)
        for v in variants:
            m = run_preset(preset, args.out, v)
            print(
                f"{preset} {v}: {m['txs']:,} txs in {m['seconds']:.1f}s "
                f"({m['seconds'] / ref['seconds']:.2f}x baseline) "
                f"peak_rss={m['peak_rss_mb']:.0f}MB",
                flush=True,
            )


if __name__ == "__main__":
    main()
