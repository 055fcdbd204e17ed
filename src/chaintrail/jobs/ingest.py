"""The ingest job: read blocks from files or a node, put them in chain order, commit in batches.

Each batch (about ``batch_bytes`` of serialized blocks) is decoded, resolved against the
address map and UTXO set, and committed as one atomic segment; a failing batch is never
committed, batches before it in the same run stay committed. Rerunning skips blocks already
in the store, so a crashed run resumes. A branch with more work than the store's tip that
forks below the tip rolls the store back to the fork point first (reorg).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chaintrail.chains.model import BlockBatch, hash_to_hex
from chaintrail.jobs.chain_order import (
    ChainPlan,
    HeaderItem,
    StoreChain,
    block_work,
    plan_chain,
)
from chaintrail.jobs.ingest_sources import collect_items, gap_heights, item_bytes, load_batch
from chaintrail.kernels import compile_clock
from chaintrail.store import ChainStore

DEFAULT_BATCH_BYTES = 48 << 20  # small enough that decode, resolve and writing overlap well
Progress = Callable[[int, int, int], None]  # (blocks done, blocks total, txs done)


@dataclass
class IngestReport:
    """What one ingest run did."""

    blocks_added: int = 0
    txs_added: int = 0
    skipped_known: int = 0
    stale_ignored: int = 0
    reorg_fork_height: int | None = None
    blocks_rolled_back: int = 0
    seconds: float = 0.0  # wall time of the whole run
    compile_seconds: float = 0.0  # of which numba start-up and kernel compilation (not throughput)
    tip_height: int | None = None
    tip_hash: str | None = None

    def to_json(self) -> dict[str, object]:
        """JSON-ready dict."""
        return dict(self.__dict__)


def store_chain(store: ChainStore) -> StoreChain:
    """Heights of every stored block and a cumulative-work function, for the planner."""
    con = store.con()
    rows = con.execute("SELECT hash, height FROM blocks").fetchall()
    height_of = {bytes(h)[::-1]: int(height) for h, height in rows}
    m = store.manifest
    tip_work = int(m.tip_chainwork)

    def work_at(height: int) -> int:
        bits = con.execute("SELECT bits FROM blocks WHERE height > ?", [height]).fetchall()
        return tip_work - sum(block_work(int(b)) for (b,) in bits)

    tip = bytes.fromhex(m.tip_hash)[::-1] if m.tip_hash else None
    return StoreChain(m.tip_height, tip, tip_work, height_of, work_at)


def _groups(
    items: Sequence[HeaderItem], batch_bytes: int, batch_blocks: int | None
) -> Iterator[tuple[int, int]]:
    start, size = 0, 0
    for i, it in enumerate(items):
        size += item_bytes(it)
        if size >= batch_bytes or (batch_blocks and i + 1 - start >= batch_blocks):
            yield start, i + 1
            start, size = i + 1, 0
    if start < len(items):
        yield start, len(items)


def ingest_paths(
    store: ChainStore,
    paths: Sequence[Path],
    *,
    allow_gaps: bool = False,
    batch_bytes: int = DEFAULT_BATCH_BYTES,
    batch_blocks: int | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    """Ingest every block found in ``paths`` (blk dirs/files, raw/hex blocks, saved RPC JSON).

    Input errors (bad bytes, merkle mismatch, unknown parent or spent output) raise an
    InputError naming file and offset; batches committed before the error stay committed.
    """
    started = time.monotonic()
    items = collect_items(paths)
    report = IngestReport()
    with compile_clock() as clock, store.writer() as writer:
        store.refresh()
        if allow_gaps:
            _ingest_gaps(store, writer, items, report, batch_bytes, batch_blocks, progress)
        else:
            plan = plan_chain(items, store_chain(store))
            report.skipped_known, report.stale_ignored = plan.skipped_known, plan.stale
            if plan.fork_height is not None:
                report.reorg_fork_height = plan.fork_height
                report.blocks_rolled_back = store.manifest.tip_height - plan.fork_height
                writer.rollback_to(plan.fork_height, plan.fork_work, plan.fork_hash)
            _apply_plan(writer, plan, report, batch_bytes, batch_blocks, progress)
    store.refresh()
    report.seconds = time.monotonic() - started
    report.compile_seconds = min(clock.seconds, report.seconds)
    tip = store.tip()
    report.tip_height, report.tip_hash = (tip["height"], tip["hash"]) if tip else (None, None)
    return report


def _prefetched(items: Sequence[HeaderItem], groups: list[tuple[int, int]]) -> Iterator[tuple[int, int, BlockBatch]]:  # fmt: skip
    """Decode the next batch in a worker thread while the current one is committed."""
    if not groups:
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="decode") as pool:
        future = pool.submit(load_batch, items[groups[0][0] : groups[0][1]])
        for k, (a, b) in enumerate(groups):
            batch = future.result()
            if k + 1 < len(groups):
                na, nb = groups[k + 1]
                future = pool.submit(load_batch, items[na:nb])
            yield a, b, batch


def _apply_plan(writer, plan: ChainPlan, report: IngestReport, batch_bytes: int,  # type: ignore[no-untyped-def]
                batch_blocks: int | None, progress: Progress | None) -> None:  # fmt: skip
    groups = list(_groups(plan.items, batch_bytes, batch_blocks))
    total = len(plan.items)
    for a, b, batch in _prefetched(plan.items, groups):
        heights = np.asarray(plan.heights[a:b], np.int32)
        writer.append(batch, heights, plan.works[b - 1])
        report.blocks_added += batch.n_blocks
        report.txs_added += batch.n_txs
        if progress:
            progress(report.blocks_added, total, report.txs_added)


def _ingest_gaps(store, writer, items, report, batch_bytes, batch_blocks, progress) -> None:  # type: ignore[no-untyped-def]
    height_of = store_chain(store).height_of
    fresh: dict[bytes, HeaderItem] = {}
    for it in items:
        if it.hash in height_of:
            report.skipped_known += 1
        else:
            fresh.setdefault(it.hash, it)
    todo = list(fresh.values())
    groups = list(_groups(todo, batch_bytes, batch_blocks))
    for _a, _b, batch in _prefetched(todo, groups):
        heights = gap_heights(batch, height_of)
        writer.append(batch, heights, 0, allow_gaps=True)
        report.blocks_added += batch.n_blocks
        report.txs_added += batch.n_txs
        if progress:
            progress(report.blocks_added, len(todo), report.txs_added)


def describe(report: IngestReport) -> str:
    """One human line summarising a run."""
    work = report.seconds - report.compile_seconds
    rate = report.txs_added / work if work > 0 else 0.0
    parts = [f"{report.blocks_added:,} blocks, {report.txs_added:,} txs in {work:.1f} s"
             f" ({rate:,.0f} tx/s)"]  # fmt: skip
    if report.compile_seconds >= 0.05:
        parts.append(f"plus {report.compile_seconds:.1f} s starting numba and compiling its kernels"
                     " (cached on disk after the first run)")  # fmt: skip
    if report.skipped_known:
        parts.append(f"{report.skipped_known:,} already stored")
    if report.stale_ignored:
        parts.append(f"{report.stale_ignored:,} stale ignored")
    if report.reorg_fork_height is not None:
        parts.append(f"reorg: rolled back {report.blocks_rolled_back} blocks to "
                     f"height {report.reorg_fork_height}")  # fmt: skip
    if report.tip_hash:
        parts.append(f"tip {report.tip_height} {report.tip_hash}")
    return "; ".join(parts)


__all__ = ["IngestReport", "describe", "hash_to_hex", "ingest_paths", "store_chain"]
