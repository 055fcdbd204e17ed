"""A node's JSON-RPC answers -> :class:`EthBatch`: blocks with full transactions, receipts, traces.

Input per block (:class:`BlockAnswers`): ``eth_getBlockByNumber(n, true)``; optionally its
receipts (``eth_getBlockReceipts`` or one ``eth_getTransactionReceipt`` each) and its traces
(Parity/Erigon ``trace_block`` or geth ``debug_traceBlockByNumber`` with the callTracer). All
blocks of a batch are converted column by column (one hex pass per field over every block), and
what the answers repeat is checked: receipts, logs and traces must name the block and
transaction they are attached to, indexes must count up, addresses must pass EIP-55 where
mixed-case. Any failure is one :class:`ValidationError` naming the source, the block, the
transaction or log, and what was expected. Every field is parsed or ignored with a reason
(:mod:`.rpc_fields`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

import numpy as np

from chaintrail.chains.ethereum import hexcodec
from chaintrail.chains.ethereum.address import address_column, address_column_nullable
from chaintrail.chains.ethereum.batch import EthBatch, Var
from chaintrail.chains.ethereum.contracts import contracts_from_traces
from chaintrail.chains.ethereum.events import decode_events
from chaintrail.chains.ethereum.hexcodec import HexColumnError
from chaintrail.chains.ethereum.rpc_fields import WIRE_NAMES
from chaintrail.chains.ethereum.traces import (
    TraceAt,
    TraceRows,
    TraceShapeError,
    add_geth,
    add_parity,
)
from chaintrail.errors import ValidationError


@dataclass
class BlockAnswers:
    """What a node answered about one block (decoded :mod:`.rpc_fields` structs).

    ``block`` is None for traces read without their block (as ethereum-etl exports traces
    alone); ``number`` then says which block they are of.
    """

    block: Any  # an rpc_fields.Block, or None
    source: str
    receipts: list[Any] | None = None
    parity_traces: list[Any] | None = None
    geth_traces: list[Any] | None = None
    number: int = -1

    def __post_init__(self) -> None:
        if self.block is not None:
            self.number = int(self.block.number, 16)


class _Where:
    """Turns a failing row of a flattened column into 'source, block N, tx i' for errors."""

    def __init__(self, answers: Sequence[BlockAnswers], numbers: list[int]) -> None:
        self.answers, self.numbers = answers, numbers
        self.tx_block = np.repeat(np.arange(len(answers)), [len(a.block.transactions) for a in answers])
        self.tx_start = np.concatenate([[0], np.cumsum([len(a.block.transactions) for a in answers])])

    def block(self, i: int, what: str) -> tuple[str, str]:
        return self.answers[i].source, f"block {self.numbers[i]} {what}"

    def tx(self, row: int, what: str) -> tuple[str, str]:
        blk = int(self.tx_block[row])
        i = row - int(self.tx_start[blk])
        txs = self.answers[blk].block.transactions
        return self.answers[blk].source, f"block {self.numbers[blk]} tx {i} ({txs[i].hash}) {what}"


def _col(conv: Callable[..., Any], values: Sequence[Any], where: Callable[[int], tuple[str, str]],
         *args: Any) -> Any:  # fmt: skip
    try:
        return conv(values, *args)
    except HexColumnError as exc:
        source, field = where(exc.row)
        raise ValidationError(str(exc), source=source, field=field) from None


_TX_ATTRS = ("hash", "transactionIndex", "blockHash", "nonce", "sender", "to", "value", "gas",
             "gasPrice", "input", "maxFeePerGas", "maxPriorityFeePerGas", "type")
_RECEIPT_ATTRS = ("transactionIndex", "blockHash", "cumulativeGasUsed", "gasUsed", "contractAddress",
                  "root", "status", "effectiveGasPrice", "blobGasUsed", "blobGasPrice")
_LOG_ATTRS = ("logIndex", "address", "transactionHash", "data")


def _transpose(items: Sequence[Any], attrs: tuple[str, ...]) -> dict[str, Sequence[Any]]:
    """Columns of struct attributes (a C-level attrgetter per attribute, no Python loop)."""
    return {a: list(map(attrgetter(a), items)) for a in attrs}


def _fail(where: tuple[str, str], message: str) -> ValidationError:
    return ValidationError(message, source=where[0], field=where[1])


def batch_from_answers(answers: Sequence[BlockAnswers]) -> EthBatch:
    """One batch of the given blocks (ordered by number), every repeated field cross-checked."""
    trace_only = sorted((a for a in answers if a.block is None), key=lambda a: a.number)
    answers = sorted((a for a in answers if a.block is not None), key=lambda a: a.number)
    numbers = [a.number for a in answers]
    dup = next((n for n, m in zip(numbers, numbers[1:], strict=False) if n == m), None)
    if dup is not None:
        raise ValidationError(f"block {dup} given twice", source=answers[0].source)
    w = _Where(answers, numbers)
    b = EthBatch()
    _blocks(b, answers, numbers, w)
    _txs(b, answers, w)
    _receipts(b, answers, w)
    _traces(b, answers, trace_only, w)
    contracts_from_traces(b)
    decode_events(b)
    return b


def _blocks(b: EthBatch, answers: Sequence[BlockAnswers], numbers: list[int], w: _Where) -> None:
    blks = [a.block for a in answers]

    def col(attr: str, conv: Callable[..., Any], *args: Any) -> Any:
        return _col(conv, [getattr(x, attr) for x in blks], lambda i: w.block(i, attr), *args)

    b.block_number = np.array(numbers, np.int64)
    b.block_hash = col("hash", hexcodec.fixed, 32)
    b.block_parent_hash = col("parentHash", hexcodec.fixed, 32)
    b.block_nonce = col("nonce", hexcodec.fixed_nullable, 8)[0]
    b.block_sha3_uncles = col("sha3Uncles", hexcodec.fixed, 32)
    b.block_logs_bloom = col("logsBloom", hexcodec.fixed, 256)
    b.block_transactions_root = col("transactionsRoot", hexcodec.fixed, 32)
    b.block_state_root = col("stateRoot", hexcodec.fixed, 32)
    b.block_receipts_root = col("receiptsRoot", hexcodec.fixed, 32)
    b.block_miner = col("miner", address_column)
    b.block_difficulty = col("difficulty", hexcodec.amounts_nullable)[0]
    b.block_total_difficulty, b.block_total_difficulty_has = col("totalDifficulty", hexcodec.amounts_nullable)
    b.block_size = col("size", hexcodec.quantities)
    off, buf = col("extraData", hexcodec.var_bytes)
    b.block_extra_data = Var(off, buf, np.ones(len(blks), bool))
    b.block_gas_limit = col("gasLimit", hexcodec.quantities)
    b.block_gas_used = col("gasUsed", hexcodec.quantities)
    b.block_timestamp = col("timestamp", hexcodec.quantities)
    b.block_base_fee, b.block_base_fee_has = col("baseFeePerGas", hexcodec.amounts_nullable)
    b.block_withdrawals_root, b.block_withdrawals_root_has = col("withdrawalsRoot", hexcodec.fixed_nullable, 32)
    n_tx = np.array([len(x.transactions) for x in blks], np.int32)
    b.block_n_tx = b.block_tx_count = n_tx
    b.block_tx_start = np.concatenate([[0], np.cumsum(n_tx[:-1], dtype=np.int64)]).astype(np.int64)
    b.block_source = [a.source for a in answers]
    wds = [x.withdrawals or [] for x in blks]
    n_wd = np.array([len(x) for x in wds], np.int32)
    b.block_n_wd = n_wd
    b.block_wd_start = np.concatenate([[0], np.cumsum(n_wd[:-1], dtype=np.int64)]).astype(np.int64)
    flat = [x for ws in wds for x in ws]
    wd_block = np.repeat(np.arange(len(blks), dtype=np.int32), n_wd)

    def wcol(attr: str, conv: Callable[..., Any], *args: Any) -> Any:
        return _col(conv, [getattr(x, attr) for x in flat],
                    lambda r: w.block(int(wd_block[r]), f"withdrawal {r - int(b.block_wd_start[wd_block[r]])} {attr}"),
                    *args)  # fmt: skip

    b.wd_block = wd_block
    b.wd_index = wcol("index", hexcodec.quantities)
    b.wd_validator_index = wcol("validatorIndex", hexcodec.quantities)
    b.wd_address = wcol("address", address_column)
    b.wd_amount_gwei = wcol("amount", hexcodec.quantities).astype(np.uint64)


def _txs(b: EthBatch, answers: Sequence[BlockAnswers], w: _Where) -> None:
    txs = [t for a in answers for t in a.block.transactions]
    cols = _transpose(txs, _TX_ATTRS)

    def col(attr: str, conv: Callable[..., Any], *args: Any) -> Any:
        name = WIRE_NAMES.get(attr, attr)
        return _col(conv, cols[attr], lambda r: w.tx(r, name), *args)

    nt = len(txs)
    b.tx_block = w.tx_block.astype(np.int32)
    b.tx_hash = col("hash", hexcodec.fixed, 32)
    index = col("transactionIndex", hexcodec.quantities)
    expected = np.arange(nt) - b.block_tx_start[b.tx_block] if nt else np.zeros(0, np.int64)
    bad = np.flatnonzero(index != expected)
    if bad.size:
        r = int(bad[0])
        raise _fail(w.tx(r, "transactionIndex"), f"is {index[r]}, expected {expected[r]} (position in the block)")
    b.tx_index = index.astype(np.int32)
    bh, bh_has = col("blockHash", hexcodec.fixed_nullable, 32)
    bad = np.flatnonzero(bh_has & (bh != b.block_hash[b.tx_block]).any(axis=1))
    if bad.size:
        raise _fail(w.tx(int(bad[0]), "blockHash"), "names another block than the one it is in")
    b.tx_nonce = col("nonce", hexcodec.quantities)
    b.tx_from = col("sender", address_column)
    b.tx_to, b.tx_to_has = col("to", address_column_nullable)
    b.tx_value = col("value", hexcodec.amounts)
    b.tx_gas = col("gas", hexcodec.quantities)
    b.tx_gas_price = col("gasPrice", hexcodec.amounts)
    off, buf = col("input", hexcodec.var_bytes_raw)
    b.tx_input = Var(off, buf, np.ones(nt, bool))
    b.tx_max_fee, b.tx_max_fee_has = col("maxFeePerGas", hexcodec.amounts_nullable)
    b.tx_max_priority_fee, b.tx_max_priority_fee_has = col("maxPriorityFeePerGas", hexcodec.amounts_nullable)
    b.tx_type = col("type", hexcodec.quantities_nullable).astype(np.int16)


def _ordered_receipts(a: BlockAnswers, number: int) -> list[Any] | None:
    """The block's receipts in transaction order (by hash), or None if none were given."""
    if a.receipts is None:
        return None
    txs = a.block.transactions
    if len(a.receipts) == len(txs) and all(r.transactionHash == t.hash for r, t in zip(a.receipts, txs, strict=True)):
        return a.receipts
    by_hash = {r.transactionHash: r for r in a.receipts}
    missing = [t.hash for t in txs if t.hash not in by_hash]
    extra = set(by_hash) - {t.hash for t in txs}
    if extra:
        raise ValidationError(f"block {number}: receipt for {sorted(extra)[0]}, which is not in the block",
                              source=a.source)  # fmt: skip
    if missing:
        raise ValidationError(
            f"block {number}: receipts for {len(txs) - len(missing)} of {len(txs)} transactions; "
            f"missing {missing[0]} (fetch eth_getBlockReceipts, or every eth_getTransactionReceipt)",
            source=a.source,
        )
    return [by_hash[t.hash] for t in txs]


def _receipts(b: EthBatch, answers: Sequence[BlockAnswers], w: _Where) -> None:
    nt = b.n_txs
    per_block = [_ordered_receipts(a, int(n)) for a, n in zip(answers, b.block_number, strict=True)]
    rc: list[Any] = [r for a, rs in zip(answers, per_block, strict=True)
                     for r in (rs if rs is not None else [None] * len(a.block.transactions))]  # fmt: skip
    has = np.array([r is not None for r in rc], bool)
    rows = np.flatnonzero(has)
    got = [rc[i] for i in rows.tolist()]
    cols = _transpose(got, _RECEIPT_ATTRS)

    def col(attr: str, conv: Callable[..., Any], *args: Any) -> Any:
        return _col(conv, cols[attr], lambda k: w.tx(int(rows[k]), f"receipt {attr}"), *args)

    def scatter(values: np.ndarray, fill: Any, shape: tuple[int, ...] = ()) -> np.ndarray:
        out = np.full((nt, *shape), fill, values.dtype)
        out[rows] = values
        return out

    b.tx_receipt_has = has
    index = col("transactionIndex", hexcodec.quantities)
    bad = np.flatnonzero(index != b.tx_index[rows])
    if bad.size:
        raise _fail(w.tx(int(rows[bad[0]]), "receipt transactionIndex"), f"is {index[bad[0]]}, the transaction's is {b.tx_index[rows[bad[0]]]}")  # fmt: skip
    bh, bh_has = col("blockHash", hexcodec.fixed_nullable, 32)
    bad = np.flatnonzero(bh_has & (bh != b.block_hash[b.tx_block[rows]]).any(axis=1))
    if bad.size:
        raise _fail(w.tx(int(rows[bad[0]]), "receipt blockHash"), "names another block than the transaction's")
    b.tx_cumulative_gas_used = scatter(col("cumulativeGasUsed", hexcodec.quantities), -1)
    b.tx_gas_used = scatter(col("gasUsed", hexcodec.quantities), -1)
    ca, ca_has = col("contractAddress", address_column_nullable)
    b.tx_contract_address, b.tx_contract_address_has = scatter(ca, 0, (20,)), scatter(ca_has, False)
    root, root_has = col("root", hexcodec.fixed_nullable, 32)
    b.tx_root, b.tx_root_has = scatter(root, 0, (32,)), scatter(root_has, False)
    status = col("status", hexcodec.quantities_nullable)
    bad = np.flatnonzero((status != -1) & (status != 0) & (status != 1))
    if bad.size:
        raise _fail(w.tx(int(rows[bad[0]]), "receipt status"), f"is {status[bad[0]]}, expected 0x0 or 0x1")
    b.tx_status = scatter(status.astype(np.int8), -1)
    egp, egp_has = col("effectiveGasPrice", hexcodec.amounts_nullable)
    b.tx_effective_gas_price, b.tx_effective_gas_price_has = scatter(egp, 0, (4,)), scatter(egp_has, False)
    b.tx_blob_gas_used = scatter(col("blobGasUsed", hexcodec.quantities_nullable), -1)
    b.tx_blob_gas_price = scatter(col("blobGasPrice", hexcodec.amounts_nullable)[0], 0, (4,))
    _logs(b, rc, w)


def _logs(b: EthBatch, rc: list[Any], w: _Where) -> None:
    n_logs = np.array([len(r.logs) if r is not None else 0 for r in rc], np.int32)
    b.tx_n_logs = n_logs
    b.tx_log_start = np.concatenate([[0], np.cumsum(n_logs[:-1], dtype=np.int64)]).astype(np.int64)
    logs = [lg for r in rc if r is not None for lg in r.logs]
    log_tx = np.repeat(np.arange(b.n_txs, dtype=np.int64), n_logs)

    def where(k: int, what: str) -> tuple[str, str]:
        t = int(log_tx[k])
        return w.tx(t, f"log {k - int(b.tx_log_start[t])} {what}")

    cols = _transpose(logs, _LOG_ATTRS)

    def col(attr: str, conv: Callable[..., Any], *args: Any) -> Any:
        return _col(conv, cols[attr], lambda k: where(k, attr), *args)

    b.log_tx = log_tx
    b.log_index = col("logIndex", hexcodec.quantities).astype(np.int32)
    b.log_address = col("address", address_column)
    th, th_has = col("transactionHash", hexcodec.fixed_nullable, 32)
    bad = np.flatnonzero(th_has & (th != b.tx_hash[log_tx]).any(axis=1))
    if bad.size:
        raise _fail(where(int(bad[0]), "transactionHash"), "names another transaction than its receipt's")
    n_topics = np.array([len(lg.topics) for lg in logs], np.int8)
    bad = np.flatnonzero(n_topics > 4)
    if bad.size:
        raise _fail(where(int(bad[0]), "topics"), f"has {n_topics[bad[0]]} topics; a log has at most 4")
    flat = [t for lg in logs for t in lg.topics]
    topic_log = np.repeat(np.arange(len(logs)), n_topics)
    topics = _col(hexcodec.fixed, flat, lambda j: where(int(topic_log[j]), "topics"), 32)
    b.log_topics = np.zeros((len(logs), 4, 32), np.uint8)
    first = np.concatenate([[0], np.cumsum(n_topics[:-1], dtype=np.int64)])
    b.log_topics[topic_log, np.arange(len(flat)) - first[topic_log]] = topics
    b.log_n_topics = n_topics
    off, buf = col("data", hexcodec.var_bytes_raw)
    b.log_data = Var(off, buf, np.ones(len(logs), bool))


def _traces(b: EthBatch, answers: Sequence[BlockAnswers], trace_only: Sequence[BlockAnswers],
            w: _Where) -> None:  # fmt: skip
    rows = TraceRows()
    for i, a in enumerate([*answers, *trace_only]):
        here = (a.source, f"block {a.number} traces")
        if a.parity_traces is not None and a.geth_traces is not None:
            raise _fail(here, "both trace_block and debug_traceBlockByNumber given; give one")
        txs = a.block.transactions if a.block is not None else None
        t0 = int(b.block_tx_start[i]) if txs is not None else -1
        try:
            for k, tr in enumerate(a.parity_traces or []):
                _parity_one(rows, tr, k, a, txs, t0)
            for k, item in enumerate(a.geth_traces or []):
                _geth_one(rows, item, k, a, txs, t0)
        except TraceShapeError as exc:
            raise _fail(here, str(exc)) from None
        if txs is not None and a.geth_traces is not None and len(a.geth_traces) != len(txs):
            raise _fail(here, f"{len(a.geth_traces)} transaction traces for {len(txs)} transactions")
    try:
        rows.into(b)
    except HexColumnError as exc:
        r = exc.row
        raise ValidationError(str(exc), field=f"block {rows.block_number[r]} trace row {r}") from None


def _parity_one(rows: TraceRows, tr: Any, k: int, a: BlockAnswers, txs: list[Any] | None,
                t0: int) -> None:  # fmt: skip
    where = (a.source, f"block {a.number} trace {k}")
    if a.block is not None and tr.blockHash is not None and tr.blockHash != a.block.hash:
        raise _fail(where, f"is of block {tr.blockHash}, not {a.block.hash}")
    pos = tr.transactionPosition
    if pos is None:
        add_parity(rows, tr, TraceAt(a.number))
        return
    if txs is not None and not (0 <= pos < len(txs) and tr.transactionHash in (None, txs[pos].hash)):
        raise _fail(where, f"names transaction {pos} ({tr.transactionHash}), not in the block")
    tx_hash = tr.transactionHash if txs is None else txs[pos].hash
    add_parity(rows, tr, TraceAt(a.number, t0 + pos if txs is not None else -1, pos, tx_hash))


def _geth_one(rows: TraceRows, item: Any, k: int, a: BlockAnswers, txs: list[Any] | None,
              t0: int) -> None:  # fmt: skip
    where = (a.source, f"block {a.number} tx {k} trace")
    if txs is not None:
        if k >= len(txs):
            raise _fail(where, f"more transaction traces than the block's {len(txs)} transactions")
        if item.txHash is not None and item.txHash != txs[k].hash:
            raise _fail(where, f"is of {item.txHash}, not {txs[k].hash}")
    if item.result is None:
        raise _fail(where, f"the node could not trace it: {item.error or 'no result'}")
    tx_hash = txs[k].hash if txs is not None else item.txHash
    add_geth(rows, item.result, TraceAt(a.number, t0 + k if txs is not None else -1, k, tx_hash))
