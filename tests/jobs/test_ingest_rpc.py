"""Live-node ingest against a real local HTTP JSON-RPC server replaying saved Core responses."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from chaintrail.errors import RemoteError
from chaintrail.jobs.ingest_rpc import ingest_from_node
from chaintrail.store import ChainStore

RPC = Path(__file__).resolve().parents[1] / "data" / "rpc"


def _node_data() -> tuple[list[str], dict[str, object]]:
    hashes, blocks = [], {}
    for h in (0, 1):
        doc = json.loads(next((RPC / f"block_{h}").glob("rpc_response_getblock_*")).read_text())
        doc = doc.get("result", doc)
        hashes.append(doc["hash"])
        blocks[doc["hash"]] = doc
    return hashes, blocks


class _Node(BaseHTTPRequestHandler):
    hashes: list[str] = []
    blocks: dict[str, object] = {}

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        calls = body if isinstance(body, list) else [body]
        out = []
        for c in calls:
            method, params = c["method"], c.get("params", [])
            if method == "getblockcount":
                result = len(self.hashes) - 1
            elif method == "getblockhash":
                result = self.hashes[params[0]]
            else:
                result = self.blocks[params[0]]
            out.append({"result": result, "error": None, "id": c.get("id")})
        data = json.dumps(out if isinstance(body, list) else out[0]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def node():  # type: ignore[no-untyped-def]
    _Node.hashes, _Node.blocks = _node_data()
    server = HTTPServer(("127.0.0.1", 0), _Node)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_live_node_ingest_then_resume_is_a_no_op(node: str, tmp_path: Path) -> None:
    store = ChainStore.open(tmp_path / "s", create=True)
    report = ingest_from_node(store, node, user="u", password="p")
    assert report.blocks_added == 2 and store.tip()["height"] == 1
    assert store.address("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa")["total_received"] == 5_000_000_000
    again = ingest_from_node(store, node, user="u", password="p")
    assert again.blocks_added == 0 and again.reorg_fork_height is None


def test_refusing_node_is_a_remote_error_and_store_untouched(tmp_path: Path) -> None:
    store = ChainStore.open(tmp_path / "s", create=True)
    before = sorted((p.name, p.stat().st_size) for p in (tmp_path / "s").rglob("*"))
    with pytest.raises(RemoteError) as err:
        ingest_from_node(store, "http://127.0.0.1:9", user="u", password="p")
    assert "127.0.0.1:9" in str(err.value) and "\n" not in str(err.value)
    assert sorted((p.name, p.stat().st_size) for p in (tmp_path / "s").rglob("*")) == before
