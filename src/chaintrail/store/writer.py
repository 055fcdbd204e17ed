"""The one writer of a store: appends resolved batches as segments, rolls back, snapshots maps.

Commit protocol (each step survives ``kill -9``): segment files are written into ``tmp/``,
fsynced, the directory renamed into ``segments/``; then MANIFEST.json is replaced atomically.
Segments are written by background threads while the next batch resolves; manifests are
published in batch order, so the committed store is always a prefix of the batches.
Only the manifest makes a segment visible, so a batch is wholly in the store or not at all.
Map snapshots are written every ``snapshot_every`` commits and on close; after a crash the
maps are rebuilt from the newest valid snapshot plus the later segments.
"""

from __future__ import annotations

import os
import shutil
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow as pa

from chaintrail.chains.model import BlockBatch, hash_to_hex
from chaintrail.errors import StoreError
from chaintrail.store import views
from chaintrail.store.layout import (
    Manifest,
    Segment,
    WriterLock,
    fsync_dir,
    read_manifest,
    remove_garbage,
    segment_dir,
    tmp_dir,
    write_json_atomic,
)
from chaintrail.store.maps import ChainMaps
from chaintrail.store.segments import (
    ResolvedBatch,
    build_tables,
    read_segment_table,
    write_tables,
)

MAX_COMMITS_IN_FLIGHT = 2


class StoreWriter:
    """Exclusive writer over a store directory (holds ``LOCK`` until :meth:`close`).

    :meth:`append` resolves a batch against the maps in the calling thread and hands the
    segment's Parquet writing and the manifest commit to background threads, so the next
    batch resolves while earlier ones are written. Up to ``MAX_COMMITS_IN_FLIGHT`` segments
    are written at once; their manifests are published strictly in order (a commit waits
    for the one before it). :attr:`manifest` is the last COMMITTED manifest; :meth:`flush`
    waits for the commits in flight (and raises the first error).
    """

    def __init__(self, root: Path, snapshot_every: int = 32, snapshot_seconds: float = 120.0):
        self.root = root
        self.lock = WriterLock(root)
        self.lock.acquire()
        try:
            self.manifest = read_manifest(root)
            remove_garbage(root, self.manifest)
            con = views.connect(root, self.manifest)
            try:
                self.maps = ChainMaps.load(root, self.manifest, con)
            finally:
                con.close()
        except BaseException:
            self.lock.release()
            raise
        self.snapshot_every = snapshot_every
        self.snapshot_seconds = snapshot_seconds
        self._since_snapshot = len(self.manifest.segments) - len(self.maps.segment_ids)
        self._last_snapshot = time.monotonic()
        self._poisoned = False
        self._planned = self.manifest  # manifest including the commit in flight
        self._pool = ThreadPoolExecutor(MAX_COMMITS_IN_FLIGHT, thread_name_prefix="commit")
        self._pending: deque[Future[None]] = deque()

    # ------------------------------------------------------------------ append
    def append(
        self, batch: BlockBatch, heights: np.ndarray, chainwork: int, allow_gaps: bool = False
    ) -> Manifest:
        """Commit ``batch`` (blocks in chain order with ``heights``) as one atomic segment.

        ``chainwork`` is the cumulative work at the batch's last block. Returns the manifest
        the batch will be committed as; the commit itself finishes in the background (see
        :meth:`flush`). On any error nothing of this batch is committed, the commit of the
        previous batch is waited for, and the writer must be closed (its maps are discarded).
        """
        if self._poisoned:
            self.flush(raise_errors=False)
            raise StoreError("the store writer failed earlier; reopen the store")
        m = self._planned
        self._poisoned = True  # until the commit succeeds, maps may be ahead of the store
        try:
            resolved = self.maps.resolve(batch, heights, m, allow_gaps)
        except BaseException:
            self.flush(raise_errors=False)
            raise
        seg = Segment(
            id=m.next_segment, n_blocks=batch.n_blocks,
            first_height=int(heights[0]), last_height=int(heights[-1]),
            tx_start=m.n_txs, n_txs=batch.n_txs, in_start=m.n_inputs,
            n_inputs=int(resolved.stored_in.shape[0]), out_start=m.n_outputs,
            n_outputs=batch.n_outputs, addr_start=m.n_addresses,
            n_addresses=int(resolved.new_addr_rows.shape[0]),
        )  # fmt: skip
        new = replace(
            m,
            generation=m.generation + 1,
            next_segment=m.next_segment + 1,
            segments=[*m.segments, seg],
            n_blocks=m.n_blocks + seg.n_blocks,
            n_txs=m.n_txs + seg.n_txs,
            n_inputs=m.n_inputs + seg.n_inputs,
            n_outputs=m.n_outputs + seg.n_outputs,
            n_addresses=m.n_addresses + seg.n_addresses,
            n_utxos=self.maps.n_utxos,
            tip_height=int(heights[-1]),
            tip_hash=hash_to_hex(batch.block_hash[-1]),
            tip_chainwork=str(chainwork),
            gaps=m.gaps or allow_gaps,
        )
        if len(self._pending) >= MAX_COMMITS_IN_FLIGHT:
            self._wait_oldest(raise_errors=True)
        before = self._pending[-1] if self._pending else None
        self._pending.append(
            self._pool.submit(self._commit_resolved, new, seg.name, resolved, before)
        )
        self._planned = new
        self.maps.segment_ids.append(seg.id)
        self._poisoned = False
        self._since_snapshot += 1
        if (
            self._since_snapshot >= self.snapshot_every
            or time.monotonic() - self._last_snapshot > self.snapshot_seconds
        ):
            self.snapshot()
        return new

    def flush(self, raise_errors: bool = True) -> None:
        """Wait for the commits in flight; if one failed, poison the writer and raise its error."""
        while self._pending:
            self._wait_oldest(raise_errors)

    def _wait_oldest(self, raise_errors: bool) -> None:
        exc = self._pending.popleft().exception()
        if exc is not None:
            self._poisoned = True
            self._planned = self.manifest
            if raise_errors:
                self.flush(raise_errors=False)
                raise exc

    def _commit_resolved(
        self, new: Manifest, name: str, resolved: ResolvedBatch, before: Future[None] | None
    ) -> None:
        """Write a segment, then (after the previous commit succeeded) publish its manifest."""
        self._write_segment(name, build_tables(resolved))
        if before is not None and before.exception() is not None:
            raise StoreError(f"segment {name} not committed: the commit before it failed")
        self._publish(new)

    def _write_segment(self, name: str, tables: dict[str, pa.Table]) -> None:
        seg_root = self.root / "segments"
        seg_root.mkdir(exist_ok=True)
        work = tmp_dir(self.root) / name
        shutil.rmtree(work, ignore_errors=True)
        write_tables(tables, work)
        fsync_dir(work)
        os.replace(work, seg_root / name)
        fsync_dir(seg_root)

    def _publish(self, new: Manifest) -> None:
        """Make ``new`` the committed manifest; drop segments it no longer lists."""
        write_json_atomic(self.root / "MANIFEST.json", new.to_json())
        old = self.manifest
        self.manifest = new
        live = {s.name for s in new.segments}
        for s in old.segments:
            if s.name not in live:
                shutil.rmtree(segment_dir(self.root, s), ignore_errors=True)

    # ------------------------------------------------------------------ rollback
    def rollback_to(self, height: int, chainwork: int, tip_hash: str) -> Manifest:
        """Remove every block above ``height`` (committed atomically) and undo its map effects.

        ``chainwork``/``tip_hash`` describe the block at ``height``, the new tip.
        """
        self.flush()
        if self._poisoned:
            raise StoreError("the store writer failed earlier; reopen the store")
        m = self.manifest
        keep_segs: list[Segment] = []
        rewrite: dict[str, dict[str, pa.Table]] = {}
        next_id = m.next_segment
        for seg in m.segments:
            if seg.last_height <= height:
                keep_segs.append(seg)
            elif seg.first_height <= height:
                cut, tables = self._truncate(seg, height, next_id)
                next_id += 1
                keep_segs.append(cut)
                rewrite[cut.name] = tables
        last = keep_segs[-1] if keep_segs else None

        def end(start: str, n: str) -> int:
            return getattr(last, start) + getattr(last, n) if last else 0

        keep = replace(
            m,
            generation=m.generation + 1,
            next_segment=next_id,
            segments=keep_segs,
            n_blocks=sum(s.n_blocks for s in keep_segs),
            n_txs=end("tx_start", "n_txs"),
            n_inputs=end("in_start", "n_inputs"),
            n_outputs=end("out_start", "n_outputs"),
            n_addresses=end("addr_start", "n_addresses"),
            tip_height=height,
            tip_hash=tip_hash,
            tip_chainwork=str(chainwork),
        )
        self._poisoned = True
        old_con = views.connect(self.root, m)
        try:
            self.maps.rollback(old_con, keep, m)
        finally:
            old_con.close()
        keep.n_utxos = self.maps.n_utxos
        for name, tables in rewrite.items():
            self._write_segment(name, tables)
        self._publish(keep)
        self._planned = keep
        self._poisoned = False
        self.snapshot()
        return keep

    def _truncate(self, seg: Segment, height: int, new_id: int) -> tuple[Segment, dict]:
        d = segment_dir(self.root, seg)
        tables = {t: read_segment_table(d, t) for t in ("blocks", "txs", "inputs", "outputs")}
        blocks = tables["blocks"].filter(pa.compute.less_equal(tables["blocks"]["height"], height))
        n_tx = int(pa.compute.sum(blocks["tx_count"]).as_py() or 0)
        tx_end = seg.tx_start + n_tx
        txs = tables["txs"].slice(0, n_tx)
        n_in = int(pa.compute.sum(txs["n_in"]).as_py() or 0)
        n_out = int(pa.compute.sum(txs["n_out"]).as_py() or 0)
        addrs = read_segment_table(d, "addresses")
        n_addr = int(
            pa.compute.sum(pa.compute.less_equal(addrs["first_seen_height"], height)).as_py() or 0
        )
        out = {
            "blocks": blocks,
            "txs": txs,
            "inputs": tables["inputs"].slice(0, n_in),
            "outputs": tables["outputs"].slice(0, n_out),
            "addresses": addrs.slice(0, n_addr),
        }
        assert tx_end == seg.tx_start + txs.num_rows
        cut = replace(
            seg, id=new_id, n_blocks=blocks.num_rows, last_height=height, n_txs=n_tx,
            n_inputs=n_in, n_outputs=n_out, n_addresses=n_addr,
        )  # fmt: skip
        return cut, out

    # ------------------------------------------------------------------ lifecycle
    def snapshot(self) -> None:
        """Persist the maps for the current generation (skipped while poisoned)."""
        self.flush()
        if self._poisoned:
            return
        self.maps.save(self.root, self.manifest.generation)
        self._since_snapshot = 0
        self._last_snapshot = time.monotonic()

    def close(self, snapshot: bool = True) -> None:
        """Wait for the commit in flight, snapshot the maps (if consistent and asked) and
        release the lock. Raises the in-flight commit's error when ``snapshot`` is asked."""
        try:
            self.flush(raise_errors=snapshot)
            if snapshot and self._since_snapshot:
                self.snapshot()
        finally:
            self._pool.shutdown(wait=True)
            shutil.rmtree(self.root / "tmp", ignore_errors=True)
            self.lock.release()

    def __enter__(self) -> StoreWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:  # type: ignore[no-untyped-def]
        self.close(snapshot=exc_type is None)
