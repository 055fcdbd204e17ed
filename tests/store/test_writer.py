"""StoreWriter: background commits publish in order; a failed background write commits nothing
after it, surfaces as an error, and the next run completes the store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from chaintrail.chains.bitcoin.decode import decode_blocks
from chaintrail.jobs.ingest import ingest_paths
from chaintrail.store import ChainStore

BLK_0_438 = Path(__file__).resolve().parents[1] / "data" / "btc" / "blk_mainnet_blocks_0-438.dat"


def read_blocks() -> list[bytes]:
    """The serialized blocks of blocks 0-438, in chain order."""
    from chaintrail.chains.bitcoin.blkfiles import read_blocks as read
    from chaintrail.chains.bitcoin.blkfiles import scan_blk_file

    return [blob for blob, _, _ in read(scan_blk_file(BLK_0_438))]


def _batches(n_batches: int, size: int) -> list[tuple]:
    blocks = read_blocks()
    out = []
    for k in range(n_batches):
        lo, hi = k * size, (k + 1) * size
        batch = decode_blocks([(b, "blk", i) for i, b in enumerate(blocks[lo:hi], lo)])
        out.append((batch, np.arange(lo, hi, dtype=np.int32)))
    return out


def test_background_commits_publish_every_batch_in_order(tmp_path: Path) -> None:
    store = ChainStore.open(tmp_path / "s", create=True)
    with store.writer() as w:
        planned = [w.append(b, h, int(h[-1])) for b, h in _batches(4, 50)]
        w.flush()
        assert w.manifest == planned[-1]
    store.refresh()
    assert store.tip()["height"] == 199
    assert [s.first_height for s in store.manifest.segments] == [0, 50, 100, 150]
    heights = store.con().execute("SELECT height FROM blocks ORDER BY height").fetchnumpy()
    assert heights["height"].tolist() == list(range(200))


def test_failed_background_write_commits_nothing_after_it(tmp_path: Path) -> None:
    store = ChainStore.open(tmp_path / "s", create=True)
    batches = _batches(4, 50)
    with pytest.raises(OSError), store.writer() as w:
        w.append(*batches[0], 1)
        w.flush()
        # the second segment's final path is taken by a file: its rename fails in the thread
        (tmp_path / "s" / "segments" / f"s{w.manifest.next_segment:08d}").write_text("x")
        for b, h in batches[1:]:
            w.append(b, h, int(h[-1]))
    store.refresh()
    assert store.tip()["height"] == 49  # batch 1 committed; 2 failed; 3 and 4 never published
    (tmp_path / "s" / "segments" / "s00000002").unlink()
    report = ingest_paths(store, [BLK_0_438])
    assert report.skipped_known == 50 and store.tip()["height"] == 438
