"""Per-generation caches under ``<store>/cache/gen-G/``: built once, then memory-mapped.

A cache is a directory of ``.npy`` files written to a temp dir and renamed into place, so a
reader sees a whole cache or none. Caches of older generations are deleted (renamed away,
then removed) when a newer one is built; memory-mapped arrays of a deleted cache stay valid.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
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
    """Arrays of cache ``name`` for ``m.generation``, building and saving them if absent.

    Safe for several threads and processes at once: each builder writes its own temp dir;
    the first rename wins and the others use the winner's files; only caches of OLDER
    generations are deleted (a reader still on an older generation rebuilds what it needs,
    and if that cache is deleted under it, it keeps the arrays it built in memory).
    """
    cache_root = root / "cache"
    final = cache_root / f"gen-{m.generation:08d}" / name
    try:
        if final.exists():
            return _load(final)
    except OSError:  # removed between the check and the load: build it
        pass
    arrays = build()
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".tmp-{name}-"))
        for key, arr in arrays.items():
            np.save(tmp / f"{key}.npy", np.ascontiguousarray(arr))
        fsync_dir(tmp)
        try:
            os.replace(tmp, final)
        except OSError:  # another thread or process built it first
            shutil.rmtree(tmp, ignore_errors=True)
        loaded = _load(final)
    except OSError:  # a newer generation's builder removed this one meanwhile
        return arrays
    for old in cache_root.iterdir():
        if old.name.startswith("gen-") and old.name < final.parent.name:
            trash = cache_root / f".trash-{old.name}-{uuid.uuid4().hex[:8]}"
            try:  # rename first: a reader sees a whole generation's caches or none
                os.replace(old, trash)
            except OSError:
                continue
            shutil.rmtree(trash, ignore_errors=True)
    return loaded if set(loaded) == set(arrays) else arrays


def _load(directory: Path) -> dict[str, np.ndarray]:
    return {p.stem: np.load(p, mmap_mode="r") for p in sorted(directory.glob("*.npy"))}


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
