"""Tracing accuracy on the simulator's crime scenarios (ACCURACY.md, "Tracing").

For each scenario in ``truth/scenarios.json``: trace forward from its seed addresses (haircut,
stop at services, demixing on), and compare the service terminals with the truth's exchange
deposits: the share of the cashed-out value found at the right exchanges (per exchange, up to
its true amount), the share traced to wrong exchanges (beyond each exchange's true amount),
recall of deposit addresses and exchanges, and the amount error at each deposit.

    python bench/eval_tracing.py --chain DIR [--simulate PRESET --seed N --variant V]
    python bench/eval_tracing.py --matrix tuning|reporting --work DIR [--markdown]

DIR is ``chaintrail simulate --out DIR`` output; the chain is ingested, clustered (default
heuristics) and tagged with ``truth/services.tagpack.yaml`` once into ``DIR/store``.
``--matrix`` runs every (variant, seed) of the tuning or reporting set (bench/variant_matrix.py),
generating the chains under ``--work`` (preset ``--preset``, default small).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.variant_matrix import SETS, cells, prepare  # noqa: E402
from chaintrail.store.layout import MANIFEST  # noqa: E402


def _cli(*args: str) -> None:
    subprocess.check_call([sys.executable, "-m", "chaintrail", *args], stdout=sys.stderr)


def prepare_store(chain_dir: Path, full: bool = False) -> Path:
    """Ingest, cluster and tag ``chain_dir`` into ``chain_dir/store`` (each step once;
    clustering is brought up to date with the current default heuristics)."""
    from chaintrail.intel.importer import import_paths

    store = chain_dir / "store"
    if not (store / MANIFEST).exists():
        blocks = sorted(p for p in chain_dir.glob("**/blk*.dat") if "store" not in p.parts)
        _cli("ingest", *map(str, blocks), "--store", str(store))
    _cli("cluster", "--store", str(store), "--top", "0", *(["--full"] if full else []))
    if not (store / "intel.duckdb").exists():
        import_paths(store, [chain_dir / "truth" / "services.tagpack.yaml"])
    return store


def evaluate(
    chain_dir: Path, hops: int = 30, demix: bool = True, min_confidence: float = 0.0
) -> list[dict]:
    """Per-scenario scores (see module docstring and ``trace_eval.score_scenarios``)."""
    from chaintrail.analysis.trace_eval import score_scenarios
    from chaintrail.intel.tracing import open_trace_context
    from chaintrail.store import ChainStore

    ctx = open_trace_context(ChainStore.open(prepare_store(chain_dir)))
    truth = json.loads((chain_dir / "truth" / "scenarios.json").read_text())["scenarios"]
    return score_scenarios(ctx, truth, hops=hops, demix=demix, min_confidence=min_confidence)


def _share(rows: list[dict], key: str) -> float:
    return sum(r[key] for r in rows) / max(sum(r["truth_cashed_out"] for r in rows), 1)


def matrix(args: argparse.Namespace) -> int:
    """Evaluate every (variant, seed) of a set; a table per variant and per scenario kind."""
    variants, seeds = SETS[args.matrix]
    by_variant: dict[str, list[dict]] = {}
    for variant, seed in cells(args.matrix, args.variant or None):
        chain = prepare(args.work, variant, seed, args.preset)
        rows = evaluate(chain, args.hops, not args.no_demix, args.min_confidence)
        for r in rows:
            r["variant"], r["seed"] = variant, seed
        by_variant.setdefault(variant, []).extend(rows)
        worst = min(rows, key=lambda r: r["found_share"])
        print(f"{variant} seed {seed}: found {_share(rows, 'found_right'):.3f}, wrong "
              f"{_share(rows, 'found_wrong'):.3f} (lowest: {worst['scenario']} "
              f"{worst['found_share']:.3f})", file=sys.stderr, flush=True)  # fmt: skip
    if args.json:
        print(json.dumps(by_variant, indent=2))
        return 0
    print(f"{args.matrix} set: variants {', '.join(variants)}; seeds {', '.join(map(str, seeds))}; "
          f"preset {args.preset}; hops {args.hops}; demix {'off' if args.no_demix else 'on'}"
          + (f"; min confidence {args.min_confidence}" if args.min_confidence else ""))  # fmt: skip
    print()
    print(
        "| variant | scenarios | cashed out (sat) | found at the right exchanges | at wrong exchanges | lowest scenario (found) |"
    )
    print("|---|---:|---:|---:|---:|---|")
    for variant, rows in by_variant.items():
        worst = min(rows, key=lambda r: r["found_share"])
        total = sum(r["truth_cashed_out"] for r in rows)
        print(f"| {variant} | {len(rows)} | {total:,} | {_share(rows, 'found_right'):.3f} | "
              f"{_share(rows, 'found_wrong'):.3f} | {worst['scenario']} seed {worst['seed']} "
              f"({worst['found_share']:.3f}) |")  # fmt: skip
    print()
    print("| variant | scenario | found | wrong | address recall | exchange recall |")
    print("|---|---|---:|---:|---:|---:|")
    for variant, rows in by_variant.items():
        for kind in dict.fromkeys(r["kind"] for r in rows):
            sub = [r for r in rows if r["kind"] == kind]
            recall = sum(r["address_recall"] for r in sub) / len(sub)
            ex_recall = sum(r["exchange_recall"] for r in sub) / len(sub)
            print(f"| {variant} | {kind} | {_share(sub, 'found_right'):.3f} | "
                  f"{_share(sub, 'found_wrong'):.3f} | {recall:.2f} | {ex_recall:.2f} |")  # fmt: skip
    return 0


def main(argv: list[str] | None = None) -> int:
    """Score one chain (``--chain``) or a whole set (``--matrix``)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chain", type=Path)
    ap.add_argument("--matrix", choices=sorted(SETS))
    ap.add_argument("--work", type=Path, help="where --matrix keeps its chains")
    ap.add_argument("--variant", action="append", default=[], help="only these variants")
    ap.add_argument("--preset", default="small")
    ap.add_argument("--simulate", help="generate DIR first with this preset (tiny, small ...)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--hops", type=int, default=30)
    ap.add_argument("--min-confidence", type=float, default=0.0)
    ap.add_argument("--no-demix", action="store_true", help="plain haircut through CoinJoins")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if args.matrix:
        if args.work is None:
            ap.error("--matrix needs --work DIR")
        return matrix(args)
    if args.chain is None:
        ap.error("give --chain DIR or --matrix SET --work DIR")
    if args.simulate and not (args.chain / "truth" / "scenarios.json").exists():
        _cli("simulate", "--preset", args.simulate, "--seed", str(args.seed),
             "--variant", args.variant[0] if args.variant else "baseline", "--out", str(args.chain))  # fmt: skip
    rows = evaluate(args.chain, args.hops, not args.no_demix, args.min_confidence)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'scenario':28} {'found':>6} {'wrong':>6} {'addr recall':>11} {'<=5%':>6} "
          f"{'exch recall':>11} {'max exch err':>12}")  # fmt: skip
    for r in rows:
        print(f"{r['scenario'][:28]:28} {r['found_share']:6.3f} {r['wrong_share']:6.3f} "
              f"{r['address_recall']:11.2f} {r['address_within_5pct']:6.2f} "
              f"{r['exchange_recall']:11.2f} {r['exchange_max_error']:12.4f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
