"""On-disk layout of a store directory: the manifest, segment paths, the writer lock.

::

    <store>/MANIFEST.json          the committed state (replaced atomically)
    <store>/LOCK                   flock'ed by the one writer; holds its pid
    <store>/segments/sNNNNNNNN/    one committed batch: blocks/txs/inputs/outputs/addresses.parquet
    <store>/maps/snap-G/           address map + UTXO set snapshot matching generation G
    <store>/cache/gen-G/           per-generation caches (ChainArrays .npy, txid index)
    <store>/derived/<name>/        analysis outputs keyed by generation
    <store>/tmp/                   work in progress; anything here is garbage after a crash

A segment directory only counts once the manifest lists it, so a crash at any moment leaves
the previous manifest, and the segments it names, intact.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from chaintrail.errors import StoreError

FORMAT = 1
TABLES = ("blocks", "txs", "inputs", "outputs", "addresses")
MANIFEST = "MANIFEST.json"


@dataclass
class Segment:
    """One committed batch of consecutive blocks and the id ranges its rows cover."""

    id: int
    n_blocks: int
    first_height: int
    last_height: int
    tx_start: int
    n_txs: int
    in_start: int
    n_inputs: int
    out_start: int
    n_outputs: int
    addr_start: int
    n_addresses: int

    @property
    def name(self) -> str:
        """Directory name under ``segments/``."""
        return f"s{self.id:08d}"


@dataclass
class Manifest:
    """The committed state of a store: its segments in chain order, counts and tip."""

    generation: int = 0
    next_segment: int = 1
    segments: list[Segment] = field(default_factory=list)
    n_blocks: int = 0
    n_txs: int = 0
    n_inputs: int = 0
    n_outputs: int = 0
    n_addresses: int = 0
    n_utxos: int = 0
    tip_height: int = -1
    tip_hash: str | None = None  # display hex
    tip_chainwork: str = "0"  # decimal string: python int, beyond 64 bits
    gaps: bool = False  # blocks ingested with --allow-gaps (no chain context)

    def to_json(self) -> dict[str, Any]:
        """Plain-JSON form written to MANIFEST.json."""
        d = asdict(self)
        d["format"] = FORMAT
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Manifest:
        """Parse MANIFEST.json contents."""
        d = dict(d)
        if d.pop("format", None) != FORMAT:
            raise ValueError("unknown manifest format")
        d["segments"] = [Segment(**s) for s in d["segments"]]
        return cls(**d)


def fsync_dir(path: Path) -> None:
    """Flush a directory entry (renames inside it) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json_atomic(path: Path, obj: Any) -> None:
    """Write JSON to ``path`` via a fsynced temp file and ``os.replace``."""
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    with open(tmp, "w") as fh:
        json.dump(obj, fh, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def read_manifest(root: Path) -> Manifest:
    """The committed manifest of the store at ``root`` (StoreError if unreadable)."""
    path = root / MANIFEST
    try:
        return Manifest.from_json(json.loads(path.read_text()))
    except FileNotFoundError as exc:
        raise StoreError(f"{root}: not a chaintrail store (no {MANIFEST})") from exc
    except (ValueError, TypeError, KeyError) as exc:
        raise StoreError(f"{path}: unreadable manifest ({exc})") from exc


def segment_dir(root: Path, seg: Segment) -> Path:
    """Directory holding the Parquet files of ``seg``."""
    return root / "segments" / seg.name


def segment_files(root: Path, m: Manifest, table: str) -> list[str]:
    """Parquet paths of ``table`` across the manifest's segments, in chain order."""
    return [str(segment_dir(root, s) / f"{table}.parquet") for s in m.segments]


def tmp_dir(root: Path) -> Path:
    """The store's scratch directory (created)."""
    path = root / "tmp"
    path.mkdir(exist_ok=True)
    return path


def remove_garbage(root: Path, m: Manifest) -> None:
    """Delete segments the manifest does not list and everything in ``tmp/`` (writer only)."""
    keep = {s.name for s in m.segments}
    seg_root = root / "segments"
    if seg_root.exists():
        for child in seg_root.iterdir():
            if child.name not in keep:
                shutil.rmtree(child, ignore_errors=True)
    shutil.rmtree(root / "tmp", ignore_errors=True)


class WriterLock:
    """Exclusive writer lock on ``<dir>/LOCK`` (flock: released by the OS if the holder dies).

    The store's own lock by default; derived outputs with writers of their own (a clustering
    run) lock their directory the same way, with ``busy`` saying who is in the way.
    """

    def __init__(self, root: Path, busy: str = "store is locked by another writer") -> None:
        self.path = root / "LOCK"
        self.busy = busy
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise StoreError naming the pid that holds it."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise StoreError(f"{self.path.parent}: {self.busy} (pid {holder})") from exc
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd

    def __enter__(self) -> WriterLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def release(self) -> None:
        """Release the lock (idempotent)."""
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
