"""`chaintrail address`/`tx --json` show clusters, attribution and heuristics once they exist."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chaintrail.cli import main

BLK = Path(__file__).resolve().parent / "data" / "btc" / "blk_mainnet_blocks_0-438.dat"
HAL_TX = "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16"
SATOSHI = "12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S"
HAL = "1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm3"


def _run(capsys, *args: str) -> dict:
    try:
        main([*args, "--json"])
    except SystemExit as exc:
        assert not exc.code, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("enrich") / "store"
    for args in (["ingest", str(BLK)], ["cluster"]):
        try:
            main([*args, "--store", str(path)])
        except SystemExit as exc:
            assert not exc.code
    return path


def test_address_json_has_null_cluster_and_no_tags_before_analysis(capsys, tmp_path) -> None:
    path = tmp_path / "bare"
    try:
        main(["ingest", str(BLK), "--store", str(path)])
    except SystemExit as exc:
        assert not exc.code
    info = _run(capsys, "address", SATOSHI, "--store", str(path))
    assert info["cluster_id"] is None and info["label"] is None and info["tags"] == []


def test_address_json_gains_cluster_id_after_clustering(capsys, store: Path) -> None:
    info = _run(capsys, "address", SATOSHI, "--store", str(store))
    members = _run(capsys, "cluster-info", str(info["cluster_id"]), "--store", str(store))
    assert isinstance(info["cluster_id"], int)
    assert SATOSHI in members["addresses"]


def test_tx_json_gains_heuristics_and_per_output_clusters(capsys, store: Path) -> None:
    info = _run(capsys, "tx", HAL_TX, "--store", str(store))
    h = info["heuristics"]
    assert h["is_coinjoin"] is False and not any(h["coinjoin"].values())
    # output 1 pays back to the spending address: never a change merge, Hal stays apart
    assert h["change_selected"] is None
    by_addr = {o["address"]: o for o in info["outputs"]}
    assert by_addr[HAL]["cluster_id"] != by_addr[SATOSHI]["cluster_id"]
    assert info["inputs"][0]["cluster_id"] == by_addr[SATOSHI]["cluster_id"]


def test_an_analyst_tag_shows_on_the_address_and_in_the_tx(capsys, store: Path) -> None:
    from chaintrail.intel.attribution import add_tag

    add_tag(store, HAL, "Hal Finney", "user", source="https://en.bitcoin.it/wiki/Hal_Finney")
    info = _run(capsys, "address", HAL, "--store", str(store))
    assert info["label"] == "Hal Finney"
    assert [t["label"] for t in info["tags"]] == ["Hal Finney"]
    tx = _run(capsys, "tx", HAL_TX, "--store", str(store))
    labels = {o["address"]: o["label"] for o in tx["outputs"]}
    assert labels == {HAL: "Hal Finney", SATOSHI: None}


def test_cluster_info_shows_member_labels_and_conflicting_actors(capsys, store: Path) -> None:
    from chaintrail.intel.attribution import add_tag

    info = _run(capsys, "address", SATOSHI, "--store", str(store))
    cid = str(info["cluster_id"])
    before = _run(capsys, "cluster-info", cid, "--store", str(store))
    assert before["label"] is None and before["conflicting_actors"] is False
    add_tag(store, SATOSHI, "Satoshi Nakamoto", "user", actor="satoshi")
    add_tag(store, cid, "Early miner", "miner", subject_type="cluster", actor="early-miner")
    after = _run(capsys, "cluster-info", cid, "--store", str(store))
    # the cluster's own tag ranks first; the member's tag is listed, and the two actors conflict
    assert after["label"] == "Early miner" and after["category"] == "miner"
    assert [x["label"] for x in after["labels"]] == ["Early miner", "Satoshi Nakamoto"]
    assert after["conflicting_actors"] is True
    assert {a["actor"] for a in after["actors"]} == {"satoshi", "early-miner"}
