"""A small JSON-RPC node for tests: a real HTTP server answering from the recorded fixtures.

It speaks JSON-RPC 2.0 over HTTP on 127.0.0.1 (single calls and batches) and answers
``eth_getBlockByNumber``, ``eth_getBlockReceipts`` (unless told it is an old node),
``eth_getTransactionReceipt``, ``trace_block``, ``debug_traceBlockByNumber``, ``eth_call`` and
``eth_blockNumber`` from the saved answers in tests/data/eth; anything else is the node's
"method not found" error.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .conftest import BLOCKS_JOB, ETL, GETH, PARITY, RECEIPTS_483920, RPC_17173049, TRACE_CASES


def _result(path: Path) -> Any:
    return json.loads(path.read_text())["result"]


class Answers:
    """What the node knows, by method and first parameter."""

    def __init__(self) -> None:
        self.blocks: dict[int, Any] = {}
        self.receipts: dict[str, Any] = {}
        self.block_receipts: dict[int, list[Any]] = {}
        self.parity: dict[int, Any] = {}
        self.geth: dict[int, Any] = {}
        self.calls: dict[tuple[str, str], str] = {}
        for f in [*(BLOCKS_JOB / "block_with_logs").glob("web3_*.json"),
                  *(BLOCKS_JOB / "blocks_with_transactions").glob("web3_*.json"),
                  *RPC_17173049.glob("eth_getBlockByNumber_*.json")]:  # fmt: skip
            b = _result(f)
            self.blocks[int(b["number"], 16)] = b
        for f in RECEIPTS_483920.glob("web3_*.json"):
            r = _result(f)
            self.receipts[r["transactionHash"]] = r
        for f in RPC_17173049.glob("eth_getBlockReceipts_*.json"):
            rs = _result(f)
            self.block_receipts[int(rs[0]["blockNumber"], 16)] = rs
            self.receipts.update({r["transactionHash"]: r for r in rs})
        for case in TRACE_CASES:
            for root, table in ((PARITY, self.parity), (GETH, self.geth)):
                f = next((root / case).glob("web3_response.*.json"))
                table[int(f.name.split("_0x")[1].split("_")[0].split(".")[0], 16)] = _result(f)
        for f in (ETL / "test_export_tokens_job").glob("*/web3_response.eth_call_*.json"):
            data, to = f.name.split("data_")[1].split("_to_")
            self.calls[(to.split("_")[0], data)] = _result(f)


class _Handler(BaseHTTPRequestHandler):
    answers: Answers
    block_receipts = True
    calls_seen: list[str]

    def log_message(self, *args: Any) -> None:
        pass

    def _answer(self, req: dict[str, Any]) -> dict[str, Any]:
        method, params = req["method"], req.get("params", [])
        self.calls_seen.append(method)
        a = self.answers
        result: Any = None
        if method == "eth_blockNumber":
            result = hex(max(a.blocks))
        elif method == "eth_getBlockByNumber":
            result = a.blocks.get(int(params[0], 16))
        elif method == "eth_getBlockReceipts" and self.block_receipts:
            n = int(params[0], 16)
            result = a.block_receipts.get(n)
            if result is None and n in a.blocks:
                txs = a.blocks[n]["transactions"]
                if not all(t["hash"] in a.receipts for t in txs):
                    return {"jsonrpc": "2.0", "id": req["id"],
                            "error": {"code": -32000, "message": "receipts not available"}}  # fmt: skip
                result = [a.receipts[t["hash"]] for t in txs]
        elif method == "eth_getTransactionReceipt":
            result = a.receipts.get(params[0])
        elif method == "trace_block":
            result = a.parity.get(int(params[0], 16))
        elif method == "debug_traceBlockByNumber":
            result = a.geth.get(int(params[0], 16))
        elif method == "eth_call":
            result = a.calls.get((params[0]["to"], params[0]["data"]))
            if result is None:
                return {"jsonrpc": "2.0", "id": req["id"], "error": {"code": 3, "message": "execution reverted"}}
        else:
            return {"jsonrpc": "2.0", "id": req["id"],
                    "error": {"code": -32601, "message": f"the method {method} does not exist/is not available"}}  # fmt: skip
        return {"jsonrpc": "2.0", "id": req["id"], "result": result}

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        reply = [self._answer(r) for r in body] if isinstance(body, list) else self._answer(body)
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@contextmanager
def rpc_node(*, block_receipts: bool = True) -> Iterator[tuple[str, list[str]]]:
    """Run the node; yields its URL and the list of methods it was asked, in order."""
    seen: list[str] = []
    handler = type("Node", (_Handler,), {"answers": Answers(), "block_receipts": block_receipts,
                                          "calls_seen": seen})  # fmt: skip
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
