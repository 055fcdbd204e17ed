"""The loop behind ``chaintrail follow``: sync the store, evaluate each committed block, record
alerts with the block in one hub transaction, retract on reorgs, watch the mempool.

Position: the hub's ``monitor_blocks`` say which blocks were evaluated. On start the monitor
first reconciles them with the store (alerts of processed blocks the store no longer has are
retracted) and evaluates every stored block after them, so a restart after ``kill -9`` resumes
exactly where the last committed transaction left off. The very first start takes the store's
tip as its starting point (``--from-height`` evaluates earlier blocks too).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import select

from chaintrail.analysis.cluster_live import LiveClusters
from chaintrail.errors import RemoteError
from chaintrail.hub.db import Hub
from chaintrail.hub.models import Alert, MonitorTaint
from chaintrail.hub.monitor.evaluate import AlertDraft, BlockContext, BlockEvaluator, alert_key
from chaintrail.hub.monitor.index import load_index
from chaintrail.hub.monitor.outbox import (
    processed_hash,
    processed_tip,
    record_blocks,
    retract_above,
    store_drafts,
)
from chaintrail.hub.monitor.rules import watch_version
from chaintrail.hub.monitor.taint import TaintBook, TaintedOutput
from chaintrail.jobs.follow import Follower, MempoolTx, SyncResult
from chaintrail.store.blockview import read_blocks

log = logging.getLogger("chaintrail.follow")
MAX_VIEW_TXS = 100_000  # blocks evaluated together while catching up
AlertSink = Callable[[Alert], None]


@dataclass
class MonitorStats:
    """What the monitor did so far (for the CLI's summary and the benchmark)."""

    blocks: int = 0
    txs: int = 0
    alerts: int = 0
    retractions: int = 0
    pending: int = 0
    latencies: list[float] = field(default_factory=list)  # seconds from commit to alert stored


class Monitor:
    """Evaluates what a :class:`Follower` commits against the hub's rules."""

    def __init__(self, hub: Hub, follower: Follower, *, on_alert: AlertSink | None = None,
                 from_height: int | None = None, cluster_every: int = 6) -> None:  # fmt: skip
        self.hub, self.follower = hub, follower
        self.on_alert = on_alert or (lambda a: None)
        self.cluster_every = cluster_every
        self.stats = MonitorStats()
        self._load_state()
        self._reconcile(from_height)

    # ------------------------------------------------------------------ state
    def _load_state(self) -> None:
        store = self.follower.store
        self.clusters = LiveClusters.load(store)
        self.taint = TaintBook()
        with self.hub.transaction() as s:
            for r, o, f, h in s.execute(
                select(MonitorTaint.rule_id, MonitorTaint.out_id, MonitorTaint.fraction, MonitorTaint.hops)
                .where(MonitorTaint.spent_height.is_(None))
            ).all():  # fmt: skip
                self.taint.by_rule.setdefault(int(r), {})[int(o)] = TaintedOutput(float(f), int(h))
            self.index = load_index(s, self.follower, watch_version(s))
        rows = store.con().execute("SELECT first_out_id FROM blocks ORDER BY height").fetchnumpy()
        self.first_out = np.asarray(rows["first_out_id"], np.int64)
        self.evaluator = BlockEvaluator(self.index, BlockContext(self.follower, self.clusters, self.taint, self.first_out))  # fmt: skip

    def reload_rules_if_changed(self) -> bool:
        """Re-read the rules when ``watch_version`` moved; True if it did."""
        with self.hub.transaction() as s:
            version = watch_version(s)
            if version == self.index.version:
                return False
            self.index = load_index(s, self.follower, version)
        self.evaluator.index = self.index
        return True

    def _stored_hash(self, height: int) -> str | None:
        row = self.follower.store.con().execute(
            "SELECT lower(hex(hash)) FROM blocks WHERE height = ?", [height]
        ).fetchone()
        return str(row[0]) if row else None

    def _reconcile(self, from_height: int | None) -> None:
        """Retract processed blocks the store lost; set the starting point on first use."""
        store = self.follower.store
        with self.hub.transaction() as s:
            tip = processed_tip(s)
            if tip is None:
                start = store.manifest.tip_height if from_height is None else from_height - 1
                if start >= 0:
                    record_blocks(s, [(start, self._stored_hash(start) or "")], [], [], [])
                return
            h = min(tip[0], store.manifest.tip_height)
            while h >= 0 and processed_hash(s, h) not in (None, self._stored_hash(h)):
                h -= 1
        if h < tip[0]:
            self.retract(h, "the store no longer holds these blocks")

    # ------------------------------------------------------------------ blocks
    def retract(self, fork_height: int, reason: str) -> list[Alert]:
        """Retract alerts above ``fork_height`` and rebuild the state the reorg invalidated."""
        with self.hub.transaction() as s:
            events = retract_above(s, fork_height, reason)
        for e in events:
            self.on_alert(e)
        self.stats.retractions += len(events)
        self._load_state()
        return events

    def process_new(self) -> int:
        """Evaluate every stored block after the processed tip; returns how many."""
        store = self.follower.store
        with self.hub.transaction() as s:
            tip = processed_tip(s)
        lo = (tip[0] + 1) if tip else 0
        done = 0
        while lo <= store.manifest.tip_height:
            hi = self._chunk_end(lo)
            self._process(lo, hi)
            done += hi - lo + 1
            lo = hi + 1
        if done and self.cluster_every and self.clusters.blocks_since_persist >= self.cluster_every:
            self.clusters = self.clusters.persist(store)
            self.evaluator.ctx.clusters = self.clusters
        return done

    def _chunk_end(self, lo: int) -> int:
        store = self.follower.store
        tip = store.manifest.tip_height
        if tip - lo < 1:
            return tip
        row = store.con().execute(
            "SELECT max(height) FROM blocks WHERE height >= ? AND first_tx_id + tx_count <= "
            "(SELECT first_tx_id FROM blocks WHERE height = ?) + ?", [lo, lo, MAX_VIEW_TXS]
        ).fetchone()  # fmt: skip
        return max(lo, min(tip, int(row[0]) if row and row[0] is not None else lo))

    def _process(self, lo: int, hi: int) -> None:
        t0 = time.monotonic()
        view = read_blocks(self.follower.store, lo, hi)
        a = view.arrays
        block_first_out = view.out_base + a.tx_out_start[view.block_tx_start] if view.n_txs else np.zeros(0, np.int64)  # fmt: skip
        self.first_out = np.concatenate([self.first_out[:lo], block_first_out.astype(np.int64)])
        self.evaluator.ctx.first_out_of_height = self.first_out
        drafts = self.evaluator.evaluate(view)
        added, spent = self.taint.take_changes()
        blocks = list(zip(view.heights.tolist(), view.hashes, strict=True))
        with self.hub.transaction() as s:
            stored = record_blocks(s, blocks, drafts, added, spent)
        self.stats.latencies.append(time.monotonic() - t0)
        self.stats.blocks += len(blocks)
        self.stats.txs += view.n_txs
        self.stats.alerts += len(stored)
        for a_ in stored:
            self.on_alert(a_)

    def apply_sync(self, result: SyncResult) -> None:
        """React to one sync: retract a reorg's orphaned alerts, evaluate the new blocks."""
        if result.fork_height is not None:
            self.retract(result.fork_height, f"reorganisation: blocks above height {result.fork_height} left the best chain")  # fmt: skip
        self.process_new()

    # ------------------------------------------------------------------ mempool
    def check_mempool(self, txs: list[MempoolTx]) -> list[Alert]:
        """``pending`` alerts for unconfirmed transactions spending watched outputs."""
        idx = self.index
        if not txs or not idx.rules:
            return []
        drafts: list[AlertDraft] = []
        src_cl: dict[int, set[int]] = {}
        for (rule, role, _), cid in zip(idx.clusters, self.clusters.cluster_ids(idx.cluster_members).tolist(), strict=True):  # fmt: skip
            if role == "source":
                src_cl.setdefault(cid, set()).add(rule)
        for tx in txs:
            if not tx.spends:
                continue
            txids = np.array([np.frombuffer(p, np.uint8) for p, _ in tx.spends])
            out, value, addr = self.follower.unspent(txids, np.array([v for _, v in tx.spends], np.uint32))
            cl = self.clusters.cluster_ids(addr)
            hit: dict[int, int] = {}
            for o, v, ad, c in zip(out.tolist(), value.tolist(), addr.tolist(), cl.tolist(), strict=True):
                if o < 0:
                    continue
                for r in idx.addr.get(ad, set()) | idx.outs.get(o, set()) | src_cl.get(c, set()):
                    if idx.rules[r].kind == "movement":
                        hit[r] = hit.get(r, 0) + v
            for r, amount in hit.items():
                rule = idx.rules[r]
                drafts.append(AlertDraft(rule, "pending", alert_key(r, "pending", tx.txid), tx.txid, amount, tx.txid,
                                         payload={"unconfirmed": True, "spends": [f"{p[::-1].hex()}:{v}" for p, v in tx.spends]}))  # fmt: skip
        if not drafts:
            return []
        with self.hub.transaction() as s:
            stored = store_drafts(s, drafts)
        self.stats.pending += len(stored)
        for a in stored:
            self.on_alert(a)
        return stored


def run_forever(monitor: Monitor, *, poll: float = 2.0, max_backoff: float = 60.0, zmq_url: str | None = None,
                mempool: bool = True, stop: threading.Event | None = None,
                on_error: Callable[[str], None] | None = None) -> None:  # fmt: skip
    """Follow until ``stop`` is set: sync, evaluate, watch the mempool; a failing node is retried
    with exponential back-off (``poll`` doubling up to ``max_backoff``), the position kept."""
    stop = stop or threading.Event()
    say = on_error or log.warning
    follower = monitor.follower
    sub = _zmq_subscriber(zmq_url) if zmq_url else None
    wait = poll
    try:
        while not stop.is_set():
            raw_txs: list[bytes] = []
            try:
                monitor.reload_rules_if_changed()
                monitor.apply_sync(follower.sync())
                if mempool and sub is None:
                    monitor.check_mempool(follower.new_mempool_txs())
                wait = poll
            except RemoteError as exc:
                say(f"{exc} (retrying in {wait:.0f} s)")
                wait = min(max_backoff, wait * 2)
            if sub is not None:
                raw_txs = _zmq_wait(sub, wait, stop)
                if mempool and raw_txs:
                    monitor.check_mempool([follower.mempool_tx(r, f"{zmq_url} rawtx") for r in raw_txs])
            else:
                stop.wait(wait)
    finally:
        if sub is not None:
            sub.close(linger=0)


def _zmq_subscriber(url: str) -> Any:
    # optional heavy dependency, needed only with --zmq
    import zmq

    sock = zmq.Context.instance().socket(zmq.SUB)
    sock.setsockopt(zmq.RCVHWM, 0)
    for topic in (b"hashblock", b"rawtx"):
        sock.setsockopt(zmq.SUBSCRIBE, topic)
    sock.connect(url)
    return sock


def _zmq_wait(sock: Any, timeout: float, stop: threading.Event) -> list[bytes]:
    """Wait up to ``timeout`` for a ``hashblock`` (returns at once) collecting ``rawtx`` bodies."""
    import zmq  # see _zmq_subscriber

    deadline = time.monotonic() + timeout
    txs: list[bytes] = []
    while not stop.is_set():
        left = deadline - time.monotonic()
        if left <= 0 or not sock.poll(int(min(left, 0.25) * 1000), zmq.POLLIN):
            if left <= 0:
                return txs
            continue
        while sock.poll(0, zmq.POLLIN):
            topic, body, *_ = sock.recv_multipart()
            if topic == b"rawtx":
                txs.append(bytes(body))
            elif topic == b"hashblock":
                deadline = 0.0
        if deadline == 0.0:
            return txs
    return txs
