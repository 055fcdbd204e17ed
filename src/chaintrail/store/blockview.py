"""A few committed blocks read back from their segments, as block-local arrays.

The monitor evaluates each block the store commits without touching the rest of the chain:
:func:`read_blocks` reads only the rows of heights ``lo..hi`` from the segments holding them
(Parquet row groups are pruned by id range). Transaction, input and output arrays are indexed
locally (0 = the first tx/input/output of ``lo``) and carry their global ids; address ids,
spent output ids and values are the store's, so they join with anything keyed by global id.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from chaintrail.errors import StoreError
from chaintrail.store.arrays import ChainArrays
from chaintrail.store.chainstore import ChainStore
from chaintrail.store.layout import segment_dir
from chaintrail.store.segments import read_segment_table


@dataclass
class BlockView:
    """Blocks ``heights`` with their txs, stored inputs and outputs (local indexes, global ids)."""

    heights: np.ndarray  # int32 per block
    hashes: list[str]  # display hex per block
    times: np.ndarray  # uint32 per block
    block_tx_start: np.ndarray  # int64 local index of each block's first tx
    tx_base: int  # global id of local tx 0
    in_base: int
    out_base: int
    txids: np.ndarray  # (nt, 32) uint8, display order
    tx_height: np.ndarray  # int32
    arrays: ChainArrays  # local tx/input/output arrays (address and prev-out ids global)
    in_prev_txid: np.ndarray  # (ni, 32) display order
    in_prev_vout: np.ndarray  # uint32

    @property
    def n_txs(self) -> int:
        """Transactions in the view."""
        return int(self.tx_height.shape[0])

    def txid(self, t: int) -> str:
        """Display hex txid of local tx ``t``."""
        return bytes(self.txids[t]).hex()

    def block_of_tx(self, t: int) -> int:
        """Row of the block holding local tx ``t``."""
        return int(np.searchsorted(self.block_tx_start, t, "right") - 1)


def _fixed(col: pa.ChunkedArray, width: int) -> np.ndarray:
    arr = col.combine_chunks()
    if len(arr) == 0:
        return np.zeros((0, width), np.uint8)
    buf = arr.buffers()[1]
    return np.frombuffer(buf, np.uint8, count=len(arr) * width, offset=arr.offset * width).reshape(
        -1, width
    )


def _num(col: pa.ChunkedArray, dtype: str, fill: int | None = None) -> np.ndarray:
    if fill is not None:
        col = pc.fill_null(col, fill)
    return np.asarray(col.to_numpy(), dtype=dtype)


def _rows(store: ChainStore, table: str, id_col: str, lo: int, hi: int) -> pa.Table:
    """Rows of ``table`` whose ``id_col`` is in ``[lo, hi)``, from the segments covering them."""
    parts = []
    start_of = {"txs": "tx_start", "inputs": "in_start", "outputs": "out_start"}[table]
    count_of = {"txs": "n_txs", "inputs": "n_inputs", "outputs": "n_outputs"}[table]
    for seg in store.manifest.segments:
        s0 = getattr(seg, start_of)
        s1 = s0 + getattr(seg, count_of)
        if s1 <= lo or s0 >= hi:
            continue
        t = read_segment_table(segment_dir(store.root, seg), table)
        parts.append(t.slice(max(0, lo - s0), min(s1, hi) - max(lo, s0)))
    if not parts:
        return read_segment_table(segment_dir(store.root, store.manifest.segments[0]), table).slice(0, 0)  # fmt: skip
    return pa.concat_tables(parts)


def read_blocks(store: ChainStore, lo: int, hi: int) -> BlockView:
    """Blocks at heights ``lo..hi`` (inclusive) of the store's committed chain.

    StoreError if a height is not stored (the caller asked past the tip or into a gap).
    """
    blocks = []
    for seg in store.manifest.segments:
        if seg.last_height < lo or seg.first_height > hi:
            continue
        t = read_segment_table(segment_dir(store.root, seg), "blocks")
        keep = pc.and_(pc.greater_equal(t["height"], lo), pc.less_equal(t["height"], hi))
        blocks.append(t.filter(keep))
    if not blocks:
        raise StoreError(f"{store.root}: heights {lo}-{hi} are not in the store")
    b = pa.concat_tables(blocks).sort_by("height")
    heights = _num(b["height"], "i4")
    if heights.shape[0] != hi - lo + 1 or heights[0] != lo:
        raise StoreError(f"{store.root}: heights {lo}-{hi} are not all in the store")
    tx_lo = int(b["first_tx_id"][0].as_py())
    ntx = _num(b["tx_count"], "i8")
    tx_hi = tx_lo + int(ntx.sum())
    txs = _rows(store, "txs", "tx_id", tx_lo, tx_hi)
    in_lo = int(txs["first_in_id"][0].as_py()) if txs.num_rows else 0
    n_in = _num(txs["n_in"], "i4")
    out_lo = int(txs["first_out_id"][0].as_py()) if txs.num_rows else 0
    n_out = _num(txs["n_out"], "i4")
    ins = _rows(store, "inputs", "in_id", in_lo, in_lo + int(n_in.sum()))
    outs = _rows(store, "outputs", "out_id", out_lo, out_lo + int(n_out.sum()))
    tx_in_start = _num(txs["first_in_id"], "i8") - in_lo
    tx_out_start = _num(txs["first_out_id"], "i8") - out_lo
    tx_height = _num(txs["height"], "i4")
    times = _num(b["time"], "u4")
    arrays = ChainArrays(
        tx_height=tx_height, tx_time=np.repeat(times, ntx), tx_in_start=tx_in_start,
        tx_n_in=n_in, tx_out_start=tx_out_start, tx_n_out=n_out,
        tx_coinbase=_num(txs["coinbase"], "?"), tx_version=_num(txs["version"], "i4"),
        tx_locktime=_num(txs["locktime"], "u4"), tx_fee=_num(txs["fee"], "i8", -1),
        in_tx=(_num(ins["tx_id"], "i8") - tx_lo).astype(np.int32),
        in_prev_out=_num(ins["prev_out_id"], "i8", -1), in_value=_num(ins["value"], "i8", -1),
        in_addr=_num(ins["address_id"], "i8", -1).astype(np.int32),
        in_sequence=_num(ins["sequence"], "u4"), in_witness=_num(ins["witness"], "?"),
        out_tx=(_num(outs["tx_id"], "i8") - tx_lo).astype(np.int32),
        out_value=_num(outs["value"], "i8"),
        out_addr=_num(outs["address_id"], "i8", -1).astype(np.int32),
        out_type=_num(outs["script_type"], "u1"), out_spent_by=np.full(outs.num_rows, -1, np.int64),
        addr_type=np.zeros(0, np.uint8),
    )  # fmt: skip
    start = np.zeros(ntx.shape[0], np.int64)
    np.cumsum(ntx[:-1], out=start[1:])
    return BlockView(
        heights=heights, hashes=[bytes(h).hex() for h in _fixed(b["hash"], 32)], times=times,
        block_tx_start=start, tx_base=tx_lo, in_base=in_lo, out_base=out_lo,
        txids=_fixed(txs["txid"], 32), tx_height=tx_height, arrays=arrays,
        in_prev_txid=_fixed(pc.fill_null(ins["prev_txid"], pa.scalar(bytes(32), pa.binary(32))), 32),
        in_prev_vout=_num(ins["prev_vout"], "u4"),
    )  # fmt: skip
