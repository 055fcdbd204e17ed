"""Ingest job: chain order, resume after SIGKILL, reorgs, allow-gaps, bad input leaves no trace."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from chaintrail.errors import ValidationError
from chaintrail.jobs.ingest import ingest_paths
from chaintrail.store import ChainStore
from chaintrail.store.hashmap import utxo_entries
from chaintrail.store.maps import ChainMaps

from .blockfactory import BLK_0_438, blk_bytes, competing_branch, read_blocks

TABLES = ("blocks", "txs", "inputs", "outputs", "addresses")


def table_rows(store: ChainStore) -> dict[str, list[tuple]]:
    """Every row of every table, in id order."""
    store.refresh()
    con = store.con()
    order = {"blocks": "first_tx_id", "txs": "tx_id", "inputs": "in_id", "outputs": "out_id",
             "addresses": "address_id"}  # fmt: skip
    return {t: con.execute(f"SELECT * FROM {t} ORDER BY {order[t]}").fetchall() for t in TABLES}


def utxo_set(store: ChainStore) -> set[tuple]:
    """The UTXO entries of the store's maps, rebuilt exactly as a writer would load them."""
    store.refresh()
    maps = ChainMaps.load(store.root, store.manifest, store.con())
    u = utxo_entries(maps.utxo)
    return set(zip(*(u[c].tolist() for c in ("k0", "chk", "vout", "out", "value", "addr")), strict=True))  # fmt: skip


def ingest(store_dir: Path, *paths: Path, **kw) -> ChainStore:
    store = ChainStore.open(store_dir, create=True)
    ingest_paths(store, list(paths), **kw)
    return store


def test_rerun_skips_stored_blocks_and_changes_nothing(tmp_path: Path) -> None:
    store = ingest(tmp_path / "s", BLK_0_438, batch_blocks=100)
    before = table_rows(store)
    report = ingest_paths(store, [BLK_0_438])
    assert report.blocks_added == 0 and report.skipped_known == 439
    assert table_rows(store) == before


def test_blocks_out_of_file_order_are_put_in_chain_order(tmp_path: Path) -> None:
    blocks = read_blocks()
    shuffled = blocks[:1] + blocks[200:] + blocks[1:200]  # later blocks first in the file
    f = tmp_path / "blk00000.dat"
    f.write_bytes(blk_bytes(shuffled))
    a = ingest(tmp_path / "a", f, batch_blocks=50)
    b = ingest(tmp_path / "b", BLK_0_438)
    assert table_rows(a) == table_rows(b)
    assert a.tip()["height"] == 438


def test_reorg_gives_the_store_of_a_clean_ingest_of_the_winning_branch(tmp_path: Path) -> None:
    blocks = read_blocks()
    fork = 175  # below the spends at 181+ so rolled-back inputs must restore UTXO entries
    branch = competing_branch(blocks, fork, 438 - fork + 1)  # one block more work
    (tmp_path / "fork.dat").write_bytes(blk_bytes(branch))
    (tmp_path / "base.dat").write_bytes(blk_bytes(blocks[: fork + 1]))

    reorged = ingest(tmp_path / "r", BLK_0_438, batch_blocks=60)
    report = ingest_paths(reorged, [tmp_path / "fork.dat"], batch_blocks=60)
    assert report.reorg_fork_height == fork and report.blocks_rolled_back == 438 - fork
    clean = ingest(tmp_path / "c", tmp_path / "base.dat", tmp_path / "fork.dat")
    assert table_rows(reorged) == table_rows(clean)
    assert utxo_set(reorged) == utxo_set(clean)
    assert reorged.manifest.n_utxos == clean.manifest.n_utxos == len(utxo_set(clean))
    assert reorged.tip() == clean.tip() and reorged.tip()["height"] == 439
    # the Hal Finney tx (height 170) survives, the spends above the fork are gone
    assert reorged.tx("f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16")
    assert reorged.manifest.n_inputs == 1


def test_shorter_competing_branch_is_ignored(tmp_path: Path) -> None:
    blocks = read_blocks()
    (tmp_path / "stale.dat").write_bytes(blk_bytes(competing_branch(blocks, 430, 5)))
    store = ingest(tmp_path / "s", BLK_0_438)
    before = table_rows(store)
    report = ingest_paths(store, [tmp_path / "stale.dat"])
    assert report.blocks_added == 0 and report.stale_ignored == 5
    assert table_rows(store) == before


def test_block_with_unknown_parent_needs_allow_gaps(tmp_path: Path) -> None:
    blocks = read_blocks()
    (tmp_path / "late.dat").write_bytes(blk_bytes(blocks[300:]))
    store = ChainStore.open(tmp_path / "s", create=True)
    with pytest.raises(ValidationError, match="neither in the store nor in the input"):
        ingest_paths(store, [tmp_path / "late.dat"])
    report = ingest_paths(store, [tmp_path / "late.dat"], allow_gaps=True)
    assert report.blocks_added == 139
    assert store.manifest.gaps


def _dir_digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        h.update(str(p.relative_to(root)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


def test_failing_batch_is_not_committed_earlier_ones_are(tmp_path: Path) -> None:
    blocks = read_blocks()
    bad = bytearray(blocks[250])
    bad[-5] ^= 0xFF  # flips a byte of the last tx: merkle root no longer matches
    f = tmp_path / "bad.dat"
    f.write_bytes(blk_bytes(blocks[:250] + [bytes(bad)] + blocks[251:]))
    store = ChainStore.open(tmp_path / "s", create=True)
    with pytest.raises(ValidationError) as err:
        ingest_paths(store, [f], batch_blocks=100)
    assert str(f) in str(err.value) and "byte offset" in str(err.value)
    store.refresh()
    assert store.tip()["height"] == 199  # batches 0-99 and 100-199 committed; 200-299 not
    digest = _dir_digest(tmp_path / "s")
    with pytest.raises(ValidationError):
        ingest_paths(store, [f], batch_blocks=100)
    assert _dir_digest(tmp_path / "s") == digest


KILL_SCRIPT = """
import sys
from pathlib import Path
from chaintrail.jobs.ingest import ingest_paths
from chaintrail.store import ChainStore
store = ChainStore.open(sys.argv[1], create=True)
ingest_paths(store, [Path(sys.argv[2])], batch_blocks=4)
"""


def _manifest_generation(store_dir: Path) -> int:
    try:
        import json

        return json.loads((store_dir / "MANIFEST.json").read_text())["generation"]
    except (OSError, ValueError):
        return 0


@pytest.mark.slow
def test_sigkill_at_several_points_then_rerun_equals_clean_run(tmp_path: Path) -> None:
    clean = ingest(tmp_path / "clean", BLK_0_438, batch_blocks=4)
    killed_dir = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    kills = 0
    for target in (3, 33, 60, 90):  # generations to reach before SIGKILL (snapshot every 32)
        proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(killed_dir), str(BLK_0_438)], env=env)  # fmt: skip
        deadline = time.monotonic() + 120
        while proc.poll() is None and _manifest_generation(killed_dir) < target:
            assert time.monotonic() < deadline
            time.sleep(0.002)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
    assert kills >= 2
    store = ChainStore.open(killed_dir)
    assert store.manifest.n_blocks < 439 or kills < 4
    ingest_paths(store, [BLK_0_438], batch_blocks=4)
    assert table_rows(store) == table_rows(clean)
    assert utxo_set(store) == utxo_set(clean)
    assert store.address_ids(["1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"]).tolist() == [0]
    np.testing.assert_array_equal(store.arrays().out_spent_by, clean.arrays().out_spent_by)
