"""Shared paths of the intel tests (real packs and lists copied into tests/data/intel)."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data"
INTEL = DATA / "intel"
PACKS = INTEL / "packs"
ACTORS = INTEL / "actors" / "graphsense.actorpack.yaml"
OFAC = INTEL / "ofac"
BLK = DATA / "btc" / "blk_mainnet_blocks_0-438.dat"
