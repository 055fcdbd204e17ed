"""``chaintrail cluster`` / ``cluster export`` / ``cluster-info`` on real mainnet blocks 0-438."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from chaintrail.analysis.clustering import cluster_of_addresses
from chaintrail.analysis.heuristics import tx_heuristics
from chaintrail.cli import app
from chaintrail.errors import NotFoundError, UsageError
from chaintrail.store import ChainStore

BLOCKS = Path(__file__).parent.parent / "data" / "btc" / "blk_mainnet_blocks_0-438.dat"
SATOSHI_BLOCK9 = "12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S"
HAL_FINNEY = "1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm3"
FIRST_PAYMENT = "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16"  # block 170

runner = CliRunner()


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("store")
    result = runner.invoke(app, ["ingest", str(BLOCKS), "--store", str(path)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["cluster", "--store", str(path), "--json"])
    assert result.exit_code == 0, result.output
    return path


def test_cluster_summary_and_incremental_rerun(store_dir: Path) -> None:
    result = runner.invoke(app, ["cluster", "--store", str(store_dir), "--json"])
    summary = json.loads(result.stdout)
    assert summary["txs"] == 446 and summary["addresses"] == 446
    assert summary["new_txs"] == 0  # nothing new since the fixture's run
    assert summary["coinjoin_txs"] == 0


def test_first_bitcoin_payment_does_not_merge_hal_into_satoshi(store_dir: Path) -> None:
    store = ChainStore.open(store_dir)
    ids = store.address_ids([SATOSHI_BLOCK9, HAL_FINNEY])
    satoshi, hal = cluster_of_addresses(store, ids).tolist()
    assert satoshi != hal
    verdicts = tx_heuristics(store, store.tx_id(FIRST_PAYMENT))
    assert verdicts["change"]["address_reuse"] == 1  # 40 BTC back to Satoshi's own key
    assert verdicts["change_selected"] is None  # known change: nothing else to merge
    assert not verdicts["is_coinjoin"]


def test_cluster_info_json(store_dir: Path) -> None:
    store = ChainStore.open(store_dir)
    cid = int(cluster_of_addresses(store, store.address_ids([SATOSHI_BLOCK9]))[0])
    result = runner.invoke(
        app, ["cluster-info", str(cid), "--store", str(store_dir), "--json", "--limit", "3"]
    )
    info = json.loads(result.stdout)
    assert info["cluster_id"] == cid and SATOSHI_BLOCK9 in info["addresses"]
    arrays = store.arrays()
    member_ids = store.address_ids(info["addresses"]) if info["size"] <= 3 else None
    assert member_ids is not None  # Satoshi's keys of these blocks were never co-spent
    paid = np.isin(arrays.out_addr, member_ids)
    spent = np.isin(arrays.in_addr, member_ids)
    assert info["total_received"] == int(arrays.out_value[paid].sum())
    assert info["total_sent"] == int(arrays.in_value[spent].sum()) > 50 * 10**8
    assert info["balance"] == info["total_received"] - info["total_sent"]


def test_export_writes_every_address(store_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "clusters.csv"
    result = runner.invoke(app, ["cluster", "export", "--out", str(out), "--store", str(store_dir)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 446
    by_addr = {r["address"]: int(r["cluster_id"]) for r in rows}
    store = ChainStore.open(store_dir)
    assert by_addr[HAL_FINNEY] == int(
        cluster_of_addresses(store, store.address_ids([HAL_FINNEY]))[0]
    )


def test_bad_input_raises_the_one_line_errors(store_dir: Path) -> None:
    bad = runner.invoke(
        app, ["cluster", "--heuristics", "multi-input,change:fresh", "--store", str(store_dir)]
    )
    assert isinstance(bad.exception, UsageError)  # the CLI boundary prints it, exit 2
    assert "unknown heuristic 'fresh'" in str(bad.exception)
    missing = runner.invoke(app, ["cluster-info", "99999", "--store", str(store_dir)])
    assert isinstance(missing.exception, NotFoundError)
    assert "no such cluster" in str(missing.exception)


def test_concurrent_cluster_runs_one_wins_the_other_says_so_in_one_line(
    store_dir: Path, tmp_path: Path
) -> None:
    """Issue 10 E: two `chaintrail cluster` at once; the second died with a traceback."""
    import os
    import subprocess
    import sys

    from chaintrail.store.layout import WriterLock

    def start() -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "chaintrail", "cluster", "--full", "--store", str(store_dir)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

    holder = WriterLock(store_dir / "derived" / "clusters")  # as a running `cluster` holds it
    with holder:
        busy = start()
        code, err = busy.wait(), busy.communicate()[1]
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err, err
    assert f"another process is clustering this store (pid {os.getpid()})" in err
    outcomes = []
    for _ in range(2):
        runs = [start(), start()]
        outcomes += [(p.wait(), p.communicate()[1]) for p in runs]
    for code, err in outcomes:
        assert "Traceback" not in err, err
        assert code == 0 or (code == 1 and "another process is clustering" in err), err
        assert code == 0 or len(err.strip().splitlines()) == 1, err
    assert any(code == 0 for code, _ in outcomes)
    assert tx_heuristics(ChainStore.open(store_dir), 0)["is_coinjoin"] is False  # state loads
