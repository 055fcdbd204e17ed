"""``chaintrail simulate``: JSON on stdout, one red line and exit 2 on misuse."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from chaintrail.cli import app, main

runner = CliRunner()


def test_simulate_json_names_files_and_seeds(tmp_path) -> None:
    res = runner.invoke(
        app, ["simulate", "--preset", "tiny", "--seed", "5", "--out", str(tmp_path), "--json"]
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["preset"] == "tiny" and doc["transactions"] >= 8000
    assert doc["block_files"][0].endswith("blk00000.dat") and doc["bytes"] > 1_000_000
    assert len(doc["scenario_seed_addresses"]["ransomware"]) >= 4


def test_unknown_preset_is_a_usage_error(tmp_path) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["simulate", "--preset", "huge", "--out", str(tmp_path)])
    assert exc.value.code == 2
