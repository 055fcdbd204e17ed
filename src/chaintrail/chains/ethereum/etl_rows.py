"""An :class:`EthBatch` as ethereum-etl's rows: the same field names, values and nulls.

This is the common form both readers are checked against (the RPC path and the etl path must
give identical rows for the same blocks) and what an export in ethereum-etl's format writes.
Amounts are Python ints (exact), hashes and addresses lower-case ``0x`` hex, lists as lists;
``stream=True`` adds the ``type``/``item_id``/``item_timestamp``/``block_*`` fields that
ethereum-etl's ``stream`` command puts on each item.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np

from chaintrail.chains.ethereum import u256
from chaintrail.chains.ethereum.batch import CallType, EthBatch, RewardType, TraceType, label
from chaintrail.chains.ethereum.hexcodec import fixed_to_hex, to_hex_rows
from chaintrail.chains.ethereum.traces import TRACE_TYPES

Row = dict[str, Any]
_TRACE_LABEL = {v: k for k, v in TRACE_TYPES.items()}


def _opt(values: list[Any], has: np.ndarray) -> list[Any]:
    return [v if h else None for v, h in zip(values, has.tolist(), strict=True)]


def _int_or_none(a: np.ndarray, null: int = -1) -> list[int | None]:
    return [None if v == null else v for v in a.tolist()]


def _stamp(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def block_rows(b: EthBatch, *, stream: bool = False) -> list[Row]:
    """ethereum-etl ``blocks`` rows (withdrawals as a list of dicts, amounts in gwei)."""
    hashes = fixed_to_hex(b.block_hash)
    wd_addr = fixed_to_hex(b.wd_address)
    rows = []
    cols = {
        "number": b.block_number.tolist(),
        "hash": hashes,
        "parent_hash": fixed_to_hex(b.block_parent_hash),
        "nonce": fixed_to_hex(b.block_nonce),
        "sha3_uncles": fixed_to_hex(b.block_sha3_uncles),
        "logs_bloom": fixed_to_hex(b.block_logs_bloom),
        "transactions_root": fixed_to_hex(b.block_transactions_root),
        "state_root": fixed_to_hex(b.block_state_root),
        "receipts_root": fixed_to_hex(b.block_receipts_root),
        "miner": fixed_to_hex(b.block_miner),
        "difficulty": u256.to_ints(b.block_difficulty),
        "total_difficulty": _opt(u256.to_ints(b.block_total_difficulty), b.block_total_difficulty_has),
        "size": b.block_size.tolist(),
        "extra_data": to_hex_rows(b.block_extra_data.offsets, b.block_extra_data.buf),
        "gas_limit": b.block_gas_limit.tolist(),
        "gas_used": b.block_gas_used.tolist(),
        "timestamp": b.block_timestamp.tolist(),
        "transaction_count": b.block_tx_count.tolist(),
        "base_fee_per_gas": _opt(u256.to_ints(b.block_base_fee), b.block_base_fee_has),
        "withdrawals_root": _opt(fixed_to_hex(b.block_withdrawals_root), b.block_withdrawals_root_has),
    }
    for i in range(b.n_blocks):
        row = {k: v[i] for k, v in cols.items()}
        s, n = int(b.block_wd_start[i]), int(b.block_n_wd[i])
        row["withdrawals"] = [
            {"index": int(b.wd_index[k]), "validator_index": int(b.wd_validator_index[k]),
             "address": wd_addr[k], "amount": int(b.wd_amount_gwei[k])}
            for k in range(s, s + n)
        ]  # fmt: skip
        if stream:
            row = {"type": "block", **row, "item_id": f"block_{hashes[i]}",
                   "item_timestamp": _stamp(row["timestamp"])}  # fmt: skip
        rows.append(row)
    return rows


def _receipt_cols(b: EthBatch) -> dict[str, list[Any]]:
    has = b.tx_receipt_has
    return {
        "cumulative_gas_used": _opt(b.tx_cumulative_gas_used.tolist(), has),
        "gas_used": _opt(b.tx_gas_used.tolist(), has),
        "contract_address": _opt(fixed_to_hex(b.tx_contract_address), b.tx_contract_address_has),
        "root": _opt(fixed_to_hex(b.tx_root), b.tx_root_has),
        "status": _int_or_none(b.tx_status),
        "effective_gas_price": _opt(u256.to_ints(b.tx_effective_gas_price), b.tx_effective_gas_price_has),
        "l1_fee": [None] * b.n_txs,
        "l1_gas_used": [None] * b.n_txs,
        "l1_gas_price": [None] * b.n_txs,
        "l1_fee_scalar": [None] * b.n_txs,
    }


def transaction_rows(b: EthBatch, *, stream: bool = False) -> list[Row]:
    """ethereum-etl ``transactions`` rows; ``stream`` adds the ``receipt_*`` fields."""
    blk = b.tx_block
    hashes = fixed_to_hex(b.tx_hash)
    cols = {
        "hash": hashes,
        "nonce": b.tx_nonce.tolist(),
        "block_hash": [fixed_to_hex(b.block_hash)[i] for i in blk.tolist()] if b.n_txs else [],
        "block_number": b.block_number[blk].tolist(),
        "transaction_index": b.tx_index.tolist(),
        "from_address": fixed_to_hex(b.tx_from),
        "to_address": _opt(fixed_to_hex(b.tx_to), b.tx_to_has),
        "value": u256.to_ints(b.tx_value),
        "gas": b.tx_gas.tolist(),
        "gas_price": u256.to_ints(b.tx_gas_price),
        "input": to_hex_rows(b.tx_input.offsets, b.tx_input.buf),
        "block_timestamp": b.block_timestamp[blk].tolist(),
        "max_fee_per_gas": _opt(u256.to_ints(b.tx_max_fee), b.tx_max_fee_has),
        "max_priority_fee_per_gas": _opt(u256.to_ints(b.tx_max_priority_fee), b.tx_max_priority_fee_has),
        "transaction_type": _int_or_none(b.tx_type),
    }
    if stream:
        cols.update({f"receipt_{k}": v for k, v in _receipt_cols(b).items()})
        cols["item_id"] = [f"transaction_{h}" for h in hashes]
        cols["item_timestamp"] = [_stamp(t) for t in cols["block_timestamp"]]
    rows = [{k: v[i] for k, v in cols.items()} for i in range(b.n_txs)]
    return [{"type": "transaction", **r} for r in rows] if stream else rows


def receipt_rows(b: EthBatch) -> list[Row]:
    """ethereum-etl ``receipts`` rows, for the transactions whose receipt was read."""
    blk = b.tx_block
    block_hashes = fixed_to_hex(b.block_hash)
    cols = {
        "transaction_hash": fixed_to_hex(b.tx_hash),
        "transaction_index": b.tx_index.tolist(),
        "block_hash": [block_hashes[i] for i in blk.tolist()],
        "block_number": b.block_number[blk].tolist(),
        **_receipt_cols(b),
    }
    return [{k: v[i] for k, v in cols.items()} for i in np.flatnonzero(b.tx_receipt_has).tolist()]


def _tx_refs(b: EthBatch, tx_rows: np.ndarray) -> dict[str, list[Any]]:
    blk = b.tx_block[tx_rows]
    block_hashes = fixed_to_hex(b.block_hash)
    return {
        "transaction_hash": fixed_to_hex(b.tx_hash[tx_rows]),
        "transaction_index": b.tx_index[tx_rows].tolist(),
        "block_hash": [block_hashes[i] for i in blk.tolist()],
        "block_number": b.block_number[blk].tolist(),
        "block_timestamp": b.block_timestamp[blk].tolist(),
    }


def log_rows(b: EthBatch, *, stream: bool = False) -> list[Row]:
    """ethereum-etl ``logs`` rows (topics as a list)."""
    refs = _tx_refs(b, b.log_tx)
    topics_hex = fixed_to_hex(b.log_topics.reshape(-1, 32)) if b.n_logs else []
    cols = {
        "log_index": b.log_index.tolist(),
        "transaction_hash": refs["transaction_hash"],
        "transaction_index": refs["transaction_index"],
        "block_hash": refs["block_hash"],
        "block_number": refs["block_number"],
        "address": fixed_to_hex(b.log_address),
        "data": to_hex_rows(b.log_data.offsets, b.log_data.buf),
        "topics": [topics_hex[4 * j : 4 * j + n] for j, n in enumerate(b.log_n_topics.tolist())],
    }
    if stream:
        cols["block_timestamp"] = refs["block_timestamp"]
        cols["item_id"] = [f"log_{h}_{i}" for h, i in zip(cols["transaction_hash"], cols["log_index"], strict=True)]
        cols["item_timestamp"] = [_stamp(t) for t in refs["block_timestamp"]]
    rows = [{k: v[i] for k, v in cols.items()} for i in range(b.n_logs)]
    return [{"type": "log", **r} for r in rows] if stream else rows


def token_transfer_rows(b: EthBatch, *, stream: bool = False) -> list[Row]:
    """ethereum-etl ``token_transfers`` rows."""
    refs = _tx_refs(b, b.tt_tx)
    cols = {
        "token_address": fixed_to_hex(b.tt_token),
        "from_address": fixed_to_hex(b.tt_from),
        "to_address": fixed_to_hex(b.tt_to),
        "value": u256.to_ints(b.tt_value),
        "transaction_hash": refs["transaction_hash"],
        "log_index": b.tt_log_index.tolist(),
        "block_number": refs["block_number"],
    }
    if stream:
        cols["block_timestamp"] = refs["block_timestamp"]
        cols["block_hash"] = refs["block_hash"]
        cols["item_id"] = [f"token_transfer_{h}_{i}" for h, i in zip(cols["transaction_hash"], cols["log_index"], strict=True)]
        cols["item_timestamp"] = [_stamp(t) for t in refs["block_timestamp"]]
    rows = [{k: v[i] for k, v in cols.items()} for i in range(b.tt_tx.shape[0])]
    return [{"type": "token_transfer", **r} for r in rows] if stream else rows


def trace_rows(b: EthBatch) -> list[Row]:
    """ethereum-etl ``traces`` rows, with its ``status`` and ``trace_id``."""
    tx_hash = fixed_to_hex(b.tr_tx_hash)
    addr = [b.tr_address.row(r).tolist() for r in range(b.n_traces)]
    rows = []
    reward_seen: dict[tuple[int, str], int] = {}
    frm, to = fixed_to_hex(b.tr_from), fixed_to_hex(b.tr_to)
    value = u256.to_ints(b.tr_value)
    inp = to_hex_rows(b.tr_input.offsets, b.tr_input.buf)
    out = to_hex_rows(b.tr_output.offsets, b.tr_output.buf)
    err = [b.tr_error.row(r).tobytes().decode() if b.tr_error.has[r] else None for r in range(b.n_traces)]
    for r in range(b.n_traces):
        ttype = _TRACE_LABEL[TraceType(int(b.tr_type[r]))]
        number = int(b.tr_block_number[r])
        h = tx_hash[r] if b.tr_tx_hash_has[r] else None
        if b.tr_tx_index[r] >= 0:
            trace_id = None if h is None else f"{ttype}_{h}_{'_'.join(map(str, addr[r]))}"
        else:  # block-scoped: numbered per type (ethereum-etl sorts by reward type, from, to, value)
            k = reward_seen.get((number, ttype), 0)
            reward_seen[(number, ttype)] = k + 1
            trace_id = f"{ttype}_{number}_{k}"
        ct, rt = int(b.tr_call_type[r]), int(b.tr_reward_type[r])
        rows.append({
            "block_number": number,
            "transaction_hash": h,
            "transaction_index": int(b.tr_tx_index[r]) if b.tr_tx_index[r] >= 0 else None,
            "from_address": frm[r] if b.tr_from_has[r] else None,
            "to_address": to[r] if b.tr_to_has[r] else None,
            "value": value[r] if b.tr_value_has[r] else None,
            "input": inp[r] if b.tr_input.has[r] else None,
            "output": out[r] if b.tr_output.has[r] else None,
            "trace_type": ttype,
            "call_type": label(CallType(ct)) if ct else None,
            "reward_type": label(RewardType(rt)) if rt else None,
            "gas": None if b.tr_gas[r] < 0 else int(b.tr_gas[r]),
            "gas_used": None if b.tr_gas_used[r] < 0 else int(b.tr_gas_used[r]),
            "subtraces": int(b.tr_subtraces[r]),
            "trace_address": addr[r],
            "error": err[r],
            "status": int(b.tr_status[r]),
            "trace_id": trace_id,
        })  # fmt: skip
    return rows


def contract_rows(b: EthBatch) -> list[Row]:
    """ethereum-etl ``contracts`` rows."""
    code = to_hex_rows(b.ct_bytecode.offsets, b.ct_bytecode.buf)
    return [
        {
            "address": a,
            "bytecode": code[i] if b.ct_bytecode.has[i] else None,
            "function_sighashes": [f"0x{int(s):08x}" for s in b.ct_sighashes.row(i)],
            "is_erc20": bool(b.ct_is_erc20[i]),
            "is_erc721": bool(b.ct_is_erc721[i]),
            "block_number": None if b.ct_block_number[i] < 0 else int(b.ct_block_number[i]),
        }
        for i, a in enumerate(fixed_to_hex(b.ct_address))
    ]


def token_rows(b: EthBatch) -> list[Row]:
    """ethereum-etl ``tokens`` rows."""
    supply = u256.to_ints(b.tok_total_supply)
    return [
        {
            "address": a,
            "symbol": b.tok_symbol[i],
            "name": b.tok_name[i],
            "decimals": None if b.tok_decimals[i] < 0 else int(b.tok_decimals[i]),
            "total_supply": supply[i] if b.tok_total_supply_has[i] else None,
            "block_number": None if b.tok_block_number[i] < 0 else int(b.tok_block_number[i]),
        }
        for i, a in enumerate(fixed_to_hex(b.tok_address))
    ]
