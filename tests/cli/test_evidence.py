"""What a cluster and a trace rest on, on the tiny simulated chain: ``cluster-info`` evidence
and ``--split multi-input``, trace terminals' assumptions and ``--min-confidence``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from chaintrail.analysis.clustering import load_clusters
from chaintrail.cli import app
from chaintrail.intel.importer import import_paths
from chaintrail.sim.run import simulate
from chaintrail.store import ChainStore

runner = CliRunner()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    out = tmp_path_factory.mktemp("evidence")
    sim = simulate("tiny", 7, out)
    store = out / "store"
    for args in (["ingest", *map(str, sim.block_files)], ["cluster"]):
        result = runner.invoke(app, [*args, "--store", str(store)])
        assert result.exit_code == 0, result.output
    import_paths(store, [out / "truth" / "services.tagpack.yaml"])
    scenarios = json.loads((out / "truth" / "scenarios.json").read_text())["scenarios"]
    return store, scenarios


def _clusters_by_size(store: Path) -> tuple[np.ndarray, np.ndarray]:
    labels = np.asarray(load_clusters(ChainStore.open(store)).labels)
    ids, sizes = np.unique(labels, return_counts=True)
    return ids, sizes


def test_cluster_info_says_how_much_rests_on_multi_input_and_on_each_change_rule(tiny) -> None:
    store, _ = tiny
    ids, sizes = _clusters_by_size(store)
    checked = 0
    for cid in ids[(sizes >= 5) & (sizes <= 60)][:15].tolist():
        result = runner.invoke(
            app,
            ["cluster-info", str(cid), "--split", "multi-input", "--json", "--store", str(store)],
        )
        assert result.exit_code == 0, result.output
        info = json.loads(result.stdout)
        ev, comps = info["evidence"], info["components"]
        assert sum(c["size"] for c in comps["multi_input"]) == info["size"]
        assert ev["largest_component"] == comps["multi_input"][0]["size"]
        assert ev["multi_input_share"] == pytest.approx(
            ev["largest_component"] / info["size"], abs=1e-4
        )
        # a cluster is its components joined by change links: a spanning tree of them
        assert sum(ev["change_joins"].values()) == ev["multi_input_components"] - 1
        assert len(comps["change_bridges"]) == ev["multi_input_components"] - 1
        for b in comps["change_bridges"]:
            assert b["heuristic"] in ev["change_links"]
        checked += ev["multi_input_components"] > 1
    assert checked >= 5  # most user clusters rest partly on change links


def test_cluster_info_split_table_and_multi_input_only_clusters(tiny) -> None:
    store, _ = tiny
    ids, sizes = _clusters_by_size(store)
    big = int(ids[np.argmax(sizes)])  # an exchange: swept deposits, all multi-input
    result = runner.invoke(app, ["cluster-info", str(big), "--json", "--store", str(store)])
    ev = json.loads(result.stdout)["evidence"]
    assert ev["multi_input_share"] > 0.9
    result = runner.invoke(
        app, ["cluster-info", str(big), "--split", "multi-input", "--store", str(store)]
    )
    assert result.exit_code == 0, result.output
    assert "multi-input components" in result.output and "rests on" in result.output
    result = runner.invoke(app, ["cluster-info", "1", "--split", "nonsense", "--store", str(store)])
    assert result.exit_code != 0


def test_trace_terminals_name_their_assumptions_and_min_confidence_cuts(tiny) -> None:
    store, scenarios = tiny
    ransom = next(s for s in scenarios if s["kind"] == "ransomware")
    args = ["trace", *ransom["seed_addresses"], "--hops", "30", "--stop-at-services", "--json"]
    result = runner.invoke(app, [*args, "--store", str(store)])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    exchanges = [t for t in doc["terminals"] if t["category"] == "exchange"]
    assert all("haircut" in t["assumptions"] for t in exchanges)
    assert all(
        "address tag" in t["assumptions"]
        or any(a.startswith("cluster tag") for a in t["assumptions"])
        for t in exchanges
    )
    mixed = [t for t in exchanges if any(a.startswith("demix:") for a in t["assumptions"])]
    assert mixed  # the CoinJoin'd peel reaches its exchange through demixing rules
    strict = runner.invoke(app, [*args, "--min-confidence", "0.99", "--store", str(store)])
    cut = {c["reason"]: c for c in json.loads(strict.stdout)["cut"]}
    assert cut["min_confidence"]["value"] > 0
    total = sum(t["amount"] for t in exchanges)
    got = sum(
        t["amount"] for t in json.loads(strict.stdout)["terminals"] if t["category"] == "exchange"
    )
    assert got < total
    bad = runner.invoke(app, [*args, "--min-confidence", "1.5", "--store", str(store)])
    assert bad.exit_code != 0 and "min-confidence" in str(bad.exception or bad.output)


def test_evidence_of_a_cluster_with_no_multi_input_tx_is_one_component(tiny) -> None:
    """An address that never spent with another is its own single component, no links."""
    store, _ = tiny
    ids, sizes = _clusters_by_size(store)
    lone = int(ids[sizes == 1][0])
    result = runner.invoke(
        app, ["cluster-info", str(lone), "--split", "multi-input", "--json", "--store", str(store)]
    )
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["evidence"]["multi_input_components"] == 1
    assert info["components"]["change_bridges"] == []
