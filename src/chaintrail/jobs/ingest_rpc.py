"""Ingest from a live Bitcoin Core node over JSON-RPC, resuming from the store's tip.

If the node's block at the store's tip height differs from ours, the node reorganised: walk
back to the highest height where both agree, roll the store back there, then fetch forward.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from chaintrail.chains.model import hash_to_hex
from chaintrail.errors import RemoteError, UsageError
from chaintrail.jobs.chain_order import block_work
from chaintrail.jobs.ingest import IngestReport, Progress, store_chain
from chaintrail.kernels import compile_clock
from chaintrail.store import ChainStore


def ingest_from_node(
    store: ChainStore,
    url: str,
    *,
    user: str | None = None,
    password: str | None = None,
    cookie_file: Path | None = None,
    from_height: int | None = None,
    to_height: int | None = None,
    allow_gaps: bool = False,
    progress: Progress | None = None,
    heights_per_batch: int = 500,
) -> IngestReport:
    """Fetch blocks ``[start, to_height]`` from the node and commit them batch by batch.

    ``start`` is the block after the store's tip (``from_height`` must equal it unless
    ``allow_gaps``). A refusing node raises RemoteError naming the URL.
    """
    from chaintrail.chains.bitcoin.rpc import fetch_blocks
    from chaintrail.chains.bitcoin.rpc_client import RpcClient

    started = time.monotonic()
    report = IngestReport()
    with compile_clock() as clock, RpcClient(url, user=user, password=password,
                                             cookie_file=cookie_file) as client:  # fmt: skip
        with store.writer() as writer:
            store.refresh()
            m = store.manifest
            node_tip = int(client.getblockcount())
            end = node_tip if to_height is None else min(int(to_height), node_tip)
            chain = store_chain(store)
            next_height = m.tip_height + 1
            work = chain.tip_work
            if m.tip_hash is not None and not allow_gaps:
                fork = _common_height(store, client, m.tip_height)
                if fork < m.tip_height:
                    fork_hash = client.getblockhash(fork) if fork >= 0 else None
                    report.reorg_fork_height = fork
                    report.blocks_rolled_back = m.tip_height - fork
                    work = chain.work_at(fork)
                    writer.rollback_to(fork, work, fork_hash)
                    next_height = fork + 1
            start = next_height if from_height is None else int(from_height)
            if start != next_height and not allow_gaps:
                raise UsageError(
                    f"--from-height {start} leaves a gap after the store's tip {next_height - 1} "
                    "(use --allow-gaps to ingest it out of context)"
                )
            prev_hash = writer.manifest.tip_hash
            total = max(0, end - start + 1)
            for lo in range(start, end + 1, heights_per_batch):
                heights = np.arange(lo, min(end, lo + heights_per_batch - 1) + 1, dtype=np.int32)
                batch = fetch_blocks(client, heights.tolist())
                if not allow_gaps and prev_hash is not None:
                    if hash_to_hex(batch.block_prev_hash[0]) != prev_hash:
                        raise RemoteError(f"{url}: the node's chain changed during ingest; rerun")
                for bits in batch.block_bits.tolist():
                    work += block_work(int(bits))
                writer.append(batch, heights, work, allow_gaps=allow_gaps)
                prev_hash = hash_to_hex(batch.block_hash[-1])
                report.blocks_added += batch.n_blocks
                report.txs_added += batch.n_txs
                if progress:
                    progress(report.blocks_added, total, report.txs_added)
    store.refresh()
    report.seconds = time.monotonic() - started
    report.compile_seconds = min(clock.seconds, report.seconds)
    tip = store.tip()
    report.tip_height, report.tip_hash = (tip["height"], tip["hash"]) if tip else (None, None)
    return report


def _common_height(store: ChainStore, client, tip_height: int) -> int:  # type: ignore[no-untyped-def]
    """Highest height where the node's block hash equals the store's (-1 if none)."""
    con = store.con()
    h = tip_height
    while h >= 0:
        ours = con.execute("SELECT lower(hex(hash)) FROM blocks WHERE height = ?", [h]).fetchone()
        if ours is not None and client.getblockhash(h) == ours[0]:
            return h
        h -= 1
    return -1
