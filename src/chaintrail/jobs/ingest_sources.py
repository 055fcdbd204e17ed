"""Input blocks for ingest: every PATH becomes header items that load their bytes lazily.

PATH kinds: a Core ``blocks/`` dir or ``blk*.dat`` files (headers scanned, bytes read per
batch), single raw/hex block files, saved ``getblock <hash> 2`` JSON (decoded up front; small).
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np

from chaintrail.chains.model import BlockBatch
from chaintrail.errors import DecodeError, InputError, ValidationError
from chaintrail.jobs.chain_order import HeaderItem


def _detect(path: Path) -> str:
    from chaintrail.chains.bitcoin import sources

    return sources.detect_source_kind(path)


def header_item(data: bytes, source: str, offset: int, load: object) -> HeaderItem:
    """A HeaderItem from a block's bytes (DecodeError if shorter than a header)."""
    if len(data) < 80:
        raise DecodeError(
            "truncated block: expected an 80-byte header", source=source, offset=offset
        )
    header = bytes(data[:80])
    h = hashlib.sha256(hashlib.sha256(header).digest()).digest()
    bits = struct.unpack_from("<I", header, 72)[0]
    return HeaderItem(h, header[4:36], bits, source, offset, load)


def collect_items(paths: Sequence[Path]) -> list[HeaderItem]:
    """Header items of every block in ``paths``, in the order they appear."""
    from chaintrail.chains.bitcoin import blkfiles

    items: list[HeaderItem] = []
    for path in paths:
        kind = _detect(path)
        if kind in ("blk-dir", "blk-file"):
            xor = blkfiles.load_xor_key(path if path.is_dir() else path.parent)
            for f in blkfiles.list_blk_files(path):
                for ref in blkfiles.scan_blk_file(f, xor):
                    items.append(
                        HeaderItem(ref.hash, ref.prev_hash, ref.bits, str(f), ref.offset,
                                   ("blk", ref, xor, ref.length))
                    )  # fmt: skip
        elif kind in ("raw", "hex"):
            from chaintrail.chains.bitcoin.rawfile import read_raw_block

            data, _ = read_raw_block(path)
            items.append(header_item(data, str(path), 0, ("bytes", data, len(data))))
        elif kind == "rpc-json":
            items.extend(_rpc_items(path))
        else:  # pragma: no cover - detect_source_kind raises for anything else
            raise InputError(f"unsupported input kind {kind!r}", source=str(path))
    return items


def _rpc_items(path: Path) -> list[HeaderItem]:
    from chaintrail.chains.bitcoin import rpc

    batch = rpc.load_rpc_json(path)
    return batch_items(batch, str(path))


def batch_items(batch: BlockBatch, source: str) -> list[HeaderItem]:
    """One item per block of an already-decoded batch."""
    out = []
    for i in range(batch.n_blocks):
        size = int(batch.block_size[i])
        out.append(
            HeaderItem(batch.block_hash[i].tobytes(), batch.block_prev_hash[i].tobytes(),
                       int(batch.block_bits[i]), source, i, ("batch", batch, i, size))
        )  # fmt: skip
    return out


def item_bytes(item: HeaderItem) -> int:
    """Approximate serialized size of an item (for batch sizing)."""
    return int(item.load[-1])  # type: ignore[index]


def load_batch(items: Sequence[HeaderItem]) -> BlockBatch:
    """Decode ``items`` (consecutive, chain order) into one BlockBatch.

    Blocks of blk files are read straight into one numpy buffer (no per-block ``bytes``),
    decoded by the GIL-free kernel, and their hashes checked against the scanned headers.
    """
    from chaintrail.chains.bitcoin.decode import concat_batches, slice_batch

    parts: list[BlockBatch] = []
    run: list[HeaderItem] = []
    for it in items:
        if it.load[0] == "batch":  # type: ignore[index]
            if run:
                parts.append(_decode_run(run))
                run = []
            _, batch, i, _ = it.load  # type: ignore[misc]
            parts.append(slice_batch(batch, i, i + 1))
        else:
            run.append(it)
    if run:
        parts.append(_decode_run(run))
    return parts[0] if len(parts) == 1 else concat_batches(parts)


def _decode_run(items: Sequence[HeaderItem]) -> BlockBatch:
    from chaintrail.chains.bitcoin import blkfiles
    from chaintrail.chains.bitcoin.decode import decode_buffer

    lens = np.array([item_bytes(it) for it in items], np.int64)
    starts = np.zeros(len(items), np.int64)
    np.cumsum(lens[:-1], out=starts[1:])
    buf = np.empty(max(1, int(lens.sum())), np.uint8)
    files: dict[str, BinaryIO] = {}
    try:
        for it, start, n in zip(items, starts.tolist(), lens.tolist(), strict=True):
            dest = buf[start : start + n]
            if it.load[0] == "bytes":  # type: ignore[index]
                dest[:] = np.frombuffer(it.load[1], np.uint8)  # type: ignore[index]
                continue
            _, ref, xor, _ = it.load  # type: ignore[misc]
            fh = files.get(ref.path) or files.setdefault(ref.path, open(ref.path, "rb"))  # noqa: SIM115
            fh.seek(ref.offset)
            got = fh.readinto(memoryview(dest))
            if got != n:
                raise DecodeError(
                    f"truncated block: expected {n} bytes, found {got}",
                    source=ref.path, offset=ref.offset,
                )  # fmt: skip
            if any(xor):
                dest[:] = np.frombuffer(blkfiles.xor_bytes(dest.tobytes(), xor, ref.offset), np.uint8)  # fmt: skip
    finally:
        for fh in files.values():
            fh.close()
    bases = np.array([it.offset for it in items], np.int64)
    batch = decode_buffer(buf, starts, lens, [it.source for it in items], bases)
    for i, it in enumerate(items):
        if batch.block_hash[i].tobytes() != it.hash:
            raise ValidationError(
                "block header changed since the file was scanned", source=it.source, offset=it.offset
            )  # fmt: skip
    return batch


def gap_heights(batch: BlockBatch, height_of: dict[bytes, int]) -> np.ndarray:
    """Heights for --allow-gaps: parent's + 1 when the parent is known, else BIP34, else -1.

    ``height_of`` gains this batch's blocks.
    """
    heights = np.empty(batch.n_blocks, np.int32)
    for i in range(batch.n_blocks):
        parent = height_of.get(batch.block_prev_hash[i].tobytes())
        if parent is not None and parent >= 0:
            heights[i] = parent + 1
        else:
            heights[i] = int(batch.block_bip34_height[i])
        height_of[batch.block_hash[i].tobytes()] = int(heights[i])
    return heights
