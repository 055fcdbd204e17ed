"""The evaluation matrix: simulator variants x seeds, split into a tuning and a reporting set.

The split was fixed before any heuristic was tuned on the variants (ACCURACY.md says so):
heuristics and thresholds are tuned on ``tuning`` only; ``reporting`` chains are generated and
scored for the tables, never looked at while tuning. Both sets are reported.

``prepare(work, variant, seed, preset)`` generates ``work/<preset>-<variant>-<seed>/`` with
``chaintrail simulate`` and ingests it into ``.../store`` (each step skipped when done), so
the clustering and tracing evaluations share the chains.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

TUNING_VARIANTS = ("baseline", "drift", "privacy")
TUNING_SEEDS = (1, 2, 3)
REPORTING_VARIANTS = ("households", "custodial", "launder", "coinjoin_zoo", "legacy", "mixed")
REPORTING_SEEDS = (11, 12, 13)
SETS = {
    "tuning": (TUNING_VARIANTS, TUNING_SEEDS),
    "reporting": (REPORTING_VARIANTS, REPORTING_SEEDS),
}


def cells(which: str, variants: list[str] | None = None) -> list[tuple[str, int]]:
    """(variant, seed) pairs of the ``tuning`` or ``reporting`` set (optionally fewer variants)."""
    vs, seeds = SETS[which]
    return [(v, s) for v in (variants or vs) for s in seeds]


def _cli(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "chaintrail", *args], check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip


def prepare(work: Path, variant: str, seed: int, preset: str = "small") -> Path:
    """The chain directory of (variant, seed), generated and ingested into ``<dir>/store``."""
    chain = work / f"{preset}-{variant}-{seed}"
    if not (chain / "truth" / "simulation.json").exists():
        print(f"simulating {chain.name} ...", file=sys.stderr, flush=True)
        _cli("simulate", "--preset", preset, "--seed", str(seed), "--variant", variant,
             "--out", str(chain), "--force")  # fmt: skip
    if not (chain / "store" / "MANIFEST.json").exists():
        print(f"ingesting {chain.name} ...", file=sys.stderr, flush=True)
        _cli("ingest", str(chain / "blocks"), "--store", str(chain / "store"))
    return chain
