"""The enabled watch rules resolved to the store's ids, for evaluating blocks fast.

Watched addresses and outputs become sorted id arrays (one ``isin`` per block finds every hit,
whatever the number of rules) and dicts from id to rule ids; clusters are watched through a
member address whose current cluster id is asked of the live clustering. Subjects the store has
not seen yet (an address that never received, a transaction not yet mined) wait as keys and are
resolved when a block brings them.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from chaintrail.chains.bitcoin.address import address_string_to_key
from chaintrail.chains.model import hex_to_hash
from chaintrail.hub.models import WatchRule, WatchSubject

MAX_TX_OUTPUTS = 4096  # outputs of a watched tx looked up (Core's standard limit is far below)


class Resolver(Protocol):
    """What the index asks of the store being followed (the follower's maps)."""

    def address_ids(self, keys: np.ndarray) -> np.ndarray:
        """Ids of (n,33) address keys, -1 where unknown."""

    def address_keys(self, ids: np.ndarray) -> np.ndarray:
        """(n,33) keys of address ids."""

    def unspent(self, txids: np.ndarray, vouts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
        """(out id, value, address id) of unspent outpoints (internal-order txids), -1 if not."""


@dataclass(frozen=True)
class RuleSpec:
    """A rule as the evaluator needs it."""

    id: int
    name: str
    kind: str
    severity: str
    tlp: str
    case_id: int | None
    org_id: int
    user_id: int | None
    params: dict[str, Any]


def _ids(d: dict[int, set[int]]) -> np.ndarray:
    return np.array(sorted(d), np.int64) if d else np.zeros(0, np.int64)


@dataclass
class WatchIndex:
    """Rules and their subjects by store id."""

    rules: dict[int, RuleSpec] = field(default_factory=dict)
    addr: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))  # source addresses
    outs: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))  # source outputs
    service_addr: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    clusters: list[tuple[int, str, int]] = field(default_factory=list)  # (rule, role, member addr)
    waiting_keys: dict[bytes, list[tuple[int, str, str]]] = field(default_factory=dict)
    waiting_txs: dict[str, list[tuple[int, int | None]]] = field(default_factory=dict)
    version: int = 0

    def __post_init__(self) -> None:
        self.refresh_arrays()

    def refresh_arrays(self) -> None:
        """Rebuild the sorted id arrays after subjects were added."""
        self.addr_ids = _ids(self.addr)
        self.out_ids = _ids(self.outs)
        self.service_ids = _ids(self.service_addr)
        self.cluster_members = np.array([a for _, _, a in self.clusters], np.int64)
        self.with_subjects = {r for d in (self.addr, self.outs) for rs in d.values() for r in rs}
        self.with_subjects |= {r for r, _, _ in self.clusters}

    @property
    def n_subjects(self) -> int:
        """Resolved subjects (addresses, outputs, clusters)."""
        return len(self.addr) + len(self.outs) + len(self.service_addr) + len(self.clusters)

    def _add_address(self, rule: int, role: str, kind: str, aid: int) -> None:
        if kind == "cluster":
            self.clusters.append((rule, role, aid))
        elif role == "service":
            self.service_addr[aid].add(rule)
        else:
            self.addr[aid].add(rule)

    def _add_tx(self, resolver: Resolver, rule: int, txid: str, vout: int | None) -> bool:
        vouts = np.arange(MAX_TX_OUTPUTS, dtype=np.uint32) if vout is None else np.array([vout], np.uint32)  # fmt: skip
        internal = np.frombuffer(hex_to_hash(txid), np.uint8)
        out, _, _ = resolver.unspent(np.tile(internal, (vouts.shape[0], 1)), vouts)
        for o in out[out >= 0].tolist():
            self.outs[int(o)].add(rule)
        return bool((out >= 0).any())

    def add_subjects(self, resolver: Resolver, rows: Iterable[tuple[int, str, str, str]]) -> None:
        """Resolve ``(rule, role, kind, value)`` subjects; unknown ones wait for their block."""
        addr_rows = [(r, role, kind, v) for r, role, kind, v in rows if kind in ("address", "cluster")]
        tx_rows = [(r, role, kind, v) for r, role, kind, v in rows if kind in ("output", "tx")]
        if addr_rows:
            keys = np.array([np.frombuffer(address_string_to_key(v), np.uint8) for *_, v in addr_rows])  # fmt: skip
            ids = resolver.address_ids(keys)
            for (rule, role, kind, _), key, aid in zip(addr_rows, keys, ids.tolist(), strict=True):
                if aid >= 0:
                    self._add_address(rule, role, kind, aid)
                else:
                    self.waiting_keys.setdefault(key.tobytes(), []).append((rule, role, kind))
        for rule, _role, kind, value in tx_rows:
            txid, _, vout = value.partition(":")
            v = int(vout) if kind == "output" else None
            if not self._add_tx(resolver, rule, txid, v):
                self.waiting_txs.setdefault(txid, []).append((rule, v))
        self.refresh_arrays()

    def resolve_new(self, resolver: Resolver, new_addr_ids: np.ndarray, txids: list[str]) -> None:
        """Subjects waiting for addresses or transactions this block brought."""
        changed = False
        if self.waiting_keys and new_addr_ids.shape[0]:
            keys = resolver.address_keys(new_addr_ids)
            for aid, key in zip(new_addr_ids.tolist(), keys, strict=True):
                for rule, role, kind in self.waiting_keys.pop(key.tobytes(), []):
                    self._add_address(rule, role, kind, aid)
                    changed = True
        if self.waiting_txs:
            for txid in txids:
                for rule, vout in self.waiting_txs.pop(txid, []):
                    self._add_tx(resolver, rule, txid, vout)
                    changed = True
        if changed:
            self.refresh_arrays()

    def add_output(self, rule: int, out_id: int) -> None:
        """Watch one more output (used by nothing but tests and the benchmark's set-up)."""
        self.outs[out_id].add(rule)


def load_index(session: Session, resolver: Resolver, version: int) -> WatchIndex:
    """Every enabled rule and its subjects, resolved against the followed store."""
    index = WatchIndex(version=version)
    for r in session.scalars(select(WatchRule).where(WatchRule.disabled_at.is_(None))):
        index.rules[r.id] = RuleSpec(r.id, r.name, r.kind, r.severity, r.tlp, r.case_id,
                                     r.owner_org_id, r.owner_user_id, json.loads(r.params))  # fmt: skip
    rows = session.execute(
        select(WatchSubject.rule_id, WatchSubject.role, WatchSubject.kind, WatchSubject.value)
        .where(WatchSubject.rule_id.in_(list(index.rules) or [-1]))
        .order_by(WatchSubject.id)
    ).all()
    index.add_subjects(resolver, [tuple(r) for r in rows])  # type: ignore[misc]
    return index
