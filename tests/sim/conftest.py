"""One tiny simulated chain shared by the simulator tests (generated once per session)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from chaintrail.chains.bitcoin.blkfiles import list_blk_files, read_blocks, scan_blk_file
from chaintrail.chains.bitcoin.decode import decode_blocks
from chaintrail.chains.model import BlockBatch
from chaintrail.sim import SimResult, simulate
from chaintrail.sim.behaviour import Behaviour

SEED = 7


@dataclass
class TinyChain:
    """The generated files, the decoded batch and the truth tables."""

    result: SimResult
    batch: BlockBatch
    raw_blocks: list[bytes]
    txs: dict  # column name -> list
    addresses: dict
    entities: dict
    scenarios: list[dict]


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> TinyChain:
    return make_chain(tmp_path_factory.mktemp("sim") / "tiny", "baseline")


def make_chain(out: Path, variant: str | Behaviour, seed: int = SEED) -> TinyChain:
    """Simulate a tiny chain of ``variant`` into ``out`` and load it back (decoded + truth)."""
    result = simulate("tiny", seed, out, variant=variant)
    refs = [r for f in list_blk_files(out / "blocks") for r in scan_blk_file(f)]
    blobs = read_blocks(refs)
    batch = decode_blocks(blobs)
    truth = Path(out) / "truth"
    return TinyChain(
        result=result,
        batch=batch,
        raw_blocks=[b[0] for b in blobs],
        txs=pq.read_table(truth / "txs.parquet").to_pydict(),
        addresses=pq.read_table(truth / "addresses.parquet").to_pydict(),
        entities=pq.read_table(truth / "entities.parquet").to_pydict(),
        scenarios=json.loads((truth / "scenarios.json").read_text())["scenarios"],
    )


@pytest.fixture(scope="session")
def variant_chain(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """``variant_chain(name)``: the tiny chain (seed 7) of a named variant, made once."""
    made: dict[str, TinyChain] = {}

    def get(name: str) -> TinyChain:
        if name not in made:
            made[name] = make_chain(tmp_path_factory.mktemp(f"sim-{name}") / "tiny", name)
        return made[name]

    return get


@pytest.fixture(scope="session")
def make_tiny():  # type: ignore[no-untyped-def]
    """``make_tiny(out, variant_or_behaviour, seed=7)``: simulate and load a tiny chain."""
    return make_chain
