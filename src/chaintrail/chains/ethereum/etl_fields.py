"""Every column of an ethereum-etl export: parsed, or ignored with a reason.

Files are recognised by their columns (:data:`SIGNATURES`), not their names, so partitioned
exports (``blocks/start_block=.../blocks_*.csv``), ``expected_*`` fixtures and ``stream``
output all read the same. A column no table names fails, naming the file and how to fix it.
"""

from __future__ import annotations

# kind -> columns whose presence identifies it (checked in this order)
SIGNATURES: list[tuple[str, frozenset[str]]] = [
    ("blocks", frozenset({"logs_bloom", "transaction_count"})),
    ("traces", frozenset({"trace_type", "trace_address"})),
    ("token_transfers", frozenset({"token_address", "from_address", "to_address"})),
    ("receipts", frozenset({"cumulative_gas_used", "transaction_hash"})),
    ("logs", frozenset({"topics", "log_index", "data"})),
    ("transactions", frozenset({"from_address", "gas_price", "input"})),
    ("contracts", frozenset({"bytecode", "function_sighashes"})),
    ("tokens", frozenset({"symbol", "decimals", "total_supply"})),
]
_STREAM = {
    "type": "stream item type; the file's kind is known from its columns",
    "item_id": "stream item id, derived from hashes and indexes",
    "item_timestamp": "stream item time, the block timestamp as text",
}
_L1 = "an L2 (Optimism) fee field, always empty on Ethereum mainnet (checked)"
PARSED: dict[str, frozenset[str]] = {
    "blocks": frozenset({"number", "hash", "parent_hash", "nonce", "sha3_uncles", "logs_bloom",
                         "transactions_root", "state_root", "receipts_root", "miner", "difficulty",
                         "total_difficulty", "size", "extra_data", "gas_limit", "gas_used",
                         "timestamp", "transaction_count", "base_fee_per_gas", "withdrawals_root",
                         "withdrawals"}),
    "transactions": frozenset({"hash", "nonce", "block_hash", "block_number", "transaction_index",
                               "from_address", "to_address", "value", "gas", "gas_price", "input",
                               "max_fee_per_gas", "max_priority_fee_per_gas", "transaction_type",
                               "receipt_cumulative_gas_used", "receipt_gas_used",
                               "receipt_contract_address", "receipt_root", "receipt_status",
                               "receipt_effective_gas_price"}),
    "receipts": frozenset({"transaction_hash", "transaction_index", "block_hash", "block_number",
                           "cumulative_gas_used", "gas_used", "contract_address", "root", "status",
                           "effective_gas_price"}),
    "logs": frozenset({"log_index", "transaction_hash", "transaction_index", "block_hash",
                       "block_number", "address", "data", "topics"}),
    "token_transfers": frozenset({"token_address", "from_address", "to_address", "value",
                                  "transaction_hash", "log_index", "block_number"}),
    "traces": frozenset({"block_number", "transaction_hash", "transaction_index", "from_address",
                         "to_address", "value", "input", "output", "trace_type", "call_type",
                         "reward_type", "gas", "gas_used", "subtraces", "trace_address", "error",
                         "status"}),
    "contracts": frozenset({"address", "bytecode", "function_sighashes", "is_erc20", "is_erc721",
                            "block_number"}),
    "tokens": frozenset({"address", "symbol", "name", "decimals", "total_supply", "block_number"}),
}  # fmt: skip
IGNORED: dict[str, dict[str, str]] = {
    "blocks": {**_STREAM},
    "transactions": {
        **_STREAM,
        "block_timestamp": "repeats the block's timestamp",
        **{f"receipt_{k}": _L1 for k in ("l1_fee", "l1_gas_used", "l1_gas_price", "l1_fee_scalar")},
    },
    "receipts": {k: _L1 for k in ("l1_fee", "l1_gas_used", "l1_gas_price", "l1_fee_scalar")},
    "logs": {**_STREAM, "block_timestamp": "repeats the block's timestamp"},
    "token_transfers": {
        **_STREAM,
        "block_timestamp": "repeats the block's timestamp",
        "block_hash": "repeats the block's hash",
        "transaction_index": "repeats the transaction's index",
    },
    "traces": {
        **_STREAM,
        "trace_id": "derived from type, transaction hash and trace address (rendered again)",
        "block_timestamp": "repeats the block's timestamp",
        "block_hash": "repeats the block's hash",
        "trace_index": "position in the block; the order of the rows",
    },
    "contracts": {**_STREAM, "block_timestamp": "repeats the block's timestamp",
                  "block_hash": "repeats the block's hash"},  # fmt: skip
    "tokens": {**_STREAM, "block_timestamp": "repeats the block's timestamp",
               "block_hash": "repeats the block's hash"},  # fmt: skip
}
L1_COLUMNS = frozenset(k for kind in ("transactions", "receipts") for k, why in IGNORED[kind].items()
                       if why == _L1)  # fmt: skip


def kind_of(columns: set[str]) -> str | None:
    """The export kind whose signature columns ``columns`` has, or None."""
    return next((kind for kind, sig in SIGNATURES if sig <= columns), None)


def unknown_columns(kind: str, columns: set[str]) -> list[str]:
    """Columns of a ``kind`` file that no table names (sorted)."""
    return sorted(columns - PARSED[kind] - set(IGNORED[kind]))
