"""The live client against a real local JSON-RPC server: same rows as the saved answers."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from chaintrail.chains.ethereum import etl_rows as er
from chaintrail.chains.ethereum.etl import load_etl
from chaintrail.chains.ethereum.rpc_client import (
    EthRpcClient,
    fetch_blocks,
    fetch_tokens,
    fetch_traces,
)
from chaintrail.chains.ethereum.rpc_files import load_rpc_json
from chaintrail.errors import RemoteError, UsageError

from .conftest import (
    BLOCKS_JOB,
    ETL,
    GETH,
    PARITY,
    RECEIPTS_483920,
    STREAM,
    TRACE_CASES,
    as_csv,
    csv_rows,
)
from .rpcnode import rpc_node

RENDER = (er.block_rows, er.transaction_rows, er.receipt_rows, er.log_rows, er.token_transfer_rows)


def test_fetched_blocks_equal_the_saved_answers_and_the_etl_export() -> None:
    with rpc_node() as (url, seen), EthRpcClient(url) as client:
        assert client.block_number() == 17173050
        live = fetch_blocks(client, [17173050, 17173049], batch_size=1)
        old = fetch_blocks(client, [483920])
        early = fetch_blocks(client, [47218, 47219], receipts=False)
    assert seen.count("eth_getBlockReceipts") == 3 and "eth_getTransactionReceipt" not in seen
    etl = load_etl(STREAM)
    saved = load_rpc_json([BLOCKS_JOB / "block_with_logs", RECEIPTS_483920])
    saved_early = load_rpc_json(BLOCKS_JOB / "blocks_with_transactions")
    for render in RENDER:
        assert render(live) == render(etl), render.__name__
        assert render(old) == render(saved), render.__name__
        assert render(early) == render(saved_early), render.__name__
    assert len(er.token_transfer_rows(live)) == 291


def test_a_node_without_eth_getBlockReceipts_is_asked_per_transaction() -> None:
    with rpc_node(block_receipts=False) as (url, seen), EthRpcClient(url) as client:
        b = fetch_blocks(client, [483920])
    assert seen.count("eth_getTransactionReceipt") == 4
    assert er.receipt_rows(b) == er.receipt_rows(load_rpc_json([BLOCKS_JOB / "block_with_logs", RECEIPTS_483920]))


@pytest.mark.parametrize("source", ["parity", "geth"])
def test_fetched_traces_equal_the_saved_answers(source: str) -> None:
    numbers = [1000000, 1000690, 1000895, 1011973]
    with rpc_node() as (url, _), EthRpcClient(url) as client:
        b = fetch_traces(client, numbers, source, batch_size=3)  # type: ignore[arg-type]
    root = PARITY if source == "parity" else GETH
    saved = load_rpc_json([f for c in TRACE_CASES for f in (root / c).glob("web3_response.*.json")])
    assert er.trace_rows(b) == er.trace_rows(saved)
    assert len(er.trace_rows(b)) == (13 if source == "parity" else 9)


def test_token_metadata_by_eth_call() -> None:
    with rpc_node() as (url, _), EthRpcClient(url) as client:
        b = fetch_tokens(client, ["0x86fa049857e0209aa7d9e616f7eb3b3b78ecfdb0",
                                  "0xf763be8b3263c268e9789abfb3934564a7b80054",
                                  "0x0000000000000000000000000000000000000001"])  # fmt: skip
    rows = as_csv(er.token_rows(b))
    for row, case in zip(rows, ("token_with_alternative_return_type", "token_with_invalid_data"), strict=False):
        assert row == csv_rows(ETL / "test_export_tokens_job" / case / "expected_tokens.csv")[0]
    assert rows[2]["symbol"] == rows[2]["decimals"] == ""  # reverted getters: unknown, not guessed


def test_node_failures_are_one_line_errors() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with EthRpcClient(f"http://127.0.0.1:{port}") as client, pytest.raises(RemoteError, match="cannot connect"):
        fetch_blocks(client, [1])
    with rpc_node() as (url, _), EthRpcClient(url) as client:
        with pytest.raises(RemoteError, match="block 99999999 not found"):
            fetch_blocks(client, [99999999])
        with pytest.raises(RemoteError, match="eth_getBlockReceipts failed: RPC error -32000: receipts not available"):
            fetch_blocks(client, [47218])
        with pytest.raises(RemoteError, match="parity_listStorageKeys failed: RPC error -32601"):
            client.batch([("eth_blockNumber", []), ("parity_listStorageKeys", [])])
        with pytest.raises(UsageError, match="batch size"):
            fetch_blocks(client, [1], batch_size=0)


class _Broken(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802
        body = b"<html>502 Bad Gateway</html>"
        self.send_response(502)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_a_proxy_error_page_is_named() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Broken)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with EthRpcClient(f"http://127.0.0.1:{server.server_address[1]}") as client:
            with pytest.raises(RemoteError, match="HTTP 502, answer is not JSON-RPC: '<html>502"):
                fetch_blocks(client, [1])
    finally:
        server.shutdown()
        server.server_close()
