"""Tracing accuracy on the tiny simulated economy: every cash-out found, amounts within 5%."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from chaintrail.analysis.trace_eval import score_scenarios
from chaintrail.analysis.trace_store import open_context
from chaintrail.cli import app
from chaintrail.intel.importer import import_paths
from chaintrail.sim.run import simulate
from chaintrail.store import ChainStore


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, list[dict]]:
    out = tmp_path_factory.mktemp("tiny")
    sim = simulate("tiny", 7, out)
    store = out / "store"
    runner = CliRunner()
    for args in (["ingest", *map(str, sim.block_files)], ["cluster"]):
        result = runner.invoke(app, [*args, "--store", str(store)])
        assert result.exit_code == 0, result.output
    import_paths(store, [out / "truth" / "services.tagpack.yaml"])
    scenarios = json.loads((out / "truth" / "scenarios.json").read_text())["scenarios"]
    return open_context(ChainStore.open(store)), scenarios


def test_every_scenario_cash_out_is_found_within_5_percent(tiny) -> None:
    ctx, scenarios = tiny
    rows = score_scenarios(ctx, scenarios)
    assert {r["kind"] for r in rows} >= {"ransomware"}
    for r in rows:
        assert r["address_recall"] == 1.0, r["scenario"]
        assert r["exchange_recall"] == 1.0, r["scenario"]
        for a in r["per_address"]:
            assert a["error"] <= 0.05, (r["scenario"], a)


def test_the_ransom_coinjoin_needs_demixing(tiny) -> None:
    ctx, scenarios = tiny
    ransom = [s for s in scenarios if s["kind"] == "ransomware"]
    plain = score_scenarios(ctx, ransom, demix=False)[0]
    mixed = score_scenarios(ctx, ransom, demix=True)[0]
    # plain haircut smears the CoinJoin'd peel over every participant
    assert max(a["error"] for a in plain["per_address"]) > 0.05
    assert max(a["error"] for a in mixed["per_address"]) <= 0.05
