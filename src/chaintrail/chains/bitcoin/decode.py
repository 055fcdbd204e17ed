"""Serialized Bitcoin blocks -> :class:`BlockBatch` (exact consensus serialisation, BIP141/144).

:func:`decode_blocks` checks everything a block's bytes can be checked for without the UTXO
set: minimal compact sizes capped before use, truncation, leftover bytes, segwit marker/flag
and superfluous witness, coinbase position, output value range, block weight, and the merkle
root (recomputed from the txids). Problems raise :class:`DecodeError` (malformed bytes) or
:class:`ValidationError` (well-formed but wrong), naming the source and the absolute byte
offset. It computes txid, wtxid, size/vsize/weight, block hash/size/weight, coinbase flags
and the BIP34 height, and classifies every output script into an address key.

All the per-transaction work happens in one numba kernel (:mod:`decode_kernel`) run twice:
once to count rows, once to fill preallocated columns.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from chaintrail.chains.bitcoin import decode_kernel as K
from chaintrail.chains.bitcoin.batchops import concat_batches, slice_batch
from chaintrail.chains.bitcoin.hashing import sha256_fns
from chaintrail.chains.model import ADDR_KEY_LEN, BlockBatch, hash_to_hex
from chaintrail.errors import DecodeError, InputError, ValidationError

__all__ = [
    "ERRORS",
    "concat_batches",
    "decode_block",
    "decode_blocks",
    "decode_buffer",
    "slice_batch",
]

BlobSpec = tuple[bytes | bytearray | memoryview, str, int]

# error code -> (exception class, message)
ERRORS: dict[int, tuple[type[InputError], str]] = {
    K.E_HEADER: (DecodeError, "truncated block: expected an 80-byte header"),
    K.E_CS_TRUNC: (DecodeError, "truncated: expected a compact-size integer"),
    K.E_CS_NONMINIMAL: (DecodeError, "non-minimal compact-size integer"),
    K.E_CS_CAP: (DecodeError, "compact-size length above the 4,000,000 cap"),
    K.E_NO_TX: (DecodeError, "block with zero transactions"),
    K.E_TX_VERSION: (DecodeError, "truncated transaction: expected a 4-byte version"),
    K.E_FLAG: (DecodeError, "expected segwit flag 0x01 after a zero input count"),
    K.E_NO_INPUTS: (DecodeError, "transaction with no inputs"),
    K.E_OUTPOINT: (DecodeError, "truncated input: expected a 36-byte outpoint"),
    K.E_SCRIPTSIG: (DecodeError, "truncated input: expected the scriptSig bytes"),
    K.E_SEQUENCE: (DecodeError, "truncated input: expected a 4-byte sequence"),
    K.E_NO_OUTPUTS: (DecodeError, "transaction with no outputs"),
    K.E_VALUE: (DecodeError, "truncated output: expected an 8-byte value"),
    K.E_SCRIPTPUBKEY: (DecodeError, "truncated output: expected the scriptPubKey bytes"),
    K.E_WITNESS_ITEM: (DecodeError, "truncated witness: expected the witness item bytes"),
    K.E_SUPERFLUOUS_WITNESS: (DecodeError, "segwit flag set but every witness is empty"),
    K.E_LOCKTIME: (DecodeError, "truncated transaction: expected a 4-byte locktime"),
    K.E_LEFTOVER: (DecodeError, "leftover bytes after the block's last transaction"),
    K.E_MONEY: (ValidationError, "output value outside 0..21,000,000 BTC"),
    K.E_MERKLE: (ValidationError, "merkle root mismatch"),
    K.E_COINBASE_FIRST: (ValidationError, "first transaction of the block is not a coinbase"),
    K.E_COINBASE_LATER: (ValidationError, "coinbase transaction after the first position"),
    K.E_WEIGHT: (ValidationError, "block weight above 4,000,000"),
    K.E_MERKLE_MUTATED: (ValidationError, "duplicate transactions (mutated merkle tree)"),
}


def _as_u8(blob: bytes | bytearray | memoryview) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.uint8)


def _join(blobs: Sequence[BlobSpec]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lens = np.array([len(b[0]) for b in blobs], dtype=np.int64)
    starts = np.zeros(len(blobs), dtype=np.int64)
    if len(blobs) > 1:
        starts[1:] = np.cumsum(lens)[:-1]
    if len(blobs) == 1:
        buf = _as_u8(blobs[0][0])
    else:
        buf = np.frombuffer(b"".join(bytes(b[0]) for b in blobs), dtype=np.uint8)
    if buf.size == 0:
        buf = np.zeros(1, np.uint8)  # numba indexes nothing, but wants a non-empty array
    if buf.flags.writeable:
        buf = buf.view()
        buf.flags.writeable = False  # one kernel specialisation: read-only input
    return buf, starts, lens


def _alloc(nb: int, nt: int, ni: int, no: int, ns: int) -> BlockBatch:
    z = np.zeros
    return BlockBatch(
        block_hash=z((nb, 32), "u1"),
        block_prev_hash=z((nb, 32), "u1"),
        block_merkle_root=z((nb, 32), "u1"),
        block_version=z(nb, "i4"),
        block_time=z(nb, "u4"),
        block_bits=z(nb, "u4"),
        block_nonce=z(nb, "u4"),
        block_height=np.full(nb, -1, "i4"),
        block_bip34_height=np.full(nb, -1, "i4"),
        block_size=z(nb, "u4"),
        block_weight=z(nb, "u4"),
        block_tx_start=z(nb, "i8"),
        block_n_tx=z(nb, "i4"),
        txid=z((nt, 32), "u1"),
        wtxid=z((nt, 32), "u1"),
        tx_block=z(nt, "i4"),
        tx_version=z(nt, "i4"),
        tx_locktime=z(nt, "u4"),
        tx_size=z(nt, "u4"),
        tx_vsize=z(nt, "u4"),
        tx_weight=z(nt, "u4"),
        tx_coinbase=z(nt, "?"),
        tx_segwit=z(nt, "?"),
        tx_in_start=z(nt, "i8"),
        tx_n_in=z(nt, "i4"),
        tx_out_start=z(nt, "i8"),
        tx_n_out=z(nt, "i4"),
        in_tx=z(ni, "i8"),
        in_prev_txid=z((ni, 32), "u1"),
        in_prev_vout=z(ni, "u4"),
        in_sequence=z(ni, "u4"),
        in_witness=z(ni, "?"),
        out_tx=z(no, "i8"),
        out_value=z(no, "i8"),
        out_script_type=z(no, "u1"),
        out_addr_key=z((no, ADDR_KEY_LEN), "u1"),
        out_script_off=z(no, "i8"),
        out_script_len=z(no, "i4"),
        out_script_buf=z(ns, "u1"),
    )


def _run(buf: np.ndarray, starts: np.ndarray, lens: np.ndarray, fill: bool, counts: np.ndarray,
         err_hash: np.ndarray, bb: BlockBatch,
         merkle_work: np.ndarray) -> tuple[int, int, int]:  # fmt: skip
    return K.decode_kernel(
        sha256_fns(), buf, starts, lens, fill, counts, err_hash,
        bb.block_hash, bb.block_prev_hash, bb.block_merkle_root, bb.block_version,
        bb.block_time, bb.block_bits, bb.block_nonce, bb.block_bip34_height, bb.block_size,
        bb.block_weight, bb.block_tx_start, bb.block_n_tx,
        bb.txid, bb.wtxid, bb.tx_block, bb.tx_version, bb.tx_locktime, bb.tx_size,
        bb.tx_vsize, bb.tx_weight, bb.tx_coinbase, bb.tx_segwit, bb.tx_in_start, bb.tx_n_in,
        bb.tx_out_start, bb.tx_n_out,
        bb.in_tx, bb.in_prev_txid, bb.in_prev_vout, bb.in_sequence, bb.in_witness,
        bb.out_tx, bb.out_value, bb.out_script_type, bb.out_addr_key, bb.out_script_off,
        bb.out_script_len, bb.out_script_buf, merkle_work,
    )  # fmt: skip


def _raise(code: int, block: int, offset: int, buf: np.ndarray, starts: np.ndarray,
           sources: Sequence[str], bases: np.ndarray, root: bytes) -> None:  # fmt: skip
    cls, message = ERRORS[code]
    if code == K.E_MERKLE:
        s = int(starts[block])
        header = buf[s + 36 : s + 68].tobytes()
        message += f": header says {hash_to_hex(header)}, transactions hash to {hash_to_hex(root)}"
    raise cls(message, source=sources[block], offset=int(bases[block]) + int(offset))


def decode_blocks(blobs: Sequence[BlobSpec]) -> BlockBatch:
    """Decode ``(block bytes, source name, byte offset of the block in its source)`` tuples.

    Returns one BlockBatch with blocks in the given order; heights are -1 (BIP34 heights are
    in ``block_bip34_height``). Raises DecodeError/ValidationError naming source and offset.
    """
    blobs = list(blobs)
    if not blobs:
        return BlockBatch()
    buf, starts, lens = _join(blobs)
    bases = np.array([int(b[2]) for b in blobs], dtype=np.int64)
    return decode_buffer(buf, starts, lens, [str(b[1]) for b in blobs], bases)


def decode_buffer(buf: np.ndarray, starts: np.ndarray, lens: np.ndarray,
                  sources: Sequence[str], bases: np.ndarray) -> BlockBatch:  # fmt: skip
    """Decode the blocks ``buf[starts[i]:starts[i]+lens[i]]`` of one ``uint8`` buffer.

    ``sources[i]``/``bases[i]`` name where block ``i`` came from (file, byte offset) for
    errors and :attr:`BlockBatch.source`. Same checks and result as :func:`decode_blocks`;
    the numba kernel releases the GIL, so batches can be decoded in parallel threads.
    """
    nb = int(starts.shape[0])
    if nb == 0:
        return BlockBatch()
    if buf.size == 0:
        buf = np.zeros(1, np.uint8)
    if buf.flags.writeable:
        buf = buf.view()
        buf.flags.writeable = False  # one kernel specialisation: read-only input
    starts = np.ascontiguousarray(starts, np.int64)
    lens = np.ascontiguousarray(lens, np.int64)
    bases = np.asarray(bases, np.int64)
    counts = np.zeros((nb, 4), dtype=np.int64)
    err_hash = np.zeros(32, np.uint8)
    dummy = _alloc(1, 1, 1, 1, 1)
    code, block, offset = _run(buf, starts, lens, False, counts, err_hash, dummy, dummy.txid)
    if code != K.OK:
        _raise(code, block, offset, buf, starts, sources, bases, b"")
    nt, ni, no, ns = (int(x) for x in counts.sum(axis=0))
    batch = _alloc(nb, nt, ni, no, max(ns, 1))
    merkle_work = np.zeros((int(counts[:, 0].max()), 32), np.uint8)
    code, block, offset = _run(buf, starts, lens, True, counts, err_hash, batch, merkle_work)
    if code != K.OK:
        _raise(code, block, offset, buf, starts, sources, bases, err_hash.tobytes())
    used = int(batch.out_script_off[-1] + batch.out_script_len[-1]) if no else 0
    batch.out_script_buf = batch.out_script_buf[:used].copy()
    batch.source = [str(x) for x in sources]
    batch.block_offset = bases.copy()
    return batch


def decode_block(data: bytes | bytearray | memoryview, source: str = "<block>") -> BlockBatch:
    """Decode one serialized block (a batch of one block)."""
    return decode_blocks([(data, source, 0)])
