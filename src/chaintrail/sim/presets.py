"""Preset sizes of the simulated economy (tiny for tests, large for benchmarks)."""

from __future__ import annotations

from dataclasses import dataclass

from chaintrail.errors import UsageError


@dataclass(frozen=True)
class Preset:
    """How big a simulated chain is and how busy its blocks are."""

    name: str
    target_txs: int  # generation stops at the first block boundary past this many txs
    txs_per_block: int
    n_users: int
    n_merchants: int
    n_exchanges: int
    scenario_scale: int  # multiplies victims, payers and hops of the crime scenarios


PRESETS: dict[str, Preset] = {
    "tiny": Preset("tiny", 8_000, 40, 600, 8, 4, 1),
    "small": Preset("small", 50_000, 150, 3_000, 30, 5, 2),
    "medium": Preset("medium", 1_000_000, 1_500, 50_000, 300, 6, 4),
    "large": Preset("large", 10_000_000, 2_500, 400_000, 2_000, 6, 6),
}


def get_preset(name: str) -> Preset:
    """The preset called ``name``; UsageError naming the choices otherwise."""
    try:
        return PRESETS[name]
    except KeyError:
        raise UsageError(f"unknown preset {name!r}; expected one of {', '.join(PRESETS)}") from None
