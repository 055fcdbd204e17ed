"""Keep a store level with a live source: a Bitcoin Core node over RPC, or a growing blocks dir.

A :class:`Follower` holds the store's one writer for its whole life (the address map and UTXO
set stay in memory, so each new block costs only itself) and offers, per :meth:`sync`, the
blocks committed and the fork height of a reorg it rolled back. Blocks go through the ingest
path: decoded, resolved against the maps, committed as one atomic segment each while live (in
batches while catching up). The node is asked the documented Core RPC: ``getblockchaininfo``
(its network), ``getbestblockhash``, ``getblockhash``, ``getblock HASH 0``, ``getrawmempool``,
``getrawtransaction TXID false``.

The follower also answers the monitor's questions about the chain as committed (address ids and
keys, unspent outputs), from the same maps.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from chaintrail.chains.bitcoin.rawtx import spent_outpoints
from chaintrail.chains.bitcoin.rpc import fetch_raw_blocks
from chaintrail.chains.bitcoin.rpc_client import RpcClient
from chaintrail.chains.model import hash_to_hex
from chaintrail.errors import RemoteError, UsageError
from chaintrail.jobs.chain_order import block_work
from chaintrail.jobs.ingest import IngestReport, apply_items, store_chain
from chaintrail.jobs.ingest_rpc import common_height
from chaintrail.jobs.ingest_sources import collect_items
from chaintrail.store import ChainStore

CATCH_UP_HEIGHTS = 200  # blocks fetched and committed together while far behind
NETWORK = "main"  # chaintrail reads mainnet addresses


@dataclass
class SyncResult:
    """What one :meth:`Follower.sync` changed in the store."""

    fork_height: int | None = None  # a reorg rolled the store back to here first
    first_height: int | None = None  # new blocks ``first..last`` (None: none)
    last_height: int | None = None
    txs: int = 0
    seconds: float = 0.0


@dataclass
class MempoolTx:
    """An unconfirmed transaction: its txid and what it spends."""

    txid: str
    spends: list[tuple[bytes, int]]  # (prev txid internal order, vout)


@dataclass
class Follower:
    """One store following one source (``rpc_url`` or ``blocks_dir``)."""

    store: ChainStore
    rpc_url: str | None = None
    blocks_dir: Path | None = None
    auth: dict[str, Any] = field(default_factory=dict)  # user/password/cookie_file
    catch_up_heights: int = CATCH_UP_HEIGHTS
    timeout: float = 30.0

    def __post_init__(self) -> None:
        if (self.rpc_url is None) == (self.blocks_dir is None):
            raise UsageError("follow needs either --rpc URL or --blocks-dir DIR")
        self.client = RpcClient(self.rpc_url, timeout=self.timeout, **self.auth) if self.rpc_url else None  # fmt: skip
        self.writer = self.store.writer(snapshot_every=256, snapshot_seconds=1800.0)
        self.store.refresh()
        self._mempool_seen: set[str] = set()
        self._dir_stamp: tuple[tuple[str, int], ...] = ()

    # ------------------------------------------------------------------ the node
    def check_node(self) -> dict[str, Any]:
        """The node's ``getblockchaininfo``; RemoteError if it is on another network."""
        assert self.client is not None
        info = self.client.call("getblockchaininfo")
        chain = info.get("chain") if isinstance(info, dict) else None
        if chain != NETWORK:
            raise RemoteError(
                f"{self.client.url}: the node follows {chain!r}, chaintrail reads Bitcoin mainnet ({NETWORK!r})"
            )
        return info  # type: ignore[no-any-return]

    def sync(self) -> SyncResult:
        """Commit whatever the source has beyond the store's tip (rolling back a reorg first)."""
        started = time.monotonic()
        result = self._sync_node() if self.client is not None else self._sync_dir()
        result.seconds = time.monotonic() - started
        self.store.refresh()
        return result

    def _sync_node(self) -> SyncResult:
        client = self.client
        assert client is not None
        result = SyncResult()
        m = self.writer.manifest
        best = str(client.call("getbestblockhash"))
        if best == m.tip_hash:
            return result
        node_tip = int(client.getblockcount())
        chain = store_chain(self.store)
        work = chain.tip_work
        if m.tip_hash is not None:
            fork = common_height(self.store, client, min(m.tip_height, node_tip))
            if fork < m.tip_height:
                fork_hash = client.getblockhash(fork) if fork >= 0 else None
                work = chain.work_at(fork)
                self.writer.rollback_to(fork, work, fork_hash)
                self.store.refresh()
                result.fork_height = fork
        start = self.writer.manifest.tip_height + 1
        prev = self.writer.manifest.tip_hash
        for lo in range(start, node_tip + 1, self.catch_up_heights):
            heights = list(range(lo, min(node_tip, lo + self.catch_up_heights - 1) + 1))
            batch = fetch_raw_blocks(client, heights)
            if prev is not None and hash_to_hex(batch.block_prev_hash[0]) != prev:
                break  # the node reorganised while we fetched: the next sync walks back
            for bits in batch.block_bits.tolist():
                work += block_work(int(bits))
            self.writer.append(batch, np.asarray(heights, np.int32), work)
            self.writer.flush()
            prev = hash_to_hex(batch.block_hash[-1])
            result.first_height = heights[0] if result.first_height is None else result.first_height
            result.last_height = heights[-1]
            result.txs += batch.n_txs
        return result

    def _sync_dir(self) -> SyncResult:
        assert self.blocks_dir is not None
        files = sorted(self.blocks_dir.glob("blk*.dat"))
        stamp = tuple((f.name, f.stat().st_size) for f in files)
        result = SyncResult()
        if stamp == self._dir_stamp:
            return result
        before = self.writer.manifest.tip_height
        report = IngestReport()
        self.store.refresh()
        apply_items(self.store, self.writer, collect_items([self.blocks_dir]), report)
        self.writer.flush()
        self._dir_stamp = stamp
        result.fork_height = report.reorg_fork_height
        if report.blocks_added:
            tip = self.writer.manifest.tip_height
            result.first_height = tip - report.blocks_added + 1
            result.last_height = tip
            result.txs = report.txs_added
        elif report.reorg_fork_height is None and self.writer.manifest.tip_height != before:
            result.fork_height = self.writer.manifest.tip_height
        return result

    # ------------------------------------------------------------------ the mempool
    def new_mempool_txs(self) -> list[MempoolTx]:
        """Transactions that entered the node's mempool since the last call."""
        if self.client is None:
            return []
        txids = [str(t) for t in self.client.call("getrawmempool")]
        current = set(txids)
        fresh = [t for t in txids if t not in self._mempool_seen]
        self._mempool_seen = current
        out: list[MempoolTx] = []
        for i in range(0, len(fresh), 200):
            chunk = fresh[i : i + 200]
            raws = self.client.batch([("getrawtransaction", [t, False]) for t in chunk])
            for t, raw in zip(chunk, raws, strict=True):
                out.append(self.mempool_tx(bytes.fromhex(raw), f"{self.client.url} getrawtransaction {t}"))
        return out

    @staticmethod
    def mempool_tx(raw: bytes, source: str) -> MempoolTx:
        """A raw transaction (from RPC or ZMQ ``rawtx``) as a :class:`MempoolTx`."""
        txid, spends = spent_outpoints(raw, source)
        return MempoolTx(txid, spends)

    # ------------------------------------------------------------------ lookups (Resolver)
    def address_ids(self, keys: np.ndarray) -> np.ndarray:
        """Ids of (n,33) address keys, -1 where the store has not seen them."""
        return self.writer.maps.addr.lookup(keys)

    def address_keys(self, ids: np.ndarray) -> np.ndarray:
        """(n,33) keys of address ids."""
        return self.writer.maps.addr.keys_of(ids)

    def unspent(self, txids: np.ndarray, vouts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
        """(out id, value, address id) of unspent outpoints, -1 where not unspent."""
        return self.writer.maps.unspent(txids, vouts)

    @property
    def n_addresses(self) -> int:
        """Addresses in the committed store."""
        return self.writer.maps.n_addresses

    def close(self) -> None:
        """Release the writer (snapshotting the maps) and the node connection."""
        try:
            self.writer.close()
        finally:
            if self.client is not None:
                self.client.close()
