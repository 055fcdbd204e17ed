"""A simulated Bitcoin Core node: the simulator's blocks served block by block over JSON-RPC,
with staged reorgs, a mempool and a ZMQ publisher.

No Bitcoin Core binary runs here, so ``chaintrail follow`` is tested (and ``make demo`` shows
its live scene) against this node. It answers the documented Core RPC shapes the follower and
ingest use (``getblockchaininfo``, ``getbestblockhash``, ``getblockcount``, ``getblockhash``,
``getblock`` verbosity 0/1/2, ``getrawmempool``, ``getrawtransaction``), with Core's error
objects (``-8`` height out of range, ``-5`` unknown block or tx) and HTTP Basic auth, and
publishes ``hashblock`` and ``rawtx`` multipart messages (topic, body, 4-byte sequence) like
``-zmqpubhashblock``/``-zmqpubrawtx``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import struct
import threading
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from chaintrail.chains.bitcoin.address import encode_address_keys
from chaintrail.chains.bitcoin.blkfiles import (
    list_blk_files,
    load_xor_key,
    read_block_bytes,
    scan_blk_file,
)
from chaintrail.chains.bitcoin.decode import decode_block
from chaintrail.chains.bitcoin.rawtx import spent_outpoints
from chaintrail.chains.model import ScriptType, hash_to_hex

CORE_TYPES = {ScriptType.P2PK: "pubkey", ScriptType.P2PKH: "pubkeyhash", ScriptType.P2SH: "scripthash",
              ScriptType.P2WPKH: "witness_v0_keyhash", ScriptType.P2WSH: "witness_v0_scripthash",
              ScriptType.P2TR: "witness_v1_taproot", ScriptType.MULTISIG: "multisig",
              ScriptType.NULLDATA: "nulldata", ScriptType.WITNESS_UNKNOWN: "witness_unknown"}  # fmt: skip
_SATS = re.compile(r'"__sats_(\d+)__"')


def sha256d(data: bytes) -> bytes:
    """Double SHA-256."""
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def read_blk_dir(path: Any) -> list[bytes]:
    """Every block of a blk-file directory, in file order (the simulator writes chain order)."""
    xor = load_xor_key(path)
    return [read_block_bytes(ref, xor) for f in list_blk_files(path) for ref in scan_blk_file(f, xor)]


def coinbase_only_block(prev_hash: bytes, height: int, time_: int, tag: int) -> bytes:
    """A block of one coinbase (BIP34 height, ``tag`` in its script) on ``prev_hash``, mined at
    regtest difficulty (``bits 0x207fffff``): what a staged competing branch is made of."""
    h = height.to_bytes((height.bit_length() + 8) // 8 or 1, "little")
    script = bytes([len(h)]) + h + b"\x04" + struct.pack("<I", tag)
    pay = b"\x00\x14" + hashlib.sha256(struct.pack("<II", height, tag)).digest()[:20]
    tx = (struct.pack("<i", 2) + b"\x01" + b"\0" * 32 + b"\xff" * 4 + bytes([len(script)]) + script
          + b"\xff" * 4 + b"\x01" + struct.pack("<q", 50 * 10**8) + bytes([len(pay)]) + pay + b"\0" * 4)  # fmt: skip
    merkle = sha256d(tx)
    for nonce in range(1 << 20):
        header = struct.pack("<i", 0x20000000) + prev_hash + merkle + struct.pack("<III", time_, 0x207FFFFF, nonce)  # fmt: skip
        if int.from_bytes(sha256d(header)[::-1], "big") < 0x7FFFFF << (8 * (0x20 - 3)):
            return header + b"\x01" + tx
    raise RuntimeError("no nonce found")  # pragma: no cover - ~2 tries expected


class SimNode:
    """The node's state: its best chain, every block it ever served, and its mempool."""

    def __init__(self, blocks: Sequence[bytes], *, tip: int, network: str = "main",
                 user: str = "sim", password: str = "sim", zmq: bool = False) -> None:  # fmt: skip
        self.reserve = list(blocks)  # the whole simulated chain, in order
        self.chain: list[bytes] = list(blocks[: tip + 1])
        self.known: dict[str, bytes] = {hash_to_hex(sha256d(b[:80])): b for b in self.reserve}
        self.mempool: dict[str, bytes] = {}
        self.network = network
        self.auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.lock = threading.Lock()
        self.calls: list[dict[str, Any]] = []  # every request, for tests of request shapes
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self._pub: Any = None
        self._seq: dict[bytes, int] = {}
        self.zmq_url: str | None = None
        if zmq:
            import zmq as zmq_  # optional heavy dependency: only a node with a publisher needs it

            self._pub = zmq_.Context.instance().socket(zmq_.PUB)
            port = self._pub.bind_to_random_port("tcp://127.0.0.1")
            self.zmq_url = f"tcp://127.0.0.1:{port}"

    @property
    def url(self) -> str:
        """The RPC URL (credentials are passed separately)."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    @property
    def height(self) -> int:
        """Height of the best chain's tip."""
        return len(self.chain) - 1

    def best_hash(self) -> str:
        """Display hex of the tip."""
        return hash_to_hex(sha256d(self.chain[-1][:80]))

    # ------------------------------------------------------------------ staging
    def _publish(self, topic: bytes, body: bytes) -> None:
        if self._pub is None:
            return
        seq = self._seq.get(topic, 0)
        self._seq[topic] = seq + 1
        self._pub.send_multipart([topic, body, struct.pack("<I", seq)])

    def advance(self, n: int = 1) -> list[str]:
        """Mine the next ``n`` blocks of the simulated chain; their txs leave the mempool."""
        hashes = []
        with self.lock:
            for _ in range(n):
                nxt = self.reserve[len(self.chain)]
                prev = nxt[4:36]
                if prev != sha256d(self.chain[-1][:80]):
                    raise RuntimeError("the simulated chain does not continue this tip (undo the reorg first)")
                self.chain.append(nxt)
                h = hash_to_hex(sha256d(nxt[:80]))
                hashes.append(h)
                batch = decode_block(nxt)
                for t in range(batch.n_txs):
                    self.mempool.pop(hash_to_hex(batch.txid[t]), None)
        for h in hashes:
            self._publish(b"hashblock", bytes.fromhex(h))
        return hashes

    def reorg(self, depth: int, length: int, tag: int = 1) -> list[str]:
        """Replace the top ``depth`` blocks by ``length`` coinbase-only blocks (``length >
        depth`` makes them the chain with the most work)."""
        with self.lock:
            base = self.chain[: len(self.chain) - depth]
            t0 = struct.unpack_from("<I", base[-1], 68)[0]
            branch: list[bytes] = []
            for i in range(length):
                prev = sha256d((branch[-1] if branch else base[-1])[:80])
                branch.append(coinbase_only_block(prev, len(base) + i, t0 + 600 * (i + 1), tag * 1000 + i))
            self.chain = base + branch
            for b in branch:
                self.known[hash_to_hex(sha256d(b[:80]))] = b
        self._publish(b"hashblock", bytes.fromhex(self.best_hash()))
        return [hash_to_hex(sha256d(b[:80])) for b in branch]

    def restore(self, height: int) -> None:
        """Go back to the simulated chain up to ``height`` (which must out-work the branch)."""
        with self.lock:
            self.chain = list(self.reserve[: height + 1])
        self._publish(b"hashblock", bytes.fromhex(self.best_hash()))

    def add_to_mempool(self, raw: bytes) -> str:
        """Accept an unconfirmed transaction (published as ``rawtx``); returns its txid."""
        txid, _ = spent_outpoints(raw)
        with self.lock:
            self.mempool[txid] = raw
        self._publish(b"rawtx", raw)
        return txid

    def close(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()
        if self._pub is not None:
            self._pub.close(linger=0)

    # ------------------------------------------------------------------ RPC
    def _block_json(self, raw: bytes, height: int, verbosity: int) -> dict[str, Any]:
        b = decode_block(raw)
        names = encode_address_keys(b.out_addr_key)
        doc: dict[str, Any] = {
            "hash": hash_to_hex(b.block_hash[0]), "confirmations": self.height - height + 1, "height": height,
            "version": int(b.block_version[0]), "versionHex": f"{int(b.block_version[0]) & 0xFFFFFFFF:08x}",
            "merkleroot": hash_to_hex(b.block_merkle_root[0]), "time": int(b.block_time[0]),
            "nonce": int(b.block_nonce[0]), "bits": f"{int(b.block_bits[0]):08x}", "nTx": b.n_txs,
            "size": int(b.block_size[0]), "strippedsize": (int(b.block_weight[0]) - int(b.block_size[0])) // 3,
            "weight": int(b.block_weight[0]),
        }  # fmt: skip
        if height > 0:
            doc["previousblockhash"] = hash_to_hex(b.block_prev_hash[0])
        if verbosity == 1:
            doc["tx"] = [hash_to_hex(t) for t in b.txid]
            return doc
        txs, pos = [], 80 + _varint_len(raw, 80)
        for t in range(b.n_txs):
            size = int(b.tx_size[t])
            o0 = int(b.tx_out_start[t])
            vin = [{"coinbase": "", "sequence": int(b.in_sequence[int(b.tx_in_start[t])])}] if b.tx_coinbase[t] else [
                {"txid": hash_to_hex(b.in_prev_txid[j]), "vout": int(b.in_prev_vout[j]), "sequence": int(b.in_sequence[j])}
                for j in range(int(b.tx_in_start[t]), int(b.tx_in_start[t] + b.tx_n_in[t]))]  # fmt: skip
            vout = []
            for k in range(o0, o0 + int(b.tx_n_out[t])):
                st = ScriptType(int(b.out_script_type[k]))
                spk: dict[str, Any] = {"type": CORE_TYPES.get(st, "nonstandard")}
                if names[k] and st != ScriptType.P2PK:
                    spk["address"] = names[k]
                vout.append({"value": f"__sats_{int(b.out_value[k])}__", "n": k - o0, "scriptPubKey": spk})
            txs.append({"txid": hash_to_hex(b.txid[t]), "hash": hash_to_hex(b.wtxid[t]),
                        "version": int(b.tx_version[t]), "size": size, "vsize": int(b.tx_vsize[t]),
                        "weight": int(b.tx_weight[t]), "locktime": int(b.tx_locktime[t]), "vin": vin,
                        "vout": vout, "hex": raw[pos : pos + size].hex()})  # fmt: skip
            pos += size
        doc["tx"] = txs
        return doc

    def answer(self, method: str, params: list[Any]) -> Any:
        """The result of one call, or raise :class:`RpcFault` as Core would."""
        with self.lock:
            if method == "getblockchaininfo":
                return {"chain": self.network, "blocks": self.height, "headers": self.height,
                        "bestblockhash": self.best_hash(), "initialblockdownload": False}  # fmt: skip
            if method == "getbestblockhash":
                return self.best_hash()
            if method == "getblockcount":
                return self.height
            if method == "getblockhash":
                h = int(params[0])
                if not 0 <= h <= self.height:
                    raise RpcFault(-8, "Block height out of range")
                return hash_to_hex(sha256d(self.chain[h][:80]))
            if method == "getblock":
                raw = self.known.get(str(params[0]))
                if raw is None:
                    raise RpcFault(-5, "Block not found")
                verbosity = int(params[1]) if len(params) > 1 else 1
                if verbosity == 0:
                    return raw.hex()
                heights = {sha256d(b[:80]): i for i, b in enumerate(self.chain)}
                return self._block_json(raw, heights.get(sha256d(raw[:80]), -1), verbosity)
            if method == "getrawmempool":
                return list(self.mempool)
            if method == "getrawtransaction":
                raw = self.mempool.get(str(params[0]))
                if raw is None:
                    raise RpcFault(-5, "No such mempool or blockchain transaction. Use gettransaction for wallet transactions.")  # fmt: skip
                return raw.hex()
        raise RpcFault(-32601, "Method not found")


class RpcFault(Exception):
    """A Core RPC error object."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _varint_len(raw: bytes, pos: int) -> int:
    return {0xFD: 3, 0xFE: 5, 0xFF: 9}.get(raw[pos], 1)


def _handler(node: SimNode) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            if self.headers.get("Authorization") != node.auth:
                self.send_response(401)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            calls = body if isinstance(body, list) else [body]
            replies = []
            for c in calls:
                node.calls.append(c)
                try:
                    replies.append({"result": node.answer(c["method"], list(c.get("params", []))), "error": None, "id": c.get("id")})  # fmt: skip
                except RpcFault as f:
                    replies.append({"result": None, "error": {"code": f.code, "message": f.message}, "id": c.get("id")})  # fmt: skip
            text = json.dumps(replies if isinstance(body, list) else replies[0])
            data = _SATS.sub(lambda m: f"{int(m.group(1)) // 10**8}.{int(m.group(1)) % 10**8:08d}", text).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler
