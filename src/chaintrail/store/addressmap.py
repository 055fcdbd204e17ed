"""The address map: 33-byte address key -> dense address id, exact, 8 bytes per slot.

The hash table (:mod:`hashmap`) holds a 32-bit fingerprint and a uint32 id per slot; the
keys themselves, needed to confirm a fingerprint match, are a flat ``(n, 33)`` array indexed
by id: ids below ``n_base`` read a memory-mapped file (``maps/addr_keys.bin``, written at
snapshots, append-only), later ids an in-RAM tail. So RAM holds the table plus the keys of
addresses first seen since the last snapshot; older keys are paged in only when a lookup's
fingerprint matches (a reused address).

The keys file is shared by snapshots: rows ``0..n-1`` are valid for a snapshot of ``n``
addresses. Rows are only ever (re)written at or above the smallest count any usable
snapshot covers (a rollback below a snapshot makes that snapshot unusable), and the file is
never truncated, so a reader's mapping of it stays valid.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from chaintrail.errors import StoreError
from chaintrail.kernels import interpreted
from chaintrail.store import hashmap as hm

KEY = 33
KEYS_FILE = "addr_keys.bin"
MAX_IDS = (1 << 32) - 1
POINT_LOOKUPS = 4096  # up to this many keys: plain Python (~40 µs a key) beats starting numba (0.5-1.5 s)


def map_keys(path: Path, n: int) -> np.ndarray:
    """Rows ``0..n-1`` of a keys file, memory-mapped read-only (an empty array if ``n == 0``)."""
    if n == 0:
        return np.zeros((0, KEY), np.uint8)
    return np.memmap(path, np.uint8, "r", shape=(n, KEY))


class AddressMap:
    """Exact address key -> id map over a fingerprint table and flat key storage."""

    def __init__(self) -> None:
        self.table = hm.empty_address_table(1 << 10)
        self.n = 0  # addresses (ids 0..n-1)
        self.base = np.zeros((0, KEY), np.uint8)  # ids 0..n_base-1 (memory-mapped file)
        self.tail = np.zeros((1 << 10, KEY), np.uint8)  # ids n_base.. (RAM)

    @property
    def n_base(self) -> int:
        """Ids below this have their key in the memory-mapped keys file."""
        return int(self.base.shape[0])

    def _reserve(self, n_more: int) -> None:
        if self.n + n_more >= MAX_IDS:
            raise StoreError(f"address map full: ids are uint32 (at most {MAX_IDS - 1:,})")
        need = self.n + n_more - self.n_base
        if need > self.tail.shape[0]:
            tail = np.empty((max(need, self.tail.shape[0] * 2), KEY), np.uint8)
            used = self.n - self.n_base
            tail[:used] = self.tail[:used]
            self.tail = tail
        self.table = hm.grow_address_table(self.table, self.n, n_more)

    def assign(self, keys: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Ids of ``keys`` rows where ``valid`` (-1 elsewhere), new ones numbered from ``n``.

        Returns (ids, rows where a key was first seen, in id order).
        """
        keys = np.ascontiguousarray(keys, np.uint8)
        self._reserve(int(np.count_nonzero(valid)))
        fps = hm.address_fingerprints(keys)
        ids, first = hm.addr_assign(
            self.table["slot"], self.base, self.n_base, self.tail, fps, keys,
            np.ascontiguousarray(valid, np.bool_), np.int64(self.n),
        )  # fmt: skip
        self.n += int(first.shape[0])
        return ids, first

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """Ids of ``keys`` rows, -1 where absent."""
        keys = np.ascontiguousarray(keys, np.uint8).reshape(-1, KEY)
        return lookup(self.table, self.base, self.tail, keys)

    def truncate(self, n: int) -> None:
        """Forget ids ``n..`` (their keys must be ``keys``-ordered rows of those ids)."""
        if n >= self.n:
            return
        gone = np.concatenate([self.base[n:], self.tail[: self.n - self.n_base]])[-(self.n - n) :]
        fps = hm.address_fingerprints(np.ascontiguousarray(gone))
        removed = hm.addr_delete(
            self.table["slot"], self.base, self.n_base, self.tail, fps, np.ascontiguousarray(gone)
        )
        assert removed == gone.shape[0], "address map out of step with its keys"
        if n < self.n_base:
            self.base = self.base[:n]
            self.tail = np.zeros((1 << 10, KEY), np.uint8)
        self.n = n

    def save(self, snap_dir: Path, keys_path: Path) -> None:
        """Append the tail's keys to ``keys_path`` (fsynced) and write the table into
        ``snap_dir``; afterwards every key is in the file and the tail is empty."""
        tail = self.tail[: self.n - self.n_base]
        fd = os.open(keys_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            os.pwrite(fd, np.ascontiguousarray(tail).tobytes(), self.n_base * KEY)
            os.fsync(fd)
        finally:
            os.close(fd)
        for name, arr in self.table.items():
            _save_npy(snap_dir / f"addr_{name}.npy", arr)
        self.base = map_keys(keys_path, self.n)
        self.tail = np.zeros((1 << 10, KEY), np.uint8)

    @classmethod
    def load(cls, snap_dir: Path, keys_path: Path, n: int) -> AddressMap:
        """The map saved in ``snap_dir`` covering ``n`` addresses."""
        m = cls()
        m.table = {"slot": np.load(snap_dir / "addr_slot.npy")}
        m.base = map_keys(keys_path, n)
        m.n = n
        return m


def lookup(table: dict[str, np.ndarray], base: np.ndarray, tail: np.ndarray, keys: np.ndarray) -> np.ndarray:  # fmt: skip
    """Ids of (n,33) ``keys`` in a table whose keys are ``base`` then ``tail``; -1 if absent."""
    if keys.shape[0] == 0:
        return np.zeros(0, np.int64)
    if keys.shape[0] > POINT_LOOKUPS:
        fps = hm.address_fingerprints(keys)
        return hm.addr_lookup(table["slot"], base, base.shape[0], tail, fps, keys)
    with interpreted():  # few keys: probing in Python beats starting numba (~0.5-1.5 s)
        fps = hm.address_fingerprints(keys)
        return hm.addr_lookup(table["slot"], base, base.shape[0], tail, fps, keys)


def keys_file_ok(keys_path: Path, n: int) -> bool:
    """Whether the keys file holds at least ``n`` rows."""
    try:
        return keys_path.stat().st_size >= n * KEY
    except OSError:
        return n == 0


def _save_npy(path: Path, arr: np.ndarray) -> None:
    with open(path, "wb") as fh:
        np.save(fh, arr)
        fh.flush()
        os.fsync(fh.fileno())
