"""Persisted clustering state in ``store.derived_dir(DERIVED_NAME)``, written atomically.

Each run writes its arrays under fresh names (``<name>.<run>.npy``, ``refused.<run>.parquet``)
and then replaces ``state.json``, which names them, with ``os.replace``; a crash at any point
leaves the previous state intact. Old files are removed only after the new ``state.json`` is
in place.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from chaintrail.errors import StoreError

DERIVED_NAME = "clusters"  # <store>/derived/clusters/
STATE_FILE = "state.json"  # replaced last by every run: its identity says which run is current
FORMAT = 1
_ARRAYS = ("parent", "rank", "labels", "verdict")
REFUSED_SCHEMA = pa.schema(
    [
        ("tx_id", pa.int64()),
        ("size_input_cluster", pa.int32()),
        ("size_change_cluster", pa.int32()),
        ("reason", pa.string()),
    ]
)
# every change link a run decided (merged, refused, or already in one cluster): which tx, which
# output, and which level of the change cascade (meta ``change_levels``) judged it
LINKS_SCHEMA = pa.schema([("tx_id", pa.int64()), ("vout", pa.int16()), ("level", pa.int8())])


@dataclass
class ClusterState:
    """Union-find forest, cluster ids and CoinJoin verdicts after processing txs ``< last_tx``.

    ``labels[a]`` is the cluster id of address ``a``: the smallest address id in its cluster.
    ``meta`` holds ``heuristics``, ``last_tx``, ``generation``, ``tail`` (a fingerprint of the
    last processed tx, to notice reorgs), ``guard_size`` and running counts.
    """

    parent: np.ndarray
    rank: np.ndarray
    labels: np.ndarray
    verdict: np.ndarray
    refused: pa.Table
    meta: dict[str, Any] = field(default_factory=dict)
    table: pa.Table | None = None  # the cluster table; saved if set, read by load_table
    links: pa.Table | None = None  # change links (LINKS_SCHEMA); saved if set, read by load_links

    @property
    def last_tx(self) -> int:
        """Number of txs (a tx-id prefix) already folded into the clusters."""
        return int(self.meta.get("last_tx", 0))


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_state(directory: Path, state: ClusterState) -> None:
    """Write ``state`` into ``directory`` atomically (new files first, ``state.json`` last)."""
    directory.mkdir(parents=True, exist_ok=True)
    run = uuid.uuid4().hex[:12]
    files: dict[str, str] = {}
    for name in _ARRAYS:
        fname = f"{name}.{run}.npy"
        tmp = directory / (fname + ".tmp")
        with open(tmp, "wb") as fh:
            np.save(fh, np.ascontiguousarray(getattr(state, name)))
        os.replace(tmp, directory / fname)
        files[name] = fname
    fname = f"refused.{run}.parquet"
    pq.write_table(state.refused, directory / (fname + ".tmp"))
    os.replace(directory / (fname + ".tmp"), directory / fname)
    files["refused"] = fname
    for key, table in (("table", state.table), ("links", state.links)):
        if table is not None:
            fname = f"{key}.{run}.parquet"
            pq.write_table(table, directory / (fname + ".tmp"))
            os.replace(directory / (fname + ".tmp"), directory / fname)
            files[key] = fname
    meta = dict(state.meta, format=FORMAT, files=files)
    _atomic_write_bytes(directory / STATE_FILE, json.dumps(meta, indent=2).encode())
    keep = set(files.values()) | {STATE_FILE}
    for old in directory.iterdir():
        if old.name not in keep and old.suffix in (".npy", ".parquet", ".tmp"):
            old.unlink(missing_ok=True)


def load_state(directory: Path, *, mmap: bool = False) -> ClusterState | None:
    """The saved state, or None if there is none; StoreError if it is unreadable."""
    path = directory / STATE_FILE
    if not path.exists():
        return None
    try:
        meta = json.loads(path.read_text())
        if meta.get("format") != FORMAT:
            return None
        files = meta["files"]
        mode = "r" if mmap else None
        arrays = {n: np.load(directory / files[n], mmap_mode=mode) for n in _ARRAYS}
        refused = pq.read_table(directory / files["refused"])
    except (OSError, ValueError, KeyError) as exc:
        raise StoreError(
            f"{path}: clustering state is unreadable ({exc}); run 'chaintrail cluster --full'"
        ) from exc
    return ClusterState(refused=refused, meta=meta, **arrays)


def load_table(directory: Path, state: ClusterState) -> pa.Table:
    """The cluster table saved with ``state``; StoreError if that run saved none."""
    fname = state.meta.get("files", {}).get("table")
    if fname is None:
        raise StoreError(f"{directory}: no cluster table saved; run 'chaintrail cluster --full'")
    try:
        return pq.read_table(directory / fname)
    except OSError as exc:
        raise StoreError(f"{directory / fname}: unreadable cluster table ({exc})") from exc


def load_links(directory: Path, state: ClusterState) -> pa.Table:
    """The change-link log saved with ``state`` (empty if the run used no change heuristic)."""
    fname = state.meta.get("files", {}).get("links")
    if fname is None:
        return LINKS_SCHEMA.empty_table()
    try:
        return pq.read_table(directory / fname)
    except OSError as exc:
        raise StoreError(f"{directory / fname}: unreadable change-link log ({exc})") from exc


def empty_refused() -> pa.Table:
    """An empty refused-merge log table."""
    return REFUSED_SCHEMA.empty_table()
