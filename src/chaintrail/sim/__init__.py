"""A simulated Bitcoin economy with crime scenarios and exact ground truth.

``simulate(preset, seed, out_dir)`` writes Bitcoin Core ``blk*.dat`` files and the truth
(who owns each address, what each tx is, where each scenario's funds went). See
docs/SIMULATOR.md.
"""

from __future__ import annotations

from chaintrail.sim.presets import PRESETS, Preset
from chaintrail.sim.run import SimResult, simulate

__all__ = ["PRESETS", "Preset", "SimResult", "simulate"]
