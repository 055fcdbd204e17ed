"""Tracing accuracy on the simulator's crime scenarios (ACCURACY.md, "Tracing").

For each scenario in ``truth/scenarios.json``: trace forward from its seed addresses (haircut,
stop at services, demixing on), and compare the service terminals with the truth's exchange
deposits: recall (truth deposit addresses found as cash-out terminals, and exchanges found by
name) and the amount error at each (|traced - truth| / truth; the target is <= 5%).

``python bench/eval_tracing.py --chain DIR`` where DIR is ``chaintrail simulate --out DIR``
output; the chain is ingested, clustered and tagged with ``truth/services.tagpack.yaml`` once
into ``DIR/store``. ``--simulate PRESET`` generates DIR first.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from chaintrail.store.layout import MANIFEST


def _cli(*args: str) -> None:
    subprocess.check_call([sys.executable, "-m", "chaintrail", *args], stdout=sys.stderr)


def prepare(chain_dir: Path) -> Path:
    """Ingest, cluster and tag ``chain_dir`` into ``chain_dir/store`` (skipped if present)."""
    from chaintrail.intel.importer import import_paths

    store = chain_dir / "store"
    if not (store / MANIFEST).exists():
        blocks = sorted(p for p in chain_dir.glob("**/blk*.dat") if "store" not in p.parts)
        _cli("ingest", *map(str, blocks), "--store", str(store))
        _cli("cluster", "--store", str(store))
        import_paths(store, [chain_dir / "truth" / "services.tagpack.yaml"])
    return store


def evaluate(chain_dir: Path, hops: int = 30, demix: bool = True) -> list[dict]:
    """Per-scenario recall and amount errors (see module docstring)."""
    from chaintrail.analysis.trace_eval import score_scenarios
    from chaintrail.intel.tracing import open_trace_context
    from chaintrail.store import ChainStore

    ctx = open_trace_context(ChainStore.open(prepare(chain_dir)))
    truth = json.loads((chain_dir / "truth" / "scenarios.json").read_text())["scenarios"]
    return score_scenarios(ctx, truth, hops=hops, demix=demix)


def main(argv: list[str] | None = None) -> int:
    """Print a table per scenario and a JSON dump (``--json``)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chain", type=Path, required=True)
    ap.add_argument("--simulate", help="generate DIR first with this preset (tiny, small ...)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--hops", type=int, default=30)
    ap.add_argument("--no-demix", action="store_true", help="plain haircut through CoinJoins")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if args.simulate and not (args.chain / "truth" / "scenarios.json").exists():
        _cli(
            "simulate",
            "--preset",
            args.simulate,
            "--seed",
            str(args.seed),
            "--out",
            str(args.chain),
        )
    rows = evaluate(args.chain, args.hops, demix=not args.no_demix)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(
        f"{'scenario':28} {'addr recall':>11} {'<=5%':>6} {'exch recall':>11} {'max exch err':>12} {'median addr err':>15}"
    )
    for r in rows:
        print(
            f"{r['scenario'][:28]:28} {r['address_recall']:11.2f} {r['address_within_5pct']:6.2f} "
            f"{r['exchange_recall']:11.2f} {r['exchange_max_error']:12.4f} {r['median_address_error']:15.4f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
