"""Blocks, receipts, traces and token metadata from a live Ethereum node, in JSON-RPC batches.

:func:`fetch_blocks` asks for ``batch_size`` blocks per HTTP request (``eth_getBlockByNumber``
with full transactions), then their receipts (``eth_getBlockReceipts``; a node without it is
asked ``eth_getTransactionReceipt`` per transaction) and, if wanted, their traces (Parity
``trace_block`` or geth ``debug_traceBlockByNumber`` with the callTracer). Answers are decoded
by the same structs and checked by the same code as saved answers (:mod:`.rpc`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from chaintrail.chains.ethereum.batch import EthBatch
from chaintrail.chains.ethereum.params import (
    DECIMALS_SELECTOR,
    NAME_SELECTOR,
    SYMBOL_SELECTOR,
    TOTAL_SUPPLY_SELECTOR,
)
from chaintrail.chains.ethereum.rpc import BlockAnswers, batch_from_answers
from chaintrail.chains.ethereum.rpc_files import decode_result
from chaintrail.chains.ethereum.tokens import MAX_DECIMALS, decode_text, decode_uint, set_tokens
from chaintrail.chains.jsonrpc import JsonRpcClient, RpcCallError
from chaintrail.errors import RemoteError, UsageError

TraceSource = Literal["parity", "geth"]
METHOD_NOT_FOUND = -32601
GETH_TRACER = {"tracer": "callTracer"}


class EthRpcClient(JsonRpcClient):
    """JSON-RPC client of an Ethereum execution node (geth, Erigon, Nethermind, Reth)."""

    def block_number(self) -> int:
        """Height of the node's head block."""
        return int(bytes(self.call("eth_blockNumber")).strip(b'"'), 16)


def _decoded(raws: list[Any], kind: str, what: str) -> list[Any]:
    return [decode_result(bytes(r), kind, what) for r in raws]


def _receipts(client: EthRpcClient, blocks: list[Any]) -> list[list[Any]]:
    try:
        raws = client.batch([("eth_getBlockReceipts", [b.number]) for b in blocks])
        return [decode_result(bytes(r), "receipts", f"{client.url} eth_getBlockReceipts {b.number}")
                for r, b in zip(raws, blocks, strict=True)]  # fmt: skip
    except RpcCallError as exc:
        if exc.code != METHOD_NOT_FOUND:
            raise
    out = []
    for b in blocks:
        calls = [("eth_getTransactionReceipt", [t.hash]) for t in b.transactions]
        out.append(_decoded(client.batch(calls), "receipt", f"{client.url} eth_getTransactionReceipt"))
    return out


def fetch_blocks(client: EthRpcClient, numbers: Sequence[int], *, receipts: bool = True,
                 traces: TraceSource | None = None, batch_size: int = 20) -> EthBatch:  # fmt: skip
    """Blocks ``numbers`` with receipts (and traces) as one batch, checked like saved answers."""
    if batch_size < 1:
        raise UsageError(f"batch size must be >= 1, got {batch_size}")
    if traces not in (None, "parity", "geth"):
        raise UsageError(f"traces must be 'parity' or 'geth', got {traces!r}")
    answers: list[BlockAnswers] = []
    nums = [int(n) for n in numbers]
    for i in range(0, len(nums), batch_size):
        chunk = nums[i : i + batch_size]
        raws = client.batch([("eth_getBlockByNumber", [hex(n), True]) for n in chunk])
        blocks = []
        for n, raw in zip(chunk, raws, strict=True):
            if bytes(raw) == b"null":
                raise RemoteError(f"{client.url}: block {n} not found (the node's head is below it, "
                                  "or it is still syncing)")  # fmt: skip
            blocks.append(decode_result(bytes(raw), "block", f"{client.url} eth_getBlockByNumber {n}"))
        chunk_answers = [BlockAnswers(b, f"{client.url} block {n}") for b, n in zip(blocks, chunk, strict=True)]
        if receipts:
            for a, rs in zip(chunk_answers, _receipts(client, blocks), strict=True):
                a.receipts = rs
        if traces == "parity":
            tr = _decoded(client.batch([("trace_block", [hex(n)]) for n in chunk]), "parity", f"{client.url} trace_block")
            for a, t in zip(chunk_answers, tr, strict=True):
                a.parity_traces = t
        elif traces == "geth":
            calls = [("debug_traceBlockByNumber", [hex(n), GETH_TRACER]) for n in chunk]
            for a, t in zip(chunk_answers, _decoded(client.batch(calls), "geth", f"{client.url} debug_traceBlockByNumber"), strict=True):
                a.geth_traces = t
        answers += chunk_answers
    return batch_from_answers(answers)


def fetch_traces(client: EthRpcClient, numbers: Sequence[int], traces: TraceSource = "parity",
                 batch_size: int = 20) -> EthBatch:  # fmt: skip
    """Traces of blocks ``numbers`` alone (as ethereum-etl's export_traces does), no blocks."""
    if traces not in ("parity", "geth"):
        raise UsageError(f"traces must be 'parity' or 'geth', got {traces!r}")
    answers = []
    nums = [int(n) for n in numbers]
    for i in range(0, len(nums), batch_size):
        chunk = nums[i : i + batch_size]
        calls: list[tuple[str, list[Any]]]
        if traces == "parity":
            calls = [("trace_block", [hex(n)]) for n in chunk]
        else:
            calls = [("debug_traceBlockByNumber", [hex(n), GETH_TRACER]) for n in chunk]
        for n, raw in zip(chunk, client.batch(calls), strict=True):
            a = BlockAnswers(None, f"{client.url} {calls[0][0]} {n}", number=n)
            if traces == "parity":
                a.parity_traces = decode_result(bytes(raw), "parity", a.source)
            else:
                a.geth_traces = decode_result(bytes(raw), "geth", a.source)
            answers.append(a)
    return batch_from_answers(answers)


def fetch_tokens(client: EthRpcClient, addresses: Sequence[str], block: str = "latest") -> EthBatch:
    """A batch holding only the token registry rows of ``addresses`` (name, symbol, decimals,
    total supply by ``eth_call`` at ``block``); a getter that reverts leaves that field unknown."""
    sels = (NAME_SELECTOR, SYMBOL_SELECTOR, DECIMALS_SELECTOR, TOTAL_SUPPLY_SELECTOR)
    answers: list[str | None] = []
    for a in addresses:
        for sel in sels:
            try:
                raw = client.call("eth_call", {"to": a, "data": "0x" + sel.hex()}, block)
                answers.append(str(decode_result_text(bytes(raw))))
            except RpcCallError:
                answers.append(None)  # execution reverted: the token lacks that getter
    b = EthBatch()
    q = [answers[i * 4 : i * 4 + 4] for i in range(len(addresses))]
    set_tokens(b, [a.lower() for a in addresses], [decode_text(x[0]) for x in q],
               [decode_text(x[1]) for x in q], [decode_uint(x[2], MAX_DECIMALS) for x in q],
               [decode_uint(x[3]) for x in q])  # fmt: skip
    return b


def decode_result_text(raw: bytes) -> str:
    """A JSON string result (``"0x..."``) as text."""
    return raw.decode().strip().strip('"')
