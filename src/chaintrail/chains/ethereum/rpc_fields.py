"""Every field a node's JSON-RPC answer may carry: parsed (typed below) or ignored with a reason.

The decoder structs are built from these tables with ``forbid_unknown_fields``, so a field no
table names fails decoding; :func:`chaintrail.chains.ethereum.rpc.decode_error` turns that into
one line naming the block/tx/log and saying to add it here. Sources: the execution-apis
schemas (block, transaction, receipt, log), geth's callTracer, Parity/OpenEthereum/Erigon
``trace_block``, and the extra keys OpenEthereum-era nodes add (the recorded fixtures have them).
"""

from __future__ import annotations

from typing import Any

import msgspec

Hex = str | None
WIRE_NAMES = {"sender": "from"}  # struct attribute -> JSON name, where Python needs another

IGNORED_BLOCK_FIELDS = {
    "author": "OpenEthereum's copy of miner",
    "sealFields": "OpenEthereum's raw PoW seal (mixHash and nonce, RLP)",
    "mixHash": "PoW seal / post-merge prevRandao: no value moves; ethereum-etl drops it too",
    "uncles": "uncle hashes; uncle rewards come from trace_block reward traces",
    "blobGasUsed": "block total of blob gas; each tx's blob fee is read from its receipt",
    "excessBlobGas": "blob fee market state, not a value transfer",
    "parentBeaconBlockRoot": "consensus-layer root (EIP-4788), not a value transfer",
    "requestsHash": "commitment to consensus requests (EIP-7685), not a value transfer",
    "signature": "Clique/PoA seal some nodes add; not on mainnet",
    "step": "Aura seal field of PoA chains; not on mainnet",
}
IGNORED_TX_FIELDS = {
    "blockNumber": "repeats the enclosing block's number (blockHash is checked)",
    "blockTimestamp": "repeats the enclosing block's timestamp",
    "chainId": "replay protection; the chain is known from the node",
    "v": "signature (the sender is given as from)",
    "r": "signature",
    "s": "signature",
    "yParity": "signature",
    "standardV": "OpenEthereum's normalised v (signature)",
    "publicKey": "OpenEthereum's recovered sender key (the sender is given as from)",
    "raw": "OpenEthereum's RLP of the transaction; every field is given decoded",
    "condition": "OpenEthereum's scheduling condition, always null on mainnet",
    "creates": "OpenEthereum's created address; the receipt's contractAddress is used",
    "accessList": "EIP-2930 storage warm-up list: gas accounting only",
    "maxFeePerBlobGas": "blob fee cap; the fee paid is the receipt's blobGasUsed x blobGasPrice",
    "blobVersionedHashes": "blob commitments: data availability, not value",
    "authorizationList": "EIP-7702 delegations: code pointers, not value (the tx's own value is parsed)",
    "data": "an alias of input some nodes add",
}
IGNORED_RECEIPT_FIELDS = {
    "logsBloom": "derived from the logs",
    "from": "repeats the transaction's from",
    "to": "repeats the transaction's to",
    "type": "repeats the transaction's type",
    "blockNumber": "repeats the block's number (blockHash is checked)",
}
IGNORED_LOG_FIELDS = {
    "blockHash": "repeats the block's hash",
    "blockNumber": "repeats the block's number",
    "blockTimestamp": "repeats the block's timestamp",
    "transactionIndex": "repeats the transaction's index",
    "transactionLogIndex": "OpenEthereum's index within the tx; the block-level logIndex is kept",
    "type": "OpenEthereum's 'mined'/'pending' marker; blocks are mined",
    "removed": "true only in filter answers across a reorg; receipts of a block are never removed",
}
IGNORED_PARITY_TRACE_FIELDS: dict[str, str] = {}
IGNORED_GETH_FRAME_FIELDS = {
    "time": "how long the tracer ran",
    "revertReason": "decoded revert message; error says the frame failed",
    "logs": "withLog=true option: logs come from the receipts",
}


def _struct(name: str, fields: list[tuple[str, Any]], ignored: dict[str, str],
            rename: dict[str, str] | None = None) -> type[msgspec.Struct]:  # fmt: skip
    spec = [(f, t, None) for f, t in fields] + [(f, msgspec.Raw, None) for f in ignored]
    return msgspec.defstruct(name, spec, forbid_unknown_fields=True, rename=rename,
                             kw_only=True, omit_defaults=True)  # fmt: skip


class Withdrawal(msgspec.Struct, forbid_unknown_fields=True):
    """One post-Shanghai withdrawal (amount in gwei)."""

    index: str
    validatorIndex: str  # noqa: N815 - the wire name
    address: str
    amount: str


# input and data stay raw JSON (msgspec.Raw): hexcodec.var_bytes_raw decodes them in bulk
Log = _struct("Log", [("address", str), ("topics", list[str]), ("data", msgspec.Raw),
                      ("logIndex", str), ("transactionHash", Hex)], IGNORED_LOG_FIELDS)  # fmt: skip
Receipt = _struct(
    "Receipt",
    [("transactionHash", str), ("transactionIndex", str), ("blockHash", Hex),
     ("cumulativeGasUsed", str), ("gasUsed", str), ("contractAddress", Hex), ("root", Hex),
     ("status", Hex), ("effectiveGasPrice", Hex), ("blobGasUsed", Hex), ("blobGasPrice", Hex),
     ("logs", list[Log])],  # type: ignore[valid-type]
    IGNORED_RECEIPT_FIELDS,
)  # fmt: skip
Tx = _struct(
    "Tx",
    [("hash", str), ("nonce", str), ("transactionIndex", str), ("blockHash", Hex),
     ("sender", str), ("to", Hex),
     ("value", str), ("gas", str), ("gasPrice", Hex), ("input", msgspec.Raw), ("maxFeePerGas", Hex),
     ("maxPriorityFeePerGas", Hex), ("type", Hex)],
    IGNORED_TX_FIELDS,
    rename=WIRE_NAMES,
)  # fmt: skip
Block = _struct(
    "Block",
    [("number", str), ("hash", str), ("parentHash", str), ("nonce", Hex), ("sha3Uncles", str),
     ("logsBloom", str), ("transactionsRoot", str), ("stateRoot", str), ("receiptsRoot", str),
     ("miner", str), ("difficulty", Hex), ("totalDifficulty", Hex), ("size", str),
     ("extraData", str), ("gasLimit", str), ("gasUsed", str), ("timestamp", str),
     ("baseFeePerGas", Hex), ("withdrawalsRoot", Hex), ("withdrawals", list[Withdrawal] | None),
     ("transactions", list[Tx])],  # type: ignore[valid-type]
    IGNORED_BLOCK_FIELDS,
)  # fmt: skip
ParityAction = _struct(
    "ParityAction",
    [("callType", Hex), ("sender", Hex), ("gas", Hex), ("input", Hex), ("to", Hex),
     ("value", Hex), ("init", Hex), ("creationMethod", Hex), ("address", Hex),
     ("balance", Hex), ("refundAddress", Hex), ("author", Hex), ("rewardType", Hex)],
    {}, rename=WIRE_NAMES,
)  # fmt: skip
ParityResult = _struct("ParityResult", [("gasUsed", Hex), ("output", Hex), ("address", Hex),
                                        ("code", Hex)], {})  # fmt: skip
ParityTrace = _struct(
    "ParityTrace",
    [("action", ParityAction), ("result", ParityResult | None), ("error", Hex),
     ("subtraces", int), ("traceAddress", list[int]), ("transactionPosition", int | None),
     ("transactionHash", Hex), ("blockHash", Hex), ("blockNumber", int | None),
     ("type", str)],
    IGNORED_PARITY_TRACE_FIELDS,
)  # fmt: skip


class GethFrame(msgspec.Struct, forbid_unknown_fields=True, rename={"sender": "from"}):
    """One callTracer frame (geth ``debug_traceBlockByNumber`` with ``{"tracer": "callTracer"}``)."""

    type: str
    sender: str | None = None
    to: str | None = None
    value: str | None = None
    gas: str | None = None
    gasUsed: str | None = None  # noqa: N815
    input: str | None = None
    output: str | None = None
    error: str | None = None
    calls: list[GethFrame] | None = None
    time: msgspec.Raw = None  # type: ignore[assignment]
    revertReason: msgspec.Raw = None  # type: ignore[assignment]  # noqa: N815
    logs: msgspec.Raw = None  # type: ignore[assignment]


class GethTxTrace(msgspec.Struct, forbid_unknown_fields=True):
    """One entry of ``debug_traceBlockByNumber``: the tx's frame, or the error tracing it."""

    result: GethFrame | None = None
    txHash: str | None = None  # noqa: N815 - newer geth names the tx
    error: str | None = None


_geth_ignored = set(IGNORED_GETH_FRAME_FIELDS)
assert _geth_ignored <= set(GethFrame.__struct_fields__), "GethFrame lacks an ignored field"
