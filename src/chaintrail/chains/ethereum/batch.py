"""The account-model columnar batch: what every Ethereum reader yields and the store will consume.

Like Bitcoin's :class:`chaintrail.chains.model.BlockBatch`, a batch is parallel numpy arrays per
table, with batch-local row indexes between tables (all 0-based):

* ``tx_block[i]``  -> block row of transaction ``i``; a block's transactions are contiguous
  (``block_tx_start``/``block_n_tx``), in ``transactionIndex`` order
* ``log_tx[j]``    -> transaction row of log ``j``; a tx's logs are contiguous (``tx_log_start``/``tx_n_logs``)
* ``tt_tx``, ``bl_tx`` -> transaction row of a token transfer / blacklist event
* ``tr_tx`` -> transaction row of a trace (-1: a reward, or traces read without their block);
  traces also name their block number, transaction index and hash themselves, as
  ethereum-etl's traces do, so traces read alone (``trace_block`` without the block) stand
* ``wd_block[k]``  -> block row of withdrawal ``k`` (contiguous per block)

Hashes are ``(n, 32) uint8`` and addresses ``(n, 20) uint8`` in the one byte order Ethereum has
(as shown). Amounts in wei or token units are ``(n, 4) uint64`` limbs (:mod:`.u256`); gas,
nonces, indexes and times are int64. A nullable column has a ``*_has`` bool mask beside it;
int columns use -1 for "absent". Variable-length bytes are :class:`Var` (Arrow-style offsets).
Failed transactions are kept (``tx_status`` 0) with their value: analysis must not move it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np


def _z(shape: tuple[int, ...], dtype: str) -> np.ndarray:
    return np.zeros(shape, dtype=dtype)


def _f(shape: tuple[int, ...], dtype: str) -> np.ndarray:
    return field(default_factory=lambda: _z(shape, dtype))


@dataclass
class Var:
    """A column of variable-length values: row ``i`` is ``buf[offsets[i]:offsets[i+1]]``.

    ``has`` is False where the source had no value (JSON null, empty CSV cell), as opposed to
    an empty value (``0x``).
    """

    offsets: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64))
    buf: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint8))
    has: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))

    def __len__(self) -> int:
        return int(self.offsets.shape[0]) - 1

    def row(self, i: int) -> np.ndarray:
        """Values of row ``i``."""
        return self.buf[int(self.offsets[i]) : int(self.offsets[i + 1])]

    @classmethod
    def from_rows(cls, rows: list[bytes | None], dtype: str = "u1") -> Var:
        """Build from Python rows (``None`` = no value)."""
        has = np.array([r is not None for r in rows], dtype=bool)
        parts = [np.frombuffer(r, dtype) if r is not None else np.zeros(0, dtype) for r in rows]
        offsets = np.zeros(len(rows) + 1, np.int64)
        np.cumsum([p.shape[0] for p in parts], out=offsets[1:])
        buf = np.concatenate(parts) if parts else np.zeros(0, dtype)
        return cls(offsets, buf.astype(dtype), has)


class TraceType(IntEnum):
    """Kind of a trace row, named as Parity's ``trace_block`` and ethereum-etl name them."""

    CALL = 1
    CREATE = 2  # CREATE and CREATE2
    SUICIDE = 3  # SELFDESTRUCT
    REWARD = 4  # block and uncle rewards (Parity only; geth has no reward frames)


class CallType(IntEnum):
    """``callType`` of a call trace; only CALL moves value to ``to`` (see traces.py)."""

    NONE = 0
    CALL = 1
    CALLCODE = 2
    DELEGATECALL = 3
    STATICCALL = 4


class RewardType(IntEnum):
    """``rewardType`` of a reward trace."""

    NONE = 0
    BLOCK = 1
    UNCLE = 2


class BlacklistKind(IntEnum):
    """A stablecoin issuer's freeze event (events.py decodes them from logs)."""

    ADDED = 1  # USDT AddedBlackList(address), USDC Blacklisted(address indexed)
    REMOVED = 2  # USDT RemovedBlackList(address), USDC UnBlacklisted(address indexed)
    DESTROYED_FUNDS = 3  # USDT DestroyedBlackFunds(address, uint256): the frozen balance burnt


def label(enum_value: IntEnum) -> str:
    """Lower-case name used in JSON/CSV (``call``, ``delegatecall``, ``suicide`` ...)."""
    return enum_value.name.lower()


@dataclass
class EthBatch:
    """Blocks, transactions (with receipts), logs, decoded token transfers and freeze events,
    traces, withdrawals, contracts and token metadata of one read batch."""

    # blocks (nb)
    block_number: np.ndarray = _f((0,), "i8")
    block_hash: np.ndarray = _f((0, 32), "u1")
    block_parent_hash: np.ndarray = _f((0, 32), "u1")
    block_nonce: np.ndarray = _f((0, 8), "u1")
    block_sha3_uncles: np.ndarray = _f((0, 32), "u1")
    block_logs_bloom: np.ndarray = _f((0, 256), "u1")
    block_transactions_root: np.ndarray = _f((0, 32), "u1")
    block_state_root: np.ndarray = _f((0, 32), "u1")
    block_receipts_root: np.ndarray = _f((0, 32), "u1")
    block_miner: np.ndarray = _f((0, 20), "u1")
    block_difficulty: np.ndarray = _f((0, 4), "u8")
    block_total_difficulty: np.ndarray = _f((0, 4), "u8")
    block_total_difficulty_has: np.ndarray = _f((0,), "?")  # dropped by post-merge nodes
    block_size: np.ndarray = _f((0,), "i8")
    block_extra_data: Var = field(default_factory=Var)
    block_gas_limit: np.ndarray = _f((0,), "i8")
    block_gas_used: np.ndarray = _f((0,), "i8")
    block_timestamp: np.ndarray = _f((0,), "i8")
    block_base_fee: np.ndarray = _f((0, 4), "u8")
    block_base_fee_has: np.ndarray = _f((0,), "?")  # London (12,965,000) on
    block_withdrawals_root: np.ndarray = _f((0, 32), "u1")
    block_withdrawals_root_has: np.ndarray = _f((0,), "?")  # Shanghai (17,034,870) on
    block_tx_count: np.ndarray = _f((0,), "i4")  # as the source says, even if its txs were not read
    block_tx_start: np.ndarray = _f((0,), "i8")
    block_n_tx: np.ndarray = _f((0,), "i4")  # transactions of the block in this batch
    block_wd_start: np.ndarray = _f((0,), "i8")
    block_n_wd: np.ndarray = _f((0,), "i4")
    # transactions (nt)
    tx_hash: np.ndarray = _f((0, 32), "u1")
    tx_block: np.ndarray = _f((0,), "i4")
    tx_index: np.ndarray = _f((0,), "i4")
    tx_nonce: np.ndarray = _f((0,), "i8")
    tx_from: np.ndarray = _f((0, 20), "u1")
    tx_to: np.ndarray = _f((0, 20), "u1")
    tx_to_has: np.ndarray = _f((0,), "?")  # False: contract creation
    tx_value: np.ndarray = _f((0, 4), "u8")
    tx_gas: np.ndarray = _f((0,), "i8")
    tx_gas_price: np.ndarray = _f((0, 4), "u8")
    tx_input: Var = field(default_factory=Var)
    tx_max_fee: np.ndarray = _f((0, 4), "u8")
    tx_max_fee_has: np.ndarray = _f((0,), "?")
    tx_max_priority_fee: np.ndarray = _f((0, 4), "u8")
    tx_max_priority_fee_has: np.ndarray = _f((0,), "?")
    tx_type: np.ndarray = _f((0,), "i2")
    # receipts, one per transaction when read (tx_receipt_has)
    tx_receipt_has: np.ndarray = _f((0,), "?")
    tx_cumulative_gas_used: np.ndarray = _f((0,), "i8")
    tx_gas_used: np.ndarray = _f((0,), "i8")
    tx_contract_address: np.ndarray = _f((0, 20), "u1")
    tx_contract_address_has: np.ndarray = _f((0,), "?")
    tx_root: np.ndarray = _f((0, 32), "u1")
    tx_root_has: np.ndarray = _f((0,), "?")  # pre-Byzantium receipts carry a state root
    tx_status: np.ndarray = _f((0,), "i1")  # 1 success, 0 failed, -1 unknown (pre-Byzantium)
    tx_effective_gas_price: np.ndarray = _f((0, 4), "u8")
    tx_effective_gas_price_has: np.ndarray = _f((0,), "?")
    tx_blob_gas_used: np.ndarray = _f((0,), "i8")  # -1: not a blob tx
    tx_blob_gas_price: np.ndarray = _f((0, 4), "u8")
    tx_log_start: np.ndarray = _f((0,), "i8")
    tx_n_logs: np.ndarray = _f((0,), "i4")
    # logs (nl)
    log_tx: np.ndarray = _f((0,), "i8")
    log_index: np.ndarray = _f((0,), "i4")  # position in the block, as nodes number them
    log_address: np.ndarray = _f((0, 20), "u1")
    log_n_topics: np.ndarray = _f((0,), "i1")
    log_topics: np.ndarray = _f((0, 4, 32), "u1")
    log_data: Var = field(default_factory=Var)
    # token transfers: ERC-20/721 Transfer events, decoded as ethereum-etl does (events.py)
    tt_tx: np.ndarray = _f((0,), "i8")
    tt_log_index: np.ndarray = _f((0,), "i4")
    tt_token: np.ndarray = _f((0, 20), "u1")
    tt_from: np.ndarray = _f((0, 20), "u1")
    tt_to: np.ndarray = _f((0, 20), "u1")
    tt_value: np.ndarray = _f((0, 4), "u8")
    # stablecoin freeze events (BlacklistKind), from any contract: intel decides which issuers count
    bl_tx: np.ndarray = _f((0,), "i8")
    bl_log_index: np.ndarray = _f((0,), "i4")
    bl_token: np.ndarray = _f((0, 20), "u1")
    bl_account: np.ndarray = _f((0, 20), "u1")
    bl_kind: np.ndarray = _f((0,), "u1")
    bl_amount: np.ndarray = _f((0, 4), "u8")  # DESTROYED_FUNDS only
    # traces (nr), in the node's order: per transaction depth-first, rewards last
    tr_block_number: np.ndarray = _f((0,), "i8")
    tr_tx: np.ndarray = _f((0,), "i8")
    tr_tx_index: np.ndarray = _f((0,), "i4")  # -1: block-scoped (reward)
    tr_tx_hash: np.ndarray = _f((0, 32), "u1")
    tr_tx_hash_has: np.ndarray = _f((0,), "?")  # old geth traces do not name the tx
    tr_type: np.ndarray = _f((0,), "u1")
    tr_call_type: np.ndarray = _f((0,), "u1")
    tr_reward_type: np.ndarray = _f((0,), "u1")
    tr_from: np.ndarray = _f((0, 20), "u1")
    tr_from_has: np.ndarray = _f((0,), "?")
    tr_to: np.ndarray = _f((0, 20), "u1")
    tr_to_has: np.ndarray = _f((0,), "?")
    tr_value: np.ndarray = _f((0, 4), "u8")
    tr_value_has: np.ndarray = _f((0,), "?")  # False: old geth SELFDESTRUCT frames say nothing
    tr_gas: np.ndarray = _f((0,), "i8")
    tr_gas_used: np.ndarray = _f((0,), "i8")
    tr_input: Var = field(default_factory=Var)
    tr_output: Var = field(default_factory=Var)
    tr_subtraces: np.ndarray = _f((0,), "i4")
    tr_address: Var = field(default_factory=lambda: Var(buf=np.zeros(0, np.int32)))
    tr_error: Var = field(default_factory=Var)  # UTF-8 text
    tr_status: np.ndarray = _f((0,), "i1")  # 0 if this frame or an ancestor failed
    # withdrawals (nw), Shanghai on; amounts in gwei as the consensus layer counts them
    wd_block: np.ndarray = _f((0,), "i4")
    wd_index: np.ndarray = _f((0,), "i8")
    wd_validator_index: np.ndarray = _f((0,), "i8")
    wd_address: np.ndarray = _f((0, 20), "u1")
    wd_amount_gwei: np.ndarray = _f((0,), "u8")
    # contracts (nc): deployed code and the interfaces it looks like (contracts.py)
    ct_address: np.ndarray = _f((0, 20), "u1")
    ct_block_number: np.ndarray = _f((0,), "i8")  # -1 unknown
    ct_bytecode: Var = field(default_factory=Var)
    ct_sighashes: Var = field(default_factory=lambda: Var(buf=np.zeros(0, ">u4")))
    ct_is_erc20: np.ndarray = _f((0,), "?")
    ct_is_erc721: np.ndarray = _f((0,), "?")
    # token registry (nk)
    tok_address: np.ndarray = _f((0, 20), "u1")
    tok_symbol: list[str | None] = field(default_factory=list)
    tok_name: list[str | None] = field(default_factory=list)
    tok_decimals: np.ndarray = _f((0,), "i2")  # -1 unknown
    tok_total_supply: np.ndarray = _f((0, 4), "u8")
    tok_total_supply_has: np.ndarray = _f((0,), "?")
    tok_block_number: np.ndarray = _f((0,), "i8")  # -1 unknown
    # provenance (nb)
    block_source: list[str] = field(default_factory=list)

    @property
    def n_blocks(self) -> int:
        """Number of blocks."""
        return int(self.block_number.shape[0])

    @property
    def n_txs(self) -> int:
        """Number of transactions."""
        return int(self.tx_hash.shape[0])

    @property
    def n_logs(self) -> int:
        """Number of logs."""
        return int(self.log_tx.shape[0])

    @property
    def n_traces(self) -> int:
        """Number of trace rows."""
        return int(self.tr_block_number.shape[0])
