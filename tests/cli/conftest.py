"""A tiny simulated case shared by the CLI tests: blocks dated 2023 (inside the shipped price
range), ingested and clustered, with the simulator's ransomware seed addresses."""

from __future__ import annotations

import json

import pytest

from .clirun import cli


@pytest.fixture(scope="session")
def sim_case(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """``{"store": Path, "seeds": {scenario kind: [seed addresses]}}``."""
    root = tmp_path_factory.mktemp("sim-case")
    code, out, err = cli("simulate", "--preset", "tiny", "--seed", "3", "--out", str(root / "sim"),
                         "--json")  # fmt: skip
    assert code == 0, err
    store = root / "store"
    assert cli("ingest", str(root / "sim" / "blocks"), "--store", str(store), "--json")[0] == 0
    assert cli("cluster", "--store", str(store), "--json")[0] == 0
    return {"store": store, "seeds": json.loads(out)["scenario_seed_addresses"]}
