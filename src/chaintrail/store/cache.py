"""Per-generation caches under ``<store>/cache/gen-G/``: built once, then memory-mapped.

A cache is a directory of ``.npy`` files written to a temp dir and renamed into place, so a
reader sees a whole cache or none. Caches of older generations are deleted when a new one
is built.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from chaintrail.store.layout import Manifest, fsync_dir, segment_files


def cached_arrays(
    root: Path, m: Manifest, name: str, build: Callable[[], dict[str, np.ndarray]]
) -> dict[str, np.ndarray]:
    """Arrays of cache ``name`` for ``m.generation``, building and saving them if absent."""
    cache_root = root / "cache"
    final = cache_root / f"gen-{m.generation:08d}" / name
    if not final.exists():
        arrays = build()
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.parent / f".tmp-{name}-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        for key, arr in arrays.items():
            np.save(tmp / f"{key}.npy", np.ascontiguousarray(arr))
        fsync_dir(tmp)
        try:
            os.replace(tmp, final)
        except OSError:  # another reader built it first
            shutil.rmtree(tmp, ignore_errors=True)
        for old in cache_root.iterdir():
            if old.name.startswith("gen-") and old != final.parent:
                shutil.rmtree(old, ignore_errors=True)
    return {p.stem: np.load(p, mmap_mode="r") for p in sorted(final.glob("*.npy"))}


def read_column(root: Path, m: Manifest, table: str, column: str, fill: int | None = None):  # type: ignore[no-untyped-def]
    """One column across all segments as a numpy array (nulls -> ``fill``)."""
    files = segment_files(root, m, table)
    if not files:
        return None
    chunks = [pq.read_table(f, columns=[column]).column(0) for f in files]
    col = pa.chunked_array([c for ch in chunks for c in ch.chunks], type=chunks[0].type)
    if fill is not None:
        col = pc.fill_null(col, fill)
    return col


def numpy_column(root: Path, m: Manifest, table: str, column: str, dtype: str, fill=None):  # type: ignore[no-untyped-def]
    """One numeric column across all segments as a numpy array of ``dtype``."""
    col = read_column(root, m, table, column, fill)
    if col is None:
        return np.zeros(0, dtype)
    return col.to_numpy().astype(dtype, copy=False)


def fixed_column(root: Path, m: Manifest, table: str, column: str, width: int) -> np.ndarray:
    """A FixedSizeBinary column across all segments as an (n, width) uint8 array."""
    col = read_column(root, m, table, column)
    if col is None or len(col) == 0:
        return np.zeros((0, width), np.uint8)
    parts = []
    for chunk in col.chunks:
        buf = chunk.buffers()[1]
        parts.append(
            np.frombuffer(buf, np.uint8, count=len(chunk) * width, offset=chunk.offset * width)
        )
    return np.concatenate(parts).reshape(-1, width)
