"""Parquet tables of one committed segment: schemas, building them from a batch, writing them.

Hash columns hold 32 bytes in DISPLAY order (as explorers and RPC show), so
``lower(hex(txid))`` in DuckDB is the txid string. Dense id columns are delta-encoded and
cost next to nothing on disk.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from chaintrail.chains.model import NO_ADDRESS, BlockBatch, ScriptType

H32 = pa.binary(32)

SCHEMAS: dict[str, pa.Schema] = {
    "blocks": pa.schema(
        [
            ("height", pa.int32()),
            ("hash", H32),
            ("prev_hash", H32),
            ("merkle_root", H32),
            ("version", pa.int32()),
            ("time", pa.uint32()),
            ("bits", pa.uint32()),
            ("nonce", pa.uint32()),
            ("size", pa.uint32()),
            ("weight", pa.uint32()),
            ("tx_count", pa.int32()),
            ("first_tx_id", pa.int64()),
            ("first_in_id", pa.int64()),
            ("first_out_id", pa.int64()),
            ("total_output_value", pa.int64()),
        ]
    ),
    "txs": pa.schema(
        [
            ("tx_id", pa.int64()),
            ("txid", H32),
            ("wtxid", H32),
            ("height", pa.int32()),
            ("version", pa.int32()),
            ("locktime", pa.uint32()),
            ("size", pa.uint32()),
            ("vsize", pa.uint32()),
            ("weight", pa.uint32()),
            ("coinbase", pa.bool_()),
            ("segwit", pa.bool_()),
            ("fee", pa.int64()),
            ("n_in", pa.int32()),
            ("n_out", pa.int32()),
            ("first_in_id", pa.int64()),
            ("first_out_id", pa.int64()),
        ]
    ),
    "outputs": pa.schema(
        [
            ("out_id", pa.int64()),
            ("tx_id", pa.int64()),
            ("vout", pa.int32()),
            ("value", pa.int64()),
            ("script_type", pa.uint8()),
            ("address_id", pa.int64()),
            ("script", pa.large_binary()),
        ]
    ),
    "inputs": pa.schema(
        [
            ("in_id", pa.int64()),
            ("tx_id", pa.int64()),
            ("vin", pa.int32()),
            ("prev_out_id", pa.int64()),
            ("prev_txid", H32),
            ("prev_vout", pa.uint32()),
            ("value", pa.int64()),
            ("address_id", pa.int64()),
            ("sequence", pa.uint32()),
            ("witness", pa.bool_()),
        ]
    ),
    "addresses": pa.schema(
        [
            ("address_id", pa.int64()),
            ("address", pa.string()),
            ("script_type", pa.uint8()),
            ("key", pa.binary(33)),
            ("first_seen_height", pa.int32()),
        ]
    ),
}
ID_COLUMNS = {
    "blocks": ["height", "first_tx_id", "first_in_id", "first_out_id"],
    "txs": ["tx_id", "first_in_id", "first_out_id", "height"],
    "outputs": ["out_id", "tx_id", "vout"],
    "inputs": ["in_id", "tx_id", "vin"],
    "addresses": ["address_id", "first_seen_height"],
}
# rows per Parquet row group: ~4-10 MB compressed each, so id-range reads stay cheap
ROW_GROUP = {"blocks": 128 * 1024, "txs": 128 * 1024, "addresses": 128 * 1024,
             "inputs": 1024 * 1024, "outputs": 1024 * 1024}  # fmt: skip
# outputs whose raw script is kept: no address, or an address that loses information (P2PK key)
KEPT_SCRIPT_TYPES = np.array(
    [t for t in ScriptType if t not in (ScriptType.P2PKH, ScriptType.P2SH, ScriptType.P2WPKH,
                                        ScriptType.P2WSH, ScriptType.P2TR)], np.uint8
)  # fmt: skip


@dataclass
class ResolvedBatch:
    """A batch plus everything the store computed for it: ids, resolved inputs, fees, addresses.

    Input arrays cover STORED inputs only (coinbase inputs dropped), in chain order.
    """

    batch: BlockBatch
    heights: np.ndarray  # int32 per block
    tx_base: int
    in_base: int
    out_base: int
    addr_base: int
    stored_in: np.ndarray  # batch input rows that are stored (non-coinbase)
    tx_n_in: np.ndarray  # stored inputs per tx
    tx_first_in: np.ndarray  # int64 global in id of each tx's first stored input
    in_prev_out: np.ndarray  # int64, -1 unresolved
    in_value: np.ndarray  # int64, -1 unresolved
    in_addr: np.ndarray  # int64, -1 none/unresolved
    out_addr: np.ndarray  # int64, -1 none
    tx_fee: np.ndarray  # int64, -1 unknown
    new_addr_rows: np.ndarray  # output rows where an address is first seen, in id order


def fixed(arr: np.ndarray, width: int, reverse: bool = False) -> pa.Array:
    """(n,width) uint8 -> FixedSizeBinary array (byte-reversed rows when ``reverse``)."""
    data = np.ascontiguousarray(arr[:, ::-1] if reverse else arr, dtype=np.uint8)
    return pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(width), data.shape[0], [None, pa.py_buffer(data.reshape(-1))]
    )


def nullable(values: np.ndarray, null: np.ndarray, typ: pa.DataType) -> pa.Array:
    """Numpy values with a boolean null mask -> Arrow array."""
    return pa.array(values, type=typ, mask=null)


def address_strings(keys: np.ndarray) -> pa.Array:
    """Address strings of ``(n, 33)`` keys as an Arrow string array (null: no address form),
    built from the codec's flat buffer without Python strings."""
    from chaintrail.chains.bitcoin.address import encode_address_keys_flat

    offsets, data = encode_address_keys_flat(keys)
    n = keys.shape[0]
    valid = np.packbits(np.diff(offsets) > 0, bitorder="little")
    return pa.StringArray.from_buffers(
        n, pa.py_buffer(offsets), pa.py_buffer(data), pa.py_buffer(valid)
    )


def _scripts(b: BlockBatch) -> pa.Array:
    lens = b.out_script_len.astype(np.int64)
    offsets = np.zeros(lens.shape[0] + 1, np.int64)
    np.cumsum(lens, out=offsets[1:])
    gather = np.repeat(b.out_script_off - offsets[:-1], lens) + np.arange(offsets[-1])
    data = b.out_script_buf[gather] if offsets[-1] else np.zeros(0, np.uint8)
    keep = np.isin(b.out_script_type, KEPT_SCRIPT_TYPES) | (b.out_addr_key[:, 0] == NO_ADDRESS)
    valid = np.packbits(keep, bitorder="little")
    return pa.LargeBinaryArray.from_buffers(
        pa.large_binary(),
        lens.shape[0],
        [pa.py_buffer(valid), pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(data))],
    )


def build_tables(r: ResolvedBatch) -> dict[str, pa.Table]:
    """The five Parquet tables of a resolved batch."""
    b = r.batch
    nt, no = b.n_txs, b.n_outputs
    tx_ids = r.tx_base + np.arange(nt, dtype=np.int64)
    tx_height = r.heights[b.tx_block]
    out_tx = r.tx_base + b.out_tx
    vout = np.arange(no, dtype=np.int64) - b.tx_out_start[b.out_tx]
    out_sum = np.zeros(b.n_blocks, np.int64)
    np.add.at(out_sum, b.tx_block[b.out_tx], b.out_value)
    blk_first_tx = r.tx_base + b.block_tx_start
    in_rows = r.stored_in
    in_tx_local = b.in_tx[in_rows]
    unresolved = r.in_prev_out < 0
    n_stored = in_rows.shape[0]
    new_keys = np.ascontiguousarray(b.out_addr_key[r.new_addr_rows])
    tables = {
        "blocks": {
            "height": r.heights,
            "hash": fixed(b.block_hash, 32, True),
            "prev_hash": fixed(b.block_prev_hash, 32, True),
            "merkle_root": fixed(b.block_merkle_root, 32, True),
            "version": b.block_version,
            "time": b.block_time,
            "bits": b.block_bits,
            "nonce": b.block_nonce,
            "size": b.block_size,
            "weight": b.block_weight,
            "tx_count": b.block_n_tx,
            "first_tx_id": blk_first_tx,
            "first_in_id": r.tx_first_in[b.block_tx_start] if nt else blk_first_tx,
            "first_out_id": r.out_base + b.tx_out_start[b.block_tx_start],
            "total_output_value": out_sum,
        },
        "txs": {
            "tx_id": tx_ids,
            "txid": fixed(b.txid, 32, True),
            "wtxid": fixed(b.wtxid, 32, True),
            "height": tx_height,
            "version": b.tx_version,
            "locktime": b.tx_locktime,
            "size": b.tx_size,
            "vsize": b.tx_vsize,
            "weight": b.tx_weight,
            "coinbase": b.tx_coinbase,
            "segwit": b.tx_segwit,
            "fee": nullable(r.tx_fee, r.tx_fee < 0, pa.int64()),
            "n_in": r.tx_n_in.astype(np.int32),
            "n_out": b.tx_n_out,
            "first_in_id": r.tx_first_in,
            "first_out_id": r.out_base + b.tx_out_start,
        },
        "outputs": {
            "out_id": r.out_base + np.arange(no, dtype=np.int64),
            "tx_id": out_tx,
            "vout": vout.astype(np.int32),
            "value": b.out_value,
            "script_type": b.out_script_type,
            "address_id": nullable(r.out_addr, r.out_addr < 0, pa.int64()),
            "script": _scripts(b),
        },
        "inputs": {
            "in_id": r.in_base + np.arange(n_stored, dtype=np.int64),
            "tx_id": r.tx_base + in_tx_local,
            "vin": (in_rows - b.tx_in_start[in_tx_local]).astype(np.int32),
            "prev_out_id": nullable(r.in_prev_out, unresolved, pa.int64()),
            "prev_txid": _masked_fixed(b.in_prev_txid[in_rows], ~unresolved),
            "prev_vout": b.in_prev_vout[in_rows],
            "value": nullable(r.in_value, unresolved, pa.int64()),
            "address_id": nullable(r.in_addr, r.in_addr < 0, pa.int64()),
            "sequence": b.in_sequence[in_rows],
            "witness": b.in_witness[in_rows],
        },
        "addresses": {
            "address_id": r.addr_base + np.arange(r.new_addr_rows.shape[0], dtype=np.int64),
            "address": address_strings(new_keys),
            "script_type": new_keys[:, 0],
            "key": fixed(new_keys, 33),
            "first_seen_height": tx_height[b.out_tx[r.new_addr_rows]],
        },
    }
    return {
        name: pa.table({k: _col(v, SCHEMAS[name].field(k).type) for k, v in cols.items()},
                       schema=SCHEMAS[name])
        for name, cols in tables.items()
    }  # fmt: skip


def _col(v: object, typ: pa.DataType) -> pa.Array:
    if isinstance(v, pa.Array):
        return v
    return pa.array(np.ascontiguousarray(v), type=typ)


def _masked_fixed(rows: np.ndarray, null: np.ndarray) -> pa.Array:
    arr = fixed(rows, 32, True)
    valid = np.packbits(~null, bitorder="little")
    return pa.FixedSizeBinaryArray.from_buffers(
        H32, len(arr), [pa.py_buffer(valid), arr.buffers()[1]]
    )


# random-looking columns: dictionary encoding only costs time
NO_DICT = {"hash", "prev_hash", "merkle_root", "txid", "wtxid", "prev_txid", "address", "key",
           "script", "nonce"}  # fmt: skip


def write_tables(tables: dict[str, pa.Table], directory: Path) -> None:
    """Write each table as ``<name>.parquet`` in ``directory`` (zstd level 1, two threads:
    pyarrow releases the GIL while encoding), fsynced."""
    directory.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=2) as pool:
        biggest_first = sorted(tables.items(), key=lambda kv: -kv[1].nbytes)
        for f in [pool.submit(_write_one, t, n, directory) for n, t in biggest_first]:
            f.result()


def _write_one(table: pa.Table, name: str, directory: Path) -> None:
    ids = ID_COLUMNS[name]
    dict_cols = [c for c in table.column_names if c not in ids and c not in NO_DICT]
    path = directory / f"{name}.parquet"
    pq.write_table(
        table,
        path,
        compression="zstd",
        compression_level=1,
        row_group_size=ROW_GROUP[name],
        use_dictionary=dict_cols,
        column_encoding={c: "DELTA_BINARY_PACKED" for c in ids},
        write_statistics=True,
    )
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_segment_table(directory: Path, name: str, columns: list[str] | None = None) -> pa.Table:
    """Read one table of a segment directory."""
    return pq.read_table(directory / f"{name}.parquet", columns=columns)
