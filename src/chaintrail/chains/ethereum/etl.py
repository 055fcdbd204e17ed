"""ethereum-etl exports -> :class:`EthBatch` with the same rows the JSON-RPC path gives.

Blocks and transactions are the spine: transactions join their block by number (and must
name its hash), receipts and logs join their transaction by hash, in-file receipt fields of
``stream`` transactions (``receipt_*``) count as receipts. Token transfers are decoded from
the logs when logs are given (and a token_transfers file, if also given, must agree row for
row); without logs they are read as exported. Traces stand alone (they name block, tx index
and hash); their ``status`` is recomputed and must agree. Every failure names the file, the
line and the column.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from chaintrail.chains.ethereum import etl_fields, hexcodec, u256
from chaintrail.chains.ethereum.address import address_column, address_column_nullable
from chaintrail.chains.ethereum.batch import EthBatch, Var
from chaintrail.chains.ethereum.contracts import contracts_from_traces, set_contracts
from chaintrail.chains.ethereum.etl_files import EtlTable, read_tables
from chaintrail.chains.ethereum.etl_rows import token_transfer_rows
from chaintrail.chains.ethereum.events import decode_events
from chaintrail.chains.ethereum.files import Paths, as_list
from chaintrail.chains.ethereum.hexcodec import HexColumnError
from chaintrail.chains.ethereum.traces import (
    CALL_TYPES,
    REWARD_TYPES,
    TRACE_TYPES,
    TraceAt,
    TraceRows,
)
from chaintrail.errors import InputError, ValidationError


def _conv(t: EtlTable, name: str, conv: Callable[..., Any], *args: Any,
          rows: Sequence[int] | None = None) -> Any:  # fmt: skip
    values = t.col(name)
    if rows is not None:
        values = [values[i] for i in rows]
    try:
        return conv(values, *args)
    except HexColumnError as exc:
        r = exc.row if rows is None else rows[exc.row]
        raise t.fail(r, name, str(exc)) from None


def _ints(values: Sequence[Any]) -> list[int | None]:
    out: list[int | None] = []
    for i, v in enumerate(values):
        if v is None or isinstance(v, int) and not isinstance(v, bool):
            out.append(v)
            continue
        try:
            out.append(int(v))
        except (TypeError, ValueError):
            raise HexColumnError(i, f"expected a whole number, got {v!r:.60}") from None
    return out


def _i64(values: Sequence[Any], null: int = -1) -> np.ndarray:
    if None not in values:
        try:  # fast path: JSON ints or decimal text, converted by numpy in C
            return np.array(values, dtype=np.int64)
        except (ValueError, TypeError, OverflowError):
            pass
    ints = _ints(values)
    try:
        return np.array([null if v is None else v for v in ints], np.int64)
    except OverflowError:
        bad = next(i for i, v in enumerate(ints) if v is not None and abs(v) >= 1 << 63)
        raise HexColumnError(bad, f"{ints[bad]} does not fit 63 bits") from None


def _required(values: Sequence[Any]) -> Sequence[Any]:
    bad = next((i for i, v in enumerate(values) if v is None), None)
    if bad is not None:
        raise HexColumnError(bad, "is empty; a value is required")
    return values


def _amounts(values: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    if None not in values:
        try:  # fast path: every value below 2**64 (ETH amounts under 18.4 ETH, most tokens)
            low = np.array(values, dtype=np.uint64)
            out = u256.zeros(len(values))
            out[:, 0] = low
            return out, np.ones(len(values), bool)
        except (ValueError, TypeError, OverflowError):
            pass
    ints = _ints(values)
    has = np.array([v is not None for v in ints], bool)
    try:
        return u256.from_ints([v or 0 for v in ints]), has
    except ValueError as exc:
        bad = next(i for i, v in enumerate(ints) if v is not None and not 0 <= v < 1 << 256)
        raise HexColumnError(bad, str(exc)) from None


def _amounts_req(values: Sequence[Any]) -> np.ndarray:
    return _amounts(_required(values))[0]


def _var(values: Sequence[Any]) -> Var:
    has = np.array([v is not None for v in values], bool)
    return Var(*hexcodec.var_bytes([v if v is not None else "0x" for v in values]), has)


def _list(v: Any, item: Callable[[str], Any] = str) -> list[Any]:
    """A list cell: a JSON list, or CSV text ``a,b,c`` ('' or None: empty)."""
    if isinstance(v, list):
        return v
    return [item(x) for x in v.split(",")] if v else []


def _concat(tables: list[EtlTable]) -> EtlTable | None:
    if not tables:
        return None
    if len(tables) == 1:
        return tables[0]
    names = {k for t in tables for k in t.columns}
    cols = {k: [v for t in tables for v in t.col(k)] for k in names}
    return EtlTable(tables[0].kind, ", ".join(t.source for t in tables), cols,
                    sum(t.n for t in tables), 0)  # fmt: skip


def load_etl(paths: Paths,
             on_skip: Callable[[Path, str], None] | None = None) -> EthBatch:  # fmt: skip
    """One batch from ethereum-etl export files and/or directories (CSV or JSON lines)."""
    tables = read_tables(paths, on_skip)
    if not tables:
        raise InputError("no ethereum-etl export files found (blocks, transactions, receipts, logs, "
                         "token_transfers, traces, contracts, tokens; CSV or JSON lines)",
                         source=", ".join(map(str, as_list(paths))))  # fmt: skip
    t = {k: _concat(v) for k, v in tables.items()}
    b = EthBatch()
    tx_rows, tx_file_rows = _blocks_and_txs(b, t.get("blocks"), t.get("transactions"))
    _receipts(b, t.get("transactions"), t.get("receipts"), tx_rows, tx_file_rows)
    _logs(b, t.get("logs"), tx_rows)
    transfers = t.get("token_transfers")
    if t.get("logs") is not None:
        decode_events(b)
        if transfers is not None:
            _check_transfers(b, transfers)
    elif transfers is not None:
        _transfers(b, transfers, tx_rows)
    if t.get("traces") is not None:
        _traces(b, t["traces"], tx_rows)  # type: ignore[arg-type]
    if t.get("contracts") is not None:
        _contracts(b, t["contracts"])  # type: ignore[arg-type]
    elif t.get("traces") is not None:  # as ethereum-etl's extract_contracts derives them
        contracts_from_traces(b)
    if t.get("tokens") is not None:
        _tokens(b, t["tokens"])  # type: ignore[arg-type]
    return b


def _dedupe(t: EtlTable, key: list[Any]) -> list[int]:
    """Rows of ``t`` sorted by ``key``, one per key (the same item exported twice agrees)."""
    order = sorted(range(t.n), key=lambda i: key[i])
    out = [i for k, i in enumerate(order) if k == 0 or key[order[k - 1]] != key[i]]
    return out


def _blocks_and_txs(b: EthBatch, bt: EtlTable | None,
                    tt: EtlTable | None) -> tuple[dict[str, int], list[int]]:  # fmt: skip
    """Blocks and transactions; returns tx hash -> batch row and each tx's row in its file."""
    if bt is None:
        if tt is not None:
            raise InputError("transactions need the blocks export of the same blocks", source=tt.source)
        return {}, []
    numbers = _conv(bt, "number", lambda v: _i64(_required(v)))
    rows = _dedupe(bt, numbers.tolist())
    b.block_number = numbers[rows]
    b.block_hash = _conv(bt, "hash", hexcodec.fixed, 32, rows=rows)
    b.block_parent_hash = _conv(bt, "parent_hash", hexcodec.fixed, 32, rows=rows)
    b.block_nonce = _conv(bt, "nonce", hexcodec.fixed_nullable, 8, rows=rows)[0]
    b.block_sha3_uncles = _conv(bt, "sha3_uncles", hexcodec.fixed, 32, rows=rows)
    b.block_logs_bloom = _conv(bt, "logs_bloom", hexcodec.fixed, 256, rows=rows)
    b.block_transactions_root = _conv(bt, "transactions_root", hexcodec.fixed, 32, rows=rows)
    b.block_state_root = _conv(bt, "state_root", hexcodec.fixed, 32, rows=rows)
    b.block_receipts_root = _conv(bt, "receipts_root", hexcodec.fixed, 32, rows=rows)
    b.block_miner = _conv(bt, "miner", address_column, rows=rows)
    b.block_difficulty = _conv(bt, "difficulty", _amounts, rows=rows)[0]
    b.block_total_difficulty, b.block_total_difficulty_has = _conv(bt, "total_difficulty", _amounts, rows=rows)
    b.block_size = _conv(bt, "size", _i64, rows=rows)
    b.block_extra_data = _conv(bt, "extra_data", _var, rows=rows)
    b.block_gas_limit = _conv(bt, "gas_limit", _i64, rows=rows)
    b.block_gas_used = _conv(bt, "gas_used", _i64, rows=rows)
    b.block_timestamp = _conv(bt, "timestamp", _i64, rows=rows)
    b.block_base_fee, b.block_base_fee_has = _conv(bt, "base_fee_per_gas", _amounts, rows=rows)
    b.block_withdrawals_root, b.block_withdrawals_root_has = _conv(
        bt, "withdrawals_root", hexcodec.fixed_nullable, 32, rows=rows)
    b.block_source = [bt.source] * len(rows)
    b.block_tx_count = _conv(bt, "transaction_count", lambda v: _i64(_required(v)), rows=rows).astype(np.int32)
    _withdrawals(b, bt, rows)
    block_row = {n: i for i, n in enumerate(b.block_number.tolist())}
    if tt is None:
        b.block_n_tx = np.zeros(len(rows), np.int32)
        b.block_tx_start = np.zeros(len(rows), np.int64)
        return {}, []
    tnum = _conv(tt, "block_number", lambda v: _i64(_required(v)))
    tidx = _conv(tt, "transaction_index", lambda v: _i64(_required(v)))
    missing = next((i for i, n in enumerate(tnum.tolist()) if n not in block_row), None)
    if missing is not None:
        raise tt.fail(missing, "block_number", f"block {tnum[missing]} is not in the blocks export")
    trow = _dedupe(tt, list(zip(tnum.tolist(), tidx.tolist(), strict=True)))
    b.tx_block = np.array([block_row[n] for n in tnum[trow].tolist()], np.int32)
    b.tx_index = tidx[trow].astype(np.int32)
    b.block_n_tx = np.bincount(b.tx_block, minlength=len(rows)).astype(np.int32)
    b.block_tx_start = np.concatenate([[0], np.cumsum(b.block_n_tx[:-1], dtype=np.int64)]).astype(np.int64)
    count = b.block_tx_count
    bad = np.flatnonzero(count != b.block_n_tx)
    if bad.size:
        k = int(bad[0])
        raise bt.fail(rows[k], "transaction_count", f"says {count[k]}, the transactions export has {b.block_n_tx[k]}")
    expected = np.arange(len(trow)) - b.block_tx_start[b.tx_block]
    bad = np.flatnonzero(b.tx_index != expected)
    if bad.size:
        raise tt.fail(trow[int(bad[0])], "transaction_index", "transactions of the block are missing or repeated")
    b.tx_hash = _conv(tt, "hash", hexcodec.fixed, 32, rows=trow)
    bh = _conv(tt, "block_hash", hexcodec.fixed, 32, rows=trow)
    bad = np.flatnonzero((bh != b.block_hash[b.tx_block]).any(axis=1))
    if bad.size:
        raise tt.fail(trow[int(bad[0])], "block_hash", "differs from the blocks export's hash of that block")
    b.tx_nonce = _conv(tt, "nonce", _i64, rows=trow)
    b.tx_from = _conv(tt, "from_address", address_column, rows=trow)
    b.tx_to, b.tx_to_has = _conv(tt, "to_address", address_column_nullable, rows=trow)
    b.tx_value = _conv(tt, "value", _amounts_req, rows=trow)
    b.tx_gas = _conv(tt, "gas", _i64, rows=trow)
    b.tx_gas_price = _conv(tt, "gas_price", _amounts_req, rows=trow)
    b.tx_input = _conv(tt, "input", _var, rows=trow)
    b.tx_max_fee, b.tx_max_fee_has = _conv(tt, "max_fee_per_gas", _amounts, rows=trow)
    b.tx_max_priority_fee, b.tx_max_priority_fee_has = _conv(tt, "max_priority_fee_per_gas", _amounts, rows=trow)
    b.tx_type = _conv(tt, "transaction_type", _i64, rows=trow).astype(np.int16)
    return {h: i for i, h in enumerate(hexcodec.fixed_to_hex(b.tx_hash))}, trow


def _withdrawals(b: EthBatch, bt: EtlTable, rows: list[int]) -> None:
    cells = bt.col("withdrawals")
    per: list[list[dict[str, Any]]] = []
    for r in rows:
        v = cells[r]
        try:
            # JSON lines hold a list; CSV cells hold the objects joined by commas, no brackets
            text = v.strip() if isinstance(v, str) else None
            items = json.loads(text if text.startswith("[") else f"[{text}]") if text else (v or [])
        except json.JSONDecodeError as exc:
            raise bt.fail(r, "withdrawals", f"expected a JSON list of withdrawals: {exc}") from None
        per.append(items)
    b.block_n_wd = np.array([len(p) for p in per], np.int32)
    b.block_wd_start = np.concatenate([[0], np.cumsum(b.block_n_wd[:-1], dtype=np.int64)]).astype(np.int64)
    flat = [w for p in per for w in p]
    b.wd_block = np.repeat(np.arange(len(rows), dtype=np.int32), b.block_n_wd)
    try:
        b.wd_index = _i64([w["index"] for w in flat])
        b.wd_validator_index = _i64([w["validator_index"] for w in flat])
        b.wd_address = address_column([w["address"] for w in flat])
        b.wd_amount_gwei = _i64([w["amount"] for w in flat]).astype(np.uint64)
    except (KeyError, TypeError, HexColumnError) as exc:
        raise ValidationError(f"a withdrawal lacks or mangles {exc}; expected index, "
                              "validator_index, address, amount", source=bt.source) from None  # fmt: skip


_RECEIPT = {"cumulative_gas_used": "cumulative_gas_used", "gas_used": "gas_used",
            "contract_address": "contract_address", "root": "root", "status": "status",
            "effective_gas_price": "effective_gas_price"}  # fmt: skip


def _receipts(b: EthBatch, tt: EtlTable | None, rt: EtlTable | None, tx_rows: dict[str, int],
              tx_file_rows: list[int]) -> None:  # fmt: skip
    nt = b.n_txs
    b.tx_receipt_has = np.zeros(nt, bool)
    b.tx_cumulative_gas_used = np.full(nt, -1, np.int64)
    b.tx_gas_used = np.full(nt, -1, np.int64)
    b.tx_contract_address, b.tx_contract_address_has = np.zeros((nt, 20), np.uint8), np.zeros(nt, bool)
    b.tx_root, b.tx_root_has = np.zeros((nt, 32), np.uint8), np.zeros(nt, bool)
    b.tx_status = np.full(nt, -1, np.int8)
    b.tx_effective_gas_price, b.tx_effective_gas_price_has = u256.zeros(nt), np.zeros(nt, bool)
    b.tx_blob_gas_used = np.full(nt, -1, np.int64)
    b.tx_blob_gas_price = u256.zeros(nt)
    sources: list[tuple[EtlTable, str, list[int], np.ndarray]] = []
    if tt is not None and "receipt_gas_used" in tt.columns:
        sources.append((tt, "receipt_", tx_file_rows, np.arange(nt)))
    if rt is not None:
        hashes = rt.col("transaction_hash")
        where = [tx_rows.get(h) for h in hashes]
        bad = next((i for i, w in enumerate(where) if w is None), None)
        if bad is not None:
            raise rt.fail(bad, "transaction_hash", f"{hashes[bad]} is not in the transactions export")
        sources.append((rt, "", list(range(rt.n)), np.array(where, np.int64)))
    for t, p, rows, at in sources:
        _check_l1(t, p)
        b.tx_receipt_has[at] = True
        b.tx_cumulative_gas_used[at] = _conv(t, p + "cumulative_gas_used", _i64, rows=rows)
        b.tx_gas_used[at] = _conv(t, p + "gas_used", _i64, rows=rows)
        ca, cah = _conv(t, p + "contract_address", address_column_nullable, rows=rows)
        b.tx_contract_address[at], b.tx_contract_address_has[at] = ca, cah
        root, root_has = _conv(t, p + "root", hexcodec.fixed_nullable, 32, rows=rows)
        b.tx_root[at], b.tx_root_has[at] = root, root_has
        b.tx_status[at] = _conv(t, p + "status", _i64, rows=rows).astype(np.int8)
        egp, egp_has = _conv(t, p + "effective_gas_price", _amounts, rows=rows)
        b.tx_effective_gas_price[at], b.tx_effective_gas_price_has[at] = egp, egp_has


def _check_l1(t: EtlTable, prefix: str) -> None:
    for name in etl_fields.L1_COLUMNS:
        if name.startswith(prefix) and name in t.columns:
            bad = next((i for i, v in enumerate(t.columns[name]) if v is not None), None)
            if bad is not None:
                raise t.fail(bad, name, "is an L2 fee; chaintrail reads Ethereum mainnet, where it is empty")


def _by_tx_and_log_index(t: EtlTable, tx_rows: dict[str, int]) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Rows of a logs or token_transfers file joined to their transaction and sorted by
    (tx, log index), one per key: ``(tx row, log index, file rows)``."""
    hashes = t.col("transaction_hash")
    txr = [tx_rows.get(h) for h in hashes]
    bad = next((i for i, w in enumerate(txr) if w is None), None)
    if bad is not None:
        raise t.fail(bad, "transaction_hash", f"{hashes[bad]} is not in the transactions export")
    idx = _conv(t, "log_index", lambda v: _i64(_required(v)))
    rows = _dedupe(t, list(zip(txr, idx.tolist(), strict=True)))
    return np.array([txr[i] for i in rows], np.int64), idx[rows].astype(np.int32), rows


def _logs(b: EthBatch, lt: EtlTable | None, tx_rows: dict[str, int]) -> None:
    if lt is None:
        b.tx_n_logs = np.zeros(b.n_txs, np.int32)
        b.tx_log_start = np.zeros(b.n_txs, np.int64)
        return
    b.log_tx, b.log_index, rows = _by_tx_and_log_index(lt, tx_rows)
    b.log_address = _conv(lt, "address", address_column, rows=rows)
    b.log_data = _conv(lt, "data", _var, rows=rows)
    topics = [_list(lt.col("topics")[i]) for i in rows]
    n_topics = np.array([len(t) for t in topics], np.int8)
    too_many = np.flatnonzero(n_topics > 4)
    if too_many.size:
        k = int(too_many[0])
        raise lt.fail(rows[k], "topics", f"has {n_topics[k]} topics; a log has at most 4")
    flat = [x for t in topics for x in t]
    owner = np.repeat(np.arange(len(rows)), n_topics)
    try:
        col = hexcodec.fixed(flat, 32)
    except HexColumnError as exc:
        raise lt.fail(rows[int(owner[exc.row])], "topics", str(exc)) from None
    first = np.concatenate([[0], np.cumsum(n_topics[:-1], dtype=np.int64)])
    b.log_topics = np.zeros((len(rows), 4, 32), np.uint8)
    b.log_topics[owner, np.arange(len(flat)) - first[owner]] = col
    b.log_n_topics = n_topics
    b.tx_n_logs = np.bincount(b.log_tx, minlength=b.n_txs).astype(np.int32)
    b.tx_log_start = np.concatenate([[0], np.cumsum(b.tx_n_logs[:-1], dtype=np.int64)]).astype(np.int64)


def _transfer_key(r: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(str(r[k]) for k in ("transaction_hash", "log_index", "token_address", "from_address",
                                     "to_address", "value"))  # fmt: skip


def _check_transfers(b: EthBatch, t: EtlTable) -> None:
    ours = {_transfer_key(r): r for r in token_transfer_rows(b)}
    cols = {k: t.col(k) for k in ("transaction_hash", "log_index", "token_address", "from_address",
                                  "to_address", "value")}  # fmt: skip
    theirs = [tuple(str(cols[k][i]) for k in cols) for i in range(t.n)]
    extra = next((i for i, k in enumerate(theirs) if k not in ours), None)
    if extra is not None:
        raise t.fail(extra, "log_index", "this token transfer is not what the logs decode to")
    if len(set(theirs)) != len(ours):
        missing = sorted(set(ours) - set(theirs))[0]
        raise ValidationError(f"the logs decode to a token transfer the file lacks: tx {missing[0]} log {missing[1]}",
                              source=t.source)  # fmt: skip


def _transfers(b: EthBatch, t: EtlTable, tx_rows: dict[str, int]) -> None:
    b.tt_tx, b.tt_log_index, rows = _by_tx_and_log_index(t, tx_rows)
    b.tt_token = _conv(t, "token_address", address_column, rows=rows)
    b.tt_from = _conv(t, "from_address", address_column, rows=rows)
    b.tt_to = _conv(t, "to_address", address_column, rows=rows)
    b.tt_value = _conv(t, "value", _amounts_req, rows=rows)


def _enum(t: EtlTable, row: int, name: str, table: dict[str, Any]) -> int:
    v = t.col(name)[row]
    if v is None:
        return 0
    if v not in table:
        raise t.fail(row, name, f"is {v!r}; expected one of {sorted(table)}")
    return int(table[v])


def _traces(b: EthBatch, t: EtlTable, tx_rows: dict[str, int]) -> None:
    num = _conv(t, "block_number", lambda v: _i64(_required(v)))
    tix = _conv(t, "transaction_index", _i64)
    addr = [_list(v, int) for v in t.col("trace_address")]
    big = 1 << 62
    order = sorted(range(t.n), key=lambda i: (num[i], tix[i] if tix[i] >= 0 else big, addr[i]))
    val = _conv(t, "value", _ints)
    gas, gas_used, sub = _conv(t, "gas", _ints), _conv(t, "gas_used", _ints), _conv(t, "subtraces", _ints)
    rows = TraceRows()
    c = {k: t.col(k) for k in ("transaction_hash", "from_address", "to_address", "input", "output", "error")}
    for i in order:
        ttype = _enum(t, i, "trace_type", TRACE_TYPES)
        if not ttype:
            raise t.fail(i, "trace_type", "is empty")
        h = c["transaction_hash"][i]
        at = TraceAt(int(num[i]), tx_rows.get(h, -1) if h else -1, int(tix[i]), h)
        rows.add(at, ttype, _enum(t, i, "call_type", CALL_TYPES), _enum(t, i, "reward_type", REWARD_TYPES),
                 c["from_address"][i], c["to_address"][i], val[i], gas[i], gas_used[i], c["input"][i],
                 c["output"][i], sub[i] or 0, addr[i], c["error"][i])  # fmt: skip
    try:
        rows.into(b)
    except HexColumnError as exc:
        raise t.fail(order[exc.row], "address or data", str(exc)) from None
    given = _conv(t, "status", _i64)[order]
    bad = np.flatnonzero((given >= 0) & (given != b.tr_status))
    if bad.size:
        k = int(bad[0])
        raise t.fail(order[k], "status", f"says {given[k]}; the errors of the trace and its parents give {b.tr_status[k]}")


def _contracts(b: EthBatch, t: EtlTable) -> None:
    address = _conv(t, "address", address_column)
    code = [bytes.fromhex(v[2:]) if v else None for v in t.col("bytecode")]
    set_contracts(b, address, _conv(t, "block_number", _i64), code)
    given = [[int(x, 16) for x in _list(v)] for v in t.col("function_sighashes")]
    for i, g in enumerate(given):
        if g and g != b.ct_sighashes.row(i).tolist():
            raise t.fail(i, "function_sighashes", "differ from the PUSH4 selectors of the bytecode")
    for name, ours in (("is_erc20", b.ct_is_erc20), ("is_erc721", b.ct_is_erc721)):
        for i, v in enumerate(t.col(name)):
            if v is not None and str(v).lower() != str(bool(ours[i])).lower():
                raise t.fail(i, name, f"says {v}; the bytecode's selectors say {bool(ours[i])}")


def _tokens(b: EthBatch, t: EtlTable) -> None:
    b.tok_address = _conv(t, "address", address_column)
    b.tok_symbol = t.col("symbol")
    b.tok_name = t.col("name")
    b.tok_decimals = _conv(t, "decimals", _i64).astype(np.int16)
    b.tok_total_supply, b.tok_total_supply_has = _conv(t, "total_supply", _amounts)
    b.tok_block_number = _conv(t, "block_number", _i64)
