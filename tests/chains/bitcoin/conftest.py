"""Shared fixtures: the real blocks copied into tests/data/btc and tests/data/rpc."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from chaintrail.chains.bitcoin.rawfile import read_raw_block

DATA = Path(__file__).resolve().parents[2] / "data"
BTC = DATA / "btc"
RPC = DATA / "rpc"
BLK_0_438 = BTC / "blk_mainnet_blocks_0-438.dat"
BLOCK_702861 = BTC / (
    "block_702861_000000000000000000000c835b2adcaedc20fdf6ee440009c249452c726dafae.raw"
)


def manifest_rows() -> list[dict[str, str]]:
    """Rows of tests/data/btc/manifest.csv for files present in tests/data/btc."""
    with open(BTC / "manifest.csv", newline="") as fh:
        return [r for r in csv.DictReader(fh) if (BTC / r["file"]).exists()]


@pytest.fixture(scope="session")
def block_702861() -> bytes:
    """Serialized mainnet block 702861 (2021, 2,500 txs, 2,065 segwit)."""
    return read_raw_block(BLOCK_702861)[0]
