"""Join and cut :class:`BlockBatch` objects without breaking their batch-local row indexes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields

import numpy as np

from chaintrail.chains.model import BlockBatch

BLOCK_FIELDS = tuple(
    f.name for f in fields(BlockBatch) if f.name.startswith("block_") and f.name != "block_offset"
) + ("block_offset",)
TX_FIELDS = ("txid", "wtxid") + tuple(
    f.name for f in fields(BlockBatch) if f.name.startswith("tx_")
)
IN_FIELDS = tuple(f.name for f in fields(BlockBatch) if f.name.startswith("in_"))
OUT_FIELDS = tuple(
    f.name for f in fields(BlockBatch) if f.name.startswith("out_") and f.name != "out_script_buf"
)
# index columns and the row kind they point into
_POINTERS = {
    "block_tx_start": "tx",
    "tx_block": "block",
    "tx_in_start": "in",
    "tx_out_start": "out",
    "in_tx": "tx",
    "out_tx": "tx",
    "out_script_off": "script",
}


def _check_complete() -> None:
    known = set(BLOCK_FIELDS + TX_FIELDS + IN_FIELDS + OUT_FIELDS) | {"out_script_buf", "source"}
    missing = {f.name for f in fields(BlockBatch)} - known
    if missing:  # a new BlockBatch field must be given a row kind here
        raise RuntimeError(f"batchops does not know BlockBatch fields {sorted(missing)}")


_check_complete()


def concat_batches(batches: Sequence[BlockBatch]) -> BlockBatch:
    """One batch holding ``batches`` in order, with every row index re-based."""
    batches = list(batches)
    if not batches:
        return BlockBatch()
    if len(batches) == 1:
        return batches[0]
    sizes = {
        "block": [b.n_blocks for b in batches],
        "tx": [b.n_txs for b in batches],
        "in": [b.n_inputs for b in batches],
        "out": [b.n_outputs for b in batches],
        "script": [int(b.out_script_buf.shape[0]) for b in batches],
    }
    bases = {k: np.concatenate([[0], np.cumsum(v)[:-1]]).astype(np.int64) for k, v in sizes.items()}
    out = BlockBatch()
    for name in BLOCK_FIELDS + TX_FIELDS + IN_FIELDS + OUT_FIELDS + ("out_script_buf",):
        parts = [getattr(b, name) for b in batches]
        kind = _POINTERS.get(name)
        if kind is not None:
            parts = [p + p.dtype.type(bases[kind][i]) for i, p in enumerate(parts)]
        setattr(out, name, np.concatenate(parts))
    out.source = [s for b in batches for s in b.source]
    return out


def slice_batch(batch: BlockBatch, block_start: int, block_stop: int) -> BlockBatch:
    """Blocks ``block_start:block_stop`` of ``batch`` with their txs, inputs, outputs, scripts."""
    nb = batch.n_blocks
    b0, b1, _ = slice(block_start, block_stop).indices(nb)
    b1 = max(b0, b1)
    if b0 == b1:
        return concat_batches([])
    t0 = int(batch.block_tx_start[b0])
    t1 = int(batch.block_tx_start[b1 - 1] + batch.block_n_tx[b1 - 1])
    i0 = int(batch.tx_in_start[t0]) if t1 > t0 else 0
    i1 = int(batch.tx_in_start[t1 - 1] + batch.tx_n_in[t1 - 1]) if t1 > t0 else 0
    o0 = int(batch.tx_out_start[t0]) if t1 > t0 else 0
    o1 = int(batch.tx_out_start[t1 - 1] + batch.tx_n_out[t1 - 1]) if t1 > t0 else 0
    s0 = int(batch.out_script_off[o0]) if o1 > o0 else 0
    s1 = int(batch.out_script_off[o1 - 1] + batch.out_script_len[o1 - 1]) if o1 > o0 else 0
    ranges = {"block": (b0, b1), "tx": (t0, t1), "in": (i0, i1), "out": (o0, o1)}
    bases = {"block": b0, "tx": t0, "in": i0, "out": o0, "script": s0}
    out = BlockBatch()
    for kind, names in (
        ("block", BLOCK_FIELDS),
        ("tx", TX_FIELDS),
        ("in", IN_FIELDS),
        ("out", OUT_FIELDS),
    ):
        lo, hi = ranges[kind]
        for name in names:
            col = getattr(batch, name)[lo:hi].copy()
            target = _POINTERS.get(name)
            if target is not None:
                col -= col.dtype.type(bases[target])
            setattr(out, name, col)
    out.out_script_buf = batch.out_script_buf[s0:s1].copy()
    out.source = list(batch.source[b0:b1])
    return out
