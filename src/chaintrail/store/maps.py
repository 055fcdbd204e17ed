"""The ingest-time maps: address key -> address id, and the UTXO set; resolve, undo, persist.

:class:`ChainMaps` turns a :class:`BlockBatch` into a :class:`ResolvedBatch` (ids assigned,
inputs resolved to the outputs they spend, fees, first-seen addresses). Its tables are saved
as snapshots (``maps/snap-G``) tagged with the segments they cover; after a crash the newest
snapshot whose segments prefix the manifest's is loaded and the later segments are replayed
from Parquet, so the maps always match the committed store.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from chaintrail.chains.model import NO_ADDRESS, BlockBatch, ScriptType, hash_to_hex
from chaintrail.errors import StoreError, ValidationError
from chaintrail.store import hashmap as hm
from chaintrail.store.addressmap import KEYS_FILE, AddressMap, keys_file_ok
from chaintrail.store.layout import Manifest, Segment, fsync_dir, segment_dir
from chaintrail.store.segments import ResolvedBatch, read_segment_table

MAP_FORMAT = 2  # snapshot layout: 8-byte address slots + keys file, 28-byte UTXO slots


class ChainMaps:
    """Address map and UTXO set for the chain as committed (plus the batch being applied)."""

    def __init__(self) -> None:
        self.addr = AddressMap()
        self.utxo = hm.empty_utxo_table(1 << 10)
        self.n_utxos = 0
        self.segment_ids: list[int] = []

    # ------------------------------------------------------------------ apply a batch
    def resolve(
        self, b: BlockBatch, heights: np.ndarray, m: Manifest, allow_gaps: bool
    ) -> ResolvedBatch:
        """Assign ids and resolve inputs of ``b`` appended after ``m``; updates the maps.

        Raises ValidationError naming the block's source/offset and the missing outpoint when
        an input spends an output that is neither in the store nor earlier in the batch
        (unless ``allow_gaps``). After an error the maps are unusable: reload them.
        """
        has_addr = b.out_addr_key[:, 0] != NO_ADDRESS
        out_addr, first = self.addr.assign(b.out_addr_key, has_addr)

        tx_k0, tx_k1 = hm.fold_txids(b.txid)
        in_k0, in_k1 = hm.fold_txids(b.in_prev_txid)
        spendable = b.out_script_type != ScriptType.NULLDATA
        self.utxo = hm.grow_utxo_table(self.utxo, self.n_utxos, b.n_outputs)
        prev_out, prev_value, prev_addr, delta = hm.utxo_spend_and_create(
            *hm.utxo_cols(self.utxo),
            b.tx_coinbase, b.tx_in_start, b.tx_n_in, b.tx_out_start, b.tx_n_out, tx_k0, tx_k1,
            in_k0, in_k1, b.in_prev_vout, b.out_value, out_addr, spendable, np.int64(m.n_outputs),
        )  # fmt: skip
        self.n_utxos += int(delta)

        stored = np.flatnonzero(~b.tx_coinbase[b.in_tx])
        in_prev = prev_out[stored]
        unresolved = in_prev < 0
        if unresolved.any() and not allow_gaps:
            self._raise_unresolved(b, int(stored[np.argmax(unresolved)]))
        tx_n_in = np.where(b.tx_coinbase, 0, b.tx_n_in).astype(np.int64)
        tx_first_in = np.empty(b.n_txs, np.int64)
        if b.n_txs:
            tx_first_in[0] = 0
            np.cumsum(tx_n_in[:-1], out=tx_first_in[1:])
        in_value = prev_value[stored]
        fee = _fees(b, tx_n_in, tx_first_in, in_value, unresolved)
        return ResolvedBatch(
            batch=b, heights=heights.astype(np.int32), tx_base=m.n_txs, in_base=m.n_inputs,
            out_base=m.n_outputs, addr_base=m.n_addresses, stored_in=stored, tx_n_in=tx_n_in,
            tx_first_in=tx_first_in + m.n_inputs, in_prev_out=in_prev, in_value=in_value,
            in_addr=prev_addr[stored], out_addr=out_addr, tx_fee=fee, new_addr_rows=first,
        )  # fmt: skip

    @staticmethod
    def _raise_unresolved(b: BlockBatch, j: int) -> None:
        t = int(b.in_tx[j])
        blk = int(b.tx_block[t])
        raise ValidationError(
            f"input {j - int(b.tx_in_start[t])} of tx {hash_to_hex(b.txid[t])} spends "
            f"{hash_to_hex(b.in_prev_txid[j])}:{int(b.in_prev_vout[j])}, an output not in the "
            "store nor earlier in the input (ingest its blocks first, or use --allow-gaps)",
            source=b.source[blk] if blk < len(b.source) else None,
            offset=int(b.block_offset[blk]) if blk < b.block_offset.shape[0] else None,
        )

    # ------------------------------------------------------------------ undo / replay
    def replay_segment(self, root: Path, seg: Segment, con: duckdb.DuckDBPyConnection) -> None:
        """Apply a committed segment's effects (new addresses, created and spent outputs)."""
        d = segment_dir(root, seg)
        addrs = read_segment_table(d, "addresses", ["address_id", "key"])
        keys = _fixed_to_numpy(addrs.column("key"), 33)
        ids, _ = self.addr.assign(keys, np.ones(keys.shape[0], np.bool_))
        if not np.array_equal(ids, addrs.column("address_id").to_numpy()):
            raise StoreError(f"{d}: address ids do not replay; the store is inconsistent")
        created = con.execute(
            f"""SELECT o.out_id, t.txid, o.vout, o.value, coalesce(o.address_id, -1)
                FROM read_parquet('{d}/outputs.parquet') o
                JOIN read_parquet('{d}/txs.parquet') t USING (tx_id)
                WHERE o.script_type <> {int(ScriptType.NULLDATA)} ORDER BY o.out_id"""
        ).fetchnumpy()
        self._put(created)
        spent = con.execute(
            f"SELECT prev_out_id FROM read_parquet('{d}/inputs.parquet') "
            "WHERE prev_out_id IS NOT NULL ORDER BY in_id"
        ).fetchnumpy()["prev_out_id"]
        self._remove(outpoints(con, np.asarray(spent, np.int64)))
        self.segment_ids.append(seg.id)

    def rollback(self, con: duckdb.DuckDBPyConnection, keep: Manifest, old: Manifest) -> None:
        """Undo everything in ``old`` past the counts of ``keep`` (addresses, outputs, spends).

        ``con`` must have views over ``old``'s segments.
        """
        self.addr.truncate(keep.n_addresses)
        created = con.execute(
            f"""SELECT o.out_id, t.txid, o.vout, o.value, coalesce(o.address_id, -1)
                FROM outputs o JOIN txs t USING (tx_id)
                WHERE o.out_id >= {keep.n_outputs}
                  AND o.script_type <> {int(ScriptType.NULLDATA)} ORDER BY o.out_id"""
        ).fetchnumpy()
        self._remove(created)
        restored = con.execute(
            f"""SELECT o.out_id, t.txid, o.vout, o.value, coalesce(o.address_id, -1)
                FROM inputs i JOIN outputs o ON o.out_id = i.prev_out_id
                JOIN txs t ON t.tx_id = o.tx_id
                WHERE i.in_id >= {keep.n_inputs} AND i.prev_out_id < {keep.n_outputs}
                ORDER BY o.out_id"""
        ).fetchnumpy()
        self._put(restored)
        self.segment_ids = [s.id for s in keep.segments]

    def _put(self, rows: dict[str, np.ndarray]) -> None:
        out = np.asarray(rows["out_id"], np.int64)
        k0, k1 = _txid_words(rows["txid"])
        self.utxo = hm.grow_utxo_table(self.utxo, self.n_utxos, out.shape[0])
        cols = list(rows.values())
        self.n_utxos += hm.utxo_put_many(
            *hm.utxo_cols(self.utxo), k0, k1, np.asarray(cols[2], np.uint32), out,
            np.asarray(cols[3], np.int64), np.asarray(cols[4], np.int64),
        )  # fmt: skip

    def unspent(self, txids: np.ndarray, vouts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(out id, value, address id) of outpoints ``(txid internal (n,32), vout)`` that are
        in the UTXO set now; -1 for those that are not (spent, unknown)."""
        k0, k1 = hm.fold_txids(np.ascontiguousarray(txids, np.uint8).reshape(-1, 32))
        return hm.utxo_lookup_many(  # type: ignore[no-any-return]
            *hm.utxo_cols(self.utxo), k0, k1, np.asarray(vouts, np.uint32)
        )

    @property
    def n_addresses(self) -> int:
        """Addresses in the map (ids ``0..n-1``)."""
        return self.addr.n

    def _remove(self, rows: dict[str, np.ndarray]) -> None:
        out = np.asarray(rows["out_id"], np.int64)
        k0, k1 = _txid_words(rows["txid"])
        self.n_utxos -= hm.utxo_remove_many(
            *hm.utxo_cols(self.utxo), k0, k1, np.asarray(rows["vout"], np.uint32), out
        )

    # ------------------------------------------------------------------ snapshots
    def save(self, root: Path, generation: int) -> Path:
        """Write a snapshot for ``generation`` atomically; older snapshots are removed."""
        maps = root / "maps"
        maps.mkdir(exist_ok=True)
        final = maps / f"snap-{generation:08d}"
        if final.exists():
            return final
        tmp = maps / f".tmp-{generation:08d}-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        self.addr.save(tmp, maps / KEYS_FILE)
        for name, arr in self.utxo.items():
            _save(tmp / f"utxo_{name}.npy", arr)
        meta = {
            "format": MAP_FORMAT,
            "generation": generation,
            "segment_ids": self.segment_ids,
            "n_addresses": self.n_addresses,
            "n_utxos": self.n_utxos,
        }
        with open(tmp / "meta.json", "w") as fh:
            json.dump(meta, fh)
            fh.flush()
            os.fsync(fh.fileno())
        fsync_dir(tmp)
        os.replace(tmp, final)
        fsync_dir(maps)
        for old in maps.iterdir():
            if old != final and old.name != KEYS_FILE:
                shutil.rmtree(old, ignore_errors=True)
        return final

    @classmethod
    def load(cls, root: Path, m: Manifest, con: duckdb.DuckDBPyConnection) -> ChainMaps:
        """Maps matching manifest ``m``: newest usable snapshot plus replay of later segments."""
        maps = cls()
        snap = find_snapshot(root, m)
        if snap is not None:
            meta = json.loads((snap / "meta.json").read_text())
            maps.addr = AddressMap.load(snap, root / "maps" / KEYS_FILE, meta["n_addresses"])
            maps.utxo = {c: np.load(snap / f"utxo_{c}.npy") for c in hm.UTXO_COLUMNS}
            maps.n_utxos = meta["n_utxos"]
            maps.segment_ids = list(meta["segment_ids"])
        for seg in m.segments[len(maps.segment_ids) :]:
            maps.replay_segment(root, seg, con)
        return maps


def find_snapshot(root: Path, m: Manifest) -> Path | None:
    """Newest snapshot whose covered segments are a prefix of ``m``'s segments."""
    maps = root / "maps"
    if not maps.exists():
        return None
    ids = [s.id for s in m.segments]
    for snap in sorted(maps.glob("snap-*"), reverse=True):
        try:
            meta = json.loads((snap / "meta.json").read_text())
        except (OSError, ValueError):
            continue
        covered = meta["segment_ids"]
        usable = meta.get("format") == MAP_FORMAT and keys_file_ok(
            maps / KEYS_FILE, int(meta["n_addresses"])
        )
        if usable and ids[: len(covered)] == covered:
            return snap
    return None


def outpoints(con: duckdb.DuckDBPyConnection, out_ids: np.ndarray) -> dict[str, np.ndarray]:
    """(out_id, txid, vout) of the given outputs, in the given order (views over all segments)."""
    want = pa.table({"want": out_ids, "pos": np.arange(out_ids.shape[0])})
    con.register("_want", want)
    try:
        rows = con.execute(
            """SELECT o.out_id, t.txid, o.vout FROM _want w
               JOIN outputs o ON o.out_id = w.want JOIN txs t ON t.tx_id = o.tx_id
               ORDER BY w.pos"""
        ).fetchnumpy()
    finally:
        con.unregister("_want")
    if len(rows["out_id"]) != out_ids.shape[0]:
        raise StoreError("inputs spend outputs missing from the store; the store is inconsistent")
    return rows


def _txid_words(txids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Display-order txid blobs (object array of bytes) -> internal-order fingerprint words."""
    n = len(txids)
    raw = np.frombuffer(b"".join(bytes(t) for t in txids), np.uint8).reshape(n, 32)
    return hm.fold_txids(raw[:, ::-1])


def _fixed_to_numpy(col, width: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    col = col.combine_chunks() if hasattr(col, "combine_chunks") else col
    if len(col) == 0:
        return np.zeros((0, width), np.uint8)
    if col.type.id != pa.binary(width).id:  # variable BLOBs (from DuckDB)
        return np.frombuffer(b"".join(col.to_pylist()), np.uint8).reshape(-1, width)
    buf = col.buffers()[1]
    arr = np.frombuffer(buf, np.uint8, count=len(col) * width, offset=col.offset * width)
    return arr.reshape(-1, width)


def _save(path: Path, arr: np.ndarray) -> None:
    with open(path, "wb") as fh:
        np.save(fh, arr)
        fh.flush()
        os.fsync(fh.fileno())


def _fees(
    b: BlockBatch,
    tx_n_in: np.ndarray,
    tx_first_in: np.ndarray,
    in_value: np.ndarray,
    unresolved: np.ndarray,
) -> np.ndarray:
    """Fee per tx: inputs minus outputs; 0 for coinbase; -1 if an input is unresolved."""
    in_cs = np.zeros(in_value.shape[0] + 1, np.int64)
    np.cumsum(np.where(unresolved, 0, in_value), out=in_cs[1:])
    bad_cs = np.zeros(in_value.shape[0] + 1, np.int64)
    np.cumsum(unresolved, out=bad_cs[1:])
    out_cs = np.zeros(b.n_outputs + 1, np.int64)
    np.cumsum(b.out_value, out=out_cs[1:])
    end_in = tx_first_in + tx_n_in
    ins = in_cs[end_in] - in_cs[tx_first_in]
    outs = out_cs[b.tx_out_start + b.tx_n_out] - out_cs[b.tx_out_start]
    fee = ins - outs
    fee[(bad_cs[end_in] - bad_cs[tx_first_in]) > 0] = -1
    fee[b.tx_coinbase] = 0
    return fee
