"""A simulated ransomware case served block by block by the simulated node (chaintrail.sim.node),
and a store + hub that follow it. The hub runs on SQLite and PostgreSQL (tests/hub/conftest)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chaintrail.hub.db import Hub, open_hub
from chaintrail.hub.setup import init_hub, local_principal
from chaintrail.intel.importer import import_paths
from chaintrail.sim import simulate
from chaintrail.sim.node import SimNode, read_blk_dir
from hub.conftest import db_url, pytest_generate_tests  # noqa: F401 - both backends

SEED = 3  # tiny preset: the ransom is paid at heights 112-123 and moves at 127-137


@dataclass
class SimChain:
    """The simulated chain: its blocks, truth and TagPack."""

    dir: Path
    blocks: list[bytes]
    ransom: dict[str, Any]
    heights: dict[str, int]  # txid -> height of every tx
    kinds: dict[str, str]  # txid -> truth kind
    owner: dict[str, str]  # address -> name of the entity owning it

    @property
    def tagpack(self) -> Path:
        return self.dir / "truth" / "services.tagpack.yaml"


@pytest.fixture(scope="session")
def sim_chain(tmp_path_factory: pytest.TempPathFactory) -> SimChain:
    import pyarrow.parquet as pq

    out = tmp_path_factory.mktemp("sim")
    simulate("tiny", SEED, out)
    scenarios = json.loads((out / "truth" / "scenarios.json").read_text())["scenarios"]
    txs = pq.read_table(out / "truth" / "txs.parquet", columns=["txid", "height", "kind"]).to_pylist()
    names = {r["entity_id"]: r["name"] for r in pq.read_table(out / "truth" / "entities.parquet").to_pylist()}
    owner = {r["address"]: names[r["entity_id"]]
             for r in pq.read_table(out / "truth" / "addresses.parquet", columns=["address", "entity_id"]).to_pylist()}
    return SimChain(out, read_blk_dir(out / "blocks"), next(s for s in scenarios if s["kind"] == "ransomware"),
                    {r["txid"]: r["height"] for r in txs}, {r["txid"]: r["kind"] for r in txs}, owner)  # fmt: skip


@pytest.fixture
def node(sim_chain: SimChain) -> Iterator[SimNode]:
    n = SimNode(sim_chain.blocks, tip=124, zmq=True)
    try:
        yield n
    finally:
        n.close()


@dataclass
class Watched:
    """A store with the services' tags and a hub, following ``node``."""

    store: Path
    url: str | None
    hub: Hub


@pytest.fixture
def watched(tmp_path: Path, db_url: str | None, sim_chain: SimChain) -> Iterator[Watched]:  # noqa: F811
    store = tmp_path / "store"
    store.mkdir()
    import_paths(store, [sim_chain.tagpack])
    init_hub(store, db_url, org="Home Police", country="AT", kind="police")
    hub = open_hub(store, db_url)
    local_principal(hub)
    try:
        yield Watched(store, db_url, hub)
    finally:
        hub.close()
