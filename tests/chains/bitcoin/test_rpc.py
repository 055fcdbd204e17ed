"""RPC JSON -> BlockBatch equals the raw bytes; the live client against a real HTTP server."""

from __future__ import annotations

import copy
import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from chaintrail.chains.bitcoin.blkfiles import read_blocks, scan_blk_file
from chaintrail.chains.bitcoin.decode import decode_blocks, slice_batch
from chaintrail.chains.bitcoin.rpc import (
    RpcClient,
    block_from_json,
    fetch_blocks,
    load_rpc_json,
)
from chaintrail.chains.bitcoin.rpc_client import RpcClient as _Client
from chaintrail.chains.model import hash_to_hex
from chaintrail.errors import DecodeError, RemoteError, ValidationError

from .conftest import BLK_0_438, RPC

ROW_FIELDS = ["block_hash", "block_prev_hash", "block_merkle_root", "block_version",
              "block_time", "block_bits", "block_nonce", "block_size", "block_weight",
              "block_tx_start", "block_n_tx", "txid", "wtxid", "tx_block", "tx_version",
              "tx_locktime", "tx_size", "tx_vsize", "tx_weight", "tx_coinbase", "tx_segwit",
              "tx_in_start", "tx_n_in", "tx_out_start", "tx_n_out", "in_tx", "in_prev_txid",
              "in_prev_vout", "in_sequence", "in_witness", "out_tx", "out_value",
              "out_script_type", "out_addr_key", "out_script_off", "out_script_len",
              "out_script_buf"]  # fmt: skip


def _doc(name: str) -> tuple[dict, str]:
    path = next((RPC / name).glob("rpc_response_getblock_*"))
    return json.loads(path.read_text(), parse_float=Decimal), str(path)


def test_json_of_blocks_0_and_1_equals_the_raw_bytes() -> None:
    from_json = load_rpc_json(RPC, on_skip=lambda p, r: None)
    assert from_json.n_blocks == 3 and list(from_json.block_height) == [0, 1, 50000]
    first_two = slice_batch(from_json, 0, 2)
    raw = decode_blocks(read_blocks(scan_blk_file(BLK_0_438)[:2]))
    for name in ROW_FIELDS:
        assert np.array_equal(getattr(first_two, name), getattr(raw, name)), name


def test_block_with_hex_cross_checks_the_json_fields() -> None:
    doc, src = _doc("block_without_transactions")
    b = block_from_json(doc, src)
    assert hash_to_hex(b.block_hash[0]) == doc["hash"] and b.block_height[0] == 50000
    assert int(b.out_value[0]) == 5_000_000_000


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["tx"][0]["vout"][0].__setitem__("value", Decimal("50.00000001")),
         r"tx\[0\]\.vout\[0\]\.value"),
        (lambda d: d["tx"][0].__setitem__("txid", "00" * 32), r"tx\[0\]\.txid"),
        (lambda d: d.__setitem__("nonce", d["nonce"] + 1), "'hash'"),
        (lambda d: d.__setitem__("newfield", 1), "unknown block key.*newfield.*IGNORED_BLOCK_KEYS"),
        (lambda d: d["tx"][0]["vout"][0].__setitem__("value", 50.0), "expected a number"),
        (lambda d: d["tx"][0]["vout"][0]["scriptPubKey"].__setitem__(
            "addresses", ["12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S"]), "address"),
    ],
)  # fmt: skip
def test_tampered_json_is_caught(edit, message: str) -> None:
    for name in ("block_0", "block_without_transactions"):
        doc, src = _doc(name)
        doc = copy.deepcopy(doc)
        edit(doc)
        with pytest.raises(ValidationError, match=message) as err:
            block_from_json(doc, src)
        assert src in str(err.value)


def test_not_a_getblock_file() -> None:
    path = next((RPC / "block_0").glob("rpc_response_getblockhash_*"))
    with pytest.raises(DecodeError, match="not a getblock"):
        load_rpc_json(path)


# ------------------------------------------------------------------ live client


class _Node(BaseHTTPRequestHandler):
    """Replays the recorded getblockhash/getblock responses like bitcoind does."""

    hashes: dict[int, str] = {}
    blocks: dict[str, str] = {}
    auth = "Basic dXNlcjpwYXNz"  # user:pass

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.headers.get("Authorization") != self.auth:
            self.send_response(401)
            self.end_headers()
            return
        replies = [self._answer(req) for req in (body if isinstance(body, list) else [body])]
        out = ("[" + ",".join(replies) + "]" if isinstance(body, list) else replies[0]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def _answer(self, req: dict) -> str:
        rid, method, params = req["id"], req["method"], req["params"]
        result = None
        if method == "getblockcount":
            result = str(max(self.hashes))
        elif method == "getblockhash" and params[0] in self.hashes:
            result = json.dumps(self.hashes[params[0]])
        elif method == "getblock" and params[0] in self.blocks:
            result = self.blocks[params[0]]  # the recorded text, numbers untouched
        if result is None:
            err = {"code": -8, "message": "Block height out of range"}
            return json.dumps({"result": None, "error": err, "id": rid})
        return f'{{"result": {result}, "error": null, "id": {rid}}}'

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def node():
    for d in RPC.iterdir():
        block_hash = json.loads(next(d.glob("rpc_response_getblockhash_*")).read_text())
        doc = next(d.glob("rpc_response_getblock_*")).read_text()
        _Node.hashes[json.loads(doc)["height"]] = block_hash
        _Node.blocks[block_hash] = doc
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Node)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_live_node_batches_match_saved_documents(node: str) -> None:
    with RpcClient(node, user="user", password="pass") as client:
        assert client.getblockcount() == 50000
        live = fetch_blocks(client, [0, 1, 50000], batch_size=2)
    saved = load_rpc_json(RPC, on_skip=lambda p, r: None)
    for name in ROW_FIELDS:
        assert np.array_equal(getattr(live, name), getattr(saved, name)), name
    assert live.source[0] == f"{node} getblock height 0"


def test_live_node_errors_are_one_line_remote_errors(node: str, tmp_path: Path) -> None:
    with RpcClient(node, user="user", password="wrong") as client:
        with pytest.raises(RemoteError, match="HTTP 401"):
            client.getblockcount()
    cookie = tmp_path / ".cookie"
    cookie.write_text("user:pass")
    with _Client(node, cookie_file=cookie) as client:
        with pytest.raises(RemoteError, match="RPC error -8: Block height out of range") as err:
            fetch_blocks(client, [7])
        assert node in str(err.value) and "\n" not in str(err.value)
    with _Client("http://127.0.0.1:9/", user="u", password="p", timeout=2) as client:
        with pytest.raises(RemoteError, match="cannot connect"):
            client.getblockcount()
