"""The one columnar model every chain reader produces: a batch of blocks as numpy arrays.

Readers (``blk*.dat`` files, raw/hex blocks, Bitcoin Core RPC JSON, the simulator's files)
all yield :class:`BlockBatch` objects; the store consumes nothing else. Hashes are kept as
``(n, 32) uint8`` arrays in *internal* byte order (as hashed); :func:`hash_to_hex` gives the
reversed hex that explorers and RPC show. Amounts are integer satoshis, always.

Row relations inside one batch (all indexes are batch-local, 0-based):

* ``tx_block[i]``   -> row in the block arrays of transaction ``i``
* ``in_tx[j]``      -> transaction row of input ``j``; inputs of a tx are contiguous, in vin order
* ``out_tx[k]``     -> transaction row of output ``k``; outputs are contiguous, in vout order
* ``tx_in_start[i]``/``tx_out_start[i]`` with ``tx_n_in``/``tx_n_out`` give those ranges
* blocks, and transactions within a block, are in the order they were read
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

HASH_LEN = 32
ADDR_KEY_LEN = 33  # 1 byte ScriptType + 32 bytes payload (20-byte hashes are zero-padded)


class ScriptType(IntEnum):
    """Closed set of output script kinds; the value is stored in the ``script_type`` columns."""

    NONSTANDARD = 0
    P2PK = 1  # kept as the key; its address is the P2PKH of hash160(pubkey), as explorers show
    P2PKH = 2
    P2SH = 3
    P2WPKH = 4
    P2WSH = 5
    P2TR = 6
    MULTISIG = 7  # bare multisig: no address
    NULLDATA = 8  # OP_RETURN: no address
    WITNESS_UNKNOWN = 9  # segwit v1+ programs other than taproot: no address assigned

    @property
    def label(self) -> str:
        """The lower-case name used in JSON output (``p2pkh``, ``nulldata`` ...)."""
        return _LABELS[self]


_LABELS = {
    ScriptType.NONSTANDARD: "nonstandard",
    ScriptType.P2PK: "p2pk",
    ScriptType.P2PKH: "p2pkh",
    ScriptType.P2SH: "p2sh",
    ScriptType.P2WPKH: "p2wpkh",
    ScriptType.P2WSH: "p2wsh",
    ScriptType.P2TR: "p2tr",
    ScriptType.MULTISIG: "multisig",
    ScriptType.NULLDATA: "nulldata",
    ScriptType.WITNESS_UNKNOWN: "nonstandard",
}

# Address key: the identity of an address independent of its string form. key[0] is the
# ScriptType under which the address is *shown* (P2PK outputs use P2PKH), key[1:] the hash
# payload left-aligned and zero-padded to 32 bytes. Outputs without an address have key[0]=0xFF.
NO_ADDRESS = 0xFF


def hash_to_hex(h: bytes | np.ndarray) -> str:
    """Internal-order 32-byte hash -> display hex (byte-reversed), as explorers and RPC show."""
    return bytes(h)[::-1].hex()


def hex_to_hash(s: str) -> bytes:
    """Display hex (as explorers show) -> internal-order 32 bytes; ValueError if malformed."""
    raw = bytes.fromhex(s)
    if len(raw) != HASH_LEN:
        raise ValueError(f"expected 64 hex characters, got {len(s)}")
    return raw[::-1]


def _empty(shape: tuple[int, ...], dtype: str) -> np.ndarray:
    return np.zeros(shape, dtype=dtype)


@dataclass
class BlockBatch:
    """Blocks, transactions, inputs and outputs of one read batch, as parallel numpy arrays.

    ``source``/``block_offset`` say where each block came from, for error messages.
    ``out_script`` keeps the raw scriptPubKey only where no address carries it
    (P2PK, multisig, nulldata, nonstandard, unknown witness): ``out_script_off[k]`` and
    ``out_script_len[k]`` slice ``out_script_buf``; length 0 for address-carrying outputs.
    ``block_height`` is -1 where unknown (readers fill it from context or BIP34).
    """

    # blocks (nb)
    block_hash: np.ndarray = field(default_factory=lambda: _empty((0, 32), "u1"))
    block_prev_hash: np.ndarray = field(default_factory=lambda: _empty((0, 32), "u1"))
    block_merkle_root: np.ndarray = field(default_factory=lambda: _empty((0, 32), "u1"))
    block_version: np.ndarray = field(default_factory=lambda: _empty((0,), "i4"))
    block_time: np.ndarray = field(default_factory=lambda: _empty((0,), "u4"))
    block_bits: np.ndarray = field(default_factory=lambda: _empty((0,), "u4"))
    block_nonce: np.ndarray = field(default_factory=lambda: _empty((0,), "u4"))
    block_height: np.ndarray = field(default_factory=lambda: _empty((0,), "i4"))
    block_bip34_height: np.ndarray = field(default_factory=lambda: _empty((0,), "i4"))  # -1 if none
    block_size: np.ndarray = field(default_factory=lambda: _empty((0,), "u4"))
    block_weight: np.ndarray = field(default_factory=lambda: _empty((0,), "u4"))
    block_tx_start: np.ndarray = field(default_factory=lambda: _empty((0,), "i8"))
    block_n_tx: np.ndarray = field(default_factory=lambda: _empty((0,), "i4"))
    # transactions (nt)
    txid: np.ndarray = field(default_factory=lambda: _empty((0, 32), "u1"))
    wtxid: np.ndarray = field(default_factory=lambda: _empty((0, 32), "u1"))
    tx_block: np.ndarray = field(default_factory=lambda: _empty((0,), "i4"))
    tx_version: np.ndarray = field(default_factory=lambda: _empty((0,), "i4"))
    tx_locktime: np.ndarray = field(default_factory=lambda: _empty((0,), "u4"))
    tx_size: np.ndarray = field(default_factory=lambda: _empty((0,), "u4"))
    tx_vsize: np.ndarray = field(default_factory=lambda: _empty((0,), "u4"))
    tx_weight: np.ndarray = field(default_factory=lambda: _empty((0,), "u4"))
    tx_coinbase: np.ndarray = field(default_factory=lambda: _empty((0,), "?"))
    tx_segwit: np.ndarray = field(default_factory=lambda: _empty((0,), "?"))
    tx_in_start: np.ndarray = field(default_factory=lambda: _empty((0,), "i8"))
    tx_n_in: np.ndarray = field(default_factory=lambda: _empty((0,), "i4"))
    tx_out_start: np.ndarray = field(default_factory=lambda: _empty((0,), "i8"))
    tx_n_out: np.ndarray = field(default_factory=lambda: _empty((0,), "i4"))
    # inputs (ni); a coinbase input has prev_txid all-zero and prev_vout 0xFFFFFFFF
    in_tx: np.ndarray = field(default_factory=lambda: _empty((0,), "i8"))
    in_prev_txid: np.ndarray = field(default_factory=lambda: _empty((0, 32), "u1"))
    in_prev_vout: np.ndarray = field(default_factory=lambda: _empty((0,), "u4"))
    in_sequence: np.ndarray = field(default_factory=lambda: _empty((0,), "u4"))
    in_witness: np.ndarray = field(default_factory=lambda: _empty((0,), "?"))  # non-empty witness
    # outputs (no)
    out_tx: np.ndarray = field(default_factory=lambda: _empty((0,), "i8"))
    out_value: np.ndarray = field(default_factory=lambda: _empty((0,), "i8"))
    out_script_type: np.ndarray = field(default_factory=lambda: _empty((0,), "u1"))
    out_addr_key: np.ndarray = field(default_factory=lambda: _empty((0, 33), "u1"))
    out_script_off: np.ndarray = field(default_factory=lambda: _empty((0,), "i8"))
    out_script_len: np.ndarray = field(default_factory=lambda: _empty((0,), "i4"))
    out_script_buf: np.ndarray = field(default_factory=lambda: _empty((0,), "u1"))
    # provenance (nb)
    source: list[str] = field(default_factory=list)
    block_offset: np.ndarray = field(default_factory=lambda: _empty((0,), "i8"))

    @property
    def n_blocks(self) -> int:
        """Number of blocks in the batch."""
        return int(self.block_hash.shape[0])

    @property
    def n_txs(self) -> int:
        """Number of transactions in the batch."""
        return int(self.txid.shape[0])

    @property
    def n_inputs(self) -> int:
        """Number of inputs in the batch."""
        return int(self.in_tx.shape[0])

    @property
    def n_outputs(self) -> int:
        """Number of outputs in the batch."""
        return int(self.out_tx.shape[0])

    def out_script(self, k: int) -> bytes:
        """The kept raw scriptPubKey of output ``k`` (empty for address-carrying outputs)."""
        off = int(self.out_script_off[k])
        return self.out_script_buf[off : off + int(self.out_script_len[k])].tobytes()
