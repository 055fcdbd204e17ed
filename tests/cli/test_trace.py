"""``chaintrail trace`` / ``exposure`` / ``risk`` end to end on real mainnet blocks 0-438."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import pytest
from typer.testing import CliRunner

from chaintrail.cli import app, main
from chaintrail.intel.attribution import add_tag

BLOCKS = Path(__file__).parent.parent / "data" / "btc" / "blk_mainnet_blocks_0-438.dat"
SATOSHI_BLOCK9 = "12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S"
HAL_FINNEY = "1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm3"
FIRST_PAYMENT = "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16"  # block 170
runner = CliRunner()


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("trace-store")
    result = runner.invoke(app, ["ingest", str(BLOCKS), "--store", str(path)])
    assert result.exit_code == 0, result.output
    return path


def _json(*args: str) -> dict:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_first_payment_forward_accounts_for_all_50_btc(store_dir: Path) -> None:
    res = _json("trace", FIRST_PAYMENT, "--hops", "3", "--store", str(store_dir))
    assert res["traced"] == 50 * 10**8
    amounts = {t["address"]: t["amount"] for t in res["terminals"]}
    assert amounts[HAL_FINNEY] == 10 * 10**8  # Hal never spent it in blocks 0-438
    cut = sum(c["value"] for c in res["cut"])
    assert sum(amounts.values()) + res["fee"] + cut == 50 * 10**8
    for t in res["terminals"]:
        assert set(t) >= {"address", "cluster_id", "label", "category", "amount", "paths"}
        assert all(isinstance(p, list) for p in t["paths"])


def test_backward_from_hal_reaches_satoshis_coinbase(store_dir: Path) -> None:
    res = _json("trace", HAL_FINNEY, "--direction", "backward", "--store", str(store_dir))
    (term,) = res["terminals"]
    assert term["address"] == SATOSHI_BLOCK9 and term["reasons"] == ["mined"]
    assert term["amount"] == 10 * 10**8 and term["paths"] == [[FIRST_PAYMENT]]


def test_stop_at_services_exposure_and_risk_use_tags(store_dir: Path, tmp_path: Path) -> None:
    add_tag(store_dir, HAL_FINNEY, "Example Exchange", "exchange")
    res = _json("trace", FIRST_PAYMENT, "--stop-at-services", "--store", str(store_dir))
    hal = next(t for t in res["terminals"] if t["address"] == HAL_FINNEY)
    assert hal["reasons"] == ["service"] and hal["label"] == "Example Exchange"
    assert hal["category"] == "exchange"
    add_tag(store_dir, SATOSHI_BLOCK9, "Test sanctioned wallet", "sanction")
    exp = _json("exposure", HAL_FINNEY, "--hops", "2", "--store", str(store_dir))
    (cat,) = exp["received"]["by_category"]
    assert cat["category"] == "sanction" and cat["direct"] == 10 * 10**8 and cat["percent"] == 100.0
    risk = _json("risk", HAL_FINNEY, "--store", str(store_dir))
    assert risk["score"] == 10
    assert risk["reasons"][0]["rule"] == "DIRECT_SANCTIONED"


@pytest.mark.parametrize("fmt", ["graphml", "gexf", "csv", "json"])
def test_exports_open_in_graph_tools(store_dir: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"trace.{fmt}"
    result = runner.invoke(
        app,
        ["trace", SATOSHI_BLOCK9, "--format", fmt, "--out", str(out), "--store", str(store_dir)],
    )
    assert result.exit_code == 0, result.output
    if fmt == "graphml":
        g = nx.read_graphml(out)
        assert g.has_edge(SATOSHI_BLOCK9, HAL_FINNEY)
        assert g.edges[SATOSHI_BLOCK9, HAL_FINNEY]["amount"] == 10 * 10**8
    elif fmt == "gexf":
        g = nx.read_gexf(out)
        assert g.edges[SATOSHI_BLOCK9, HAL_FINNEY]["weight"] == 10 * 10**8
    elif fmt == "csv":
        rows = out.read_text().splitlines()
        assert rows[0].startswith("record,source,target,amount")
        assert any(r.startswith(f"edge,{SATOSHI_BLOCK9},{HAL_FINNEY},1000000000,") for r in rows)
    else:
        assert {"nodes", "edges", "terminals"} <= set(json.loads(out.read_text()))


def test_unknown_target_is_one_red_line(store_dir: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["trace", "ab" * 32, "--store", str(store_dir)])
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert "not in the store" in err and "Traceback" not in err
    with pytest.raises(SystemExit) as exc:
        main(["trace", FIRST_PAYMENT, "--model", "lifo", "--store", str(store_dir)])
    assert exc.value.code == 2
