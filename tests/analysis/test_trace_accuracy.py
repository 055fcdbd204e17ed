"""Tracing accuracy on the tiny simulated economy: every cash-out found, amounts within 5%."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from chaintrail.analysis.trace_eval import score_scenarios
from chaintrail.cli import app
from chaintrail.intel.importer import import_paths
from chaintrail.intel.tracing import open_trace_context
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
    return open_trace_context(ChainStore.open(store)), scenarios


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


def test_cli_traces_all_ransom_addresses_together_to_the_true_cash_outs(tiny) -> None:
    ctx, scenarios = tiny
    ransom = next(s for s in scenarios if s["kind"] == "ransomware")
    args = ["trace", *ransom["seed_addresses"], "--hops", "30", "--stop-at-services", "--json"]
    result = CliRunner().invoke(app, [*args, "--store", str(ctx.store.root)])
    assert result.exit_code == 0, result.output
    got = {t["address"]: t["amount"] for t in json.loads(result.stdout)["terminals"]
           if t["category"] == "exchange"}  # fmt: skip
    want: dict[str, int] = {}
    for t in ransom["terminals"]:
        want[t["address"]] = want.get(t["address"], 0) + t["amount"]
    assert got.keys() == want.keys()
    for addr, amount in want.items():
        assert abs(got[addr] - amount) <= 0.05 * amount, addr


def test_cli_refuses_to_mix_a_txid_into_several_targets(tiny) -> None:
    ctx, scenarios = tiny
    seed = scenarios[0]["seed_addresses"][0]
    args = ["trace", seed, "ab" * 32, "--store", str(ctx.store.root)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code != 0
    assert "must all be addresses" in str(result.exception or result.output)
