"""Bitcoin Core JSON-RPC: saved ``getblock <hash> 2`` documents and a live node client.

A verbose block is turned back into its exact serialisation — header from the JSON fields,
each transaction from its ``hex`` or, when ``hex`` is absent, re-serialised from version,
vin (coinbase/txid/vout/scriptSig/sequence/txinwitness), vout (value/scriptPubKey) and
locktime — and run through :func:`decode_blocks`. Then every JSON field is checked against
the decoded rows (block hash, sizes, weight, txid, wtxid, values, addresses), so a
mapping mistake or a tampered document is a :class:`ValidationError` naming file and field.
Amounts are parsed with ``Decimal`` from the JSON text, never float. Unknown keys fail: add
them to the parser or to an ``IGNORED_*`` table with a reason.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from chaintrail.chains.bitcoin import params
from chaintrail.chains.bitcoin.address import encode_address_keys
from chaintrail.chains.bitcoin.decode import concat_batches, decode_blocks
from chaintrail.chains.bitcoin.rpc_client import RpcClient
from chaintrail.chains.model import BlockBatch, hash_to_hex, hex_to_hash
from chaintrail.errors import DecodeError, InputError, UsageError, ValidationError

__all__ = [
    "RpcClient",
    "block_from_json",
    "blocks_from_json",
    "fetch_blocks",
    "fetch_raw_blocks",
    "load_rpc_json",
    "rpc_json_files",
]

_BLOCK_USED = {"hash", "height", "version", "versionHex", "merkleroot", "time", "nonce", "bits",
               "previousblockhash", "tx", "nTx", "size", "strippedsize", "weight"}  # fmt: skip
IGNORED_BLOCK_KEYS = {
    "confirmations": "depends on the node's current tip, not on the block",
    "nextblockhash": "depends on the node's current tip; chain order comes from prev hashes",
    "mediantime": "derived from the previous 11 blocks' times",
    "difficulty": "derived from bits",
    "chainwork": "cumulative over the chain; the store recomputes it from bits",
    "target": "derived from bits",
}
_TX_USED = {"txid", "hash", "version", "size", "vsize", "weight", "locktime", "vin", "vout", "hex"}
IGNORED_TX_KEYS = {
    "fee": "needs the spent outputs; the store computes fees from resolved inputs",
    "blockhash": "repeats the enclosing block's hash",
    "confirmations": "depends on the node's current tip",
    "time": "repeats the block time",
    "blocktime": "repeats the block time",
}
_VIN_USED = {"coinbase", "txid", "vout", "scriptSig", "txinwitness", "sequence"}
IGNORED_VIN_KEYS = {"prevout": "verbosity-3 copy of the spent output; the store resolves it"}
_VOUT_USED = {"value", "n", "scriptPubKey"}
_SPK_USED = {"hex", "address", "addresses", "type"}
IGNORED_SPK_KEYS = {
    "asm": "a disassembly of hex",
    "desc": "an output descriptor derived from hex",
    "reqSigs": "derived from the script (deprecated by Core)",
}
# Core "type" values whose address we compare with our own classification
_ADDRESS_TYPES = {"pubkey", "pubkeyhash", "scripthash", "witness_v0_keyhash",
                  "witness_v0_scripthash", "witness_v1_taproot"}  # fmt: skip


def _check_keys(obj: dict[str, Any], used: set[str], ignored: dict[str, str], what: str,
                source: str) -> None:  # fmt: skip
    unknown = sorted(set(obj) - used - set(ignored))
    if unknown:
        raise ValidationError(
            f"unknown {what} key(s) {unknown}: add them to the parser or to IGNORED_"
            f"{what.upper()}_KEYS in chaintrail/chains/bitcoin/rpc.py with a reason",
            source=source,
        )


def _compact(n: int) -> bytes:
    if n < 0xFD:
        return bytes([n])
    if n <= 0xFFFF:
        return b"\xfd" + n.to_bytes(2, "little")
    return b"\xfe" + n.to_bytes(4, "little")


def _pushbytes(hexstr: str) -> bytes:
    raw = bytes.fromhex(hexstr)
    return _compact(len(raw)) + raw


def satoshis(value: Any, source: str, field: str) -> int:
    """Integer satoshis of a JSON BTC amount (Decimal or int); ValidationError if not exact."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise ValidationError(f"expected a number, got {value!r}", source=source, field=field)
    sats = Decimal(value) * params.COIN
    if sats != sats.to_integral_value() or not 0 <= sats <= params.MAX_MONEY:
        raise ValidationError(f"{value} BTC is not a valid amount", source=source, field=field)
    return int(sats)


def _tx_bytes(tx: dict[str, Any], source: str, where: str) -> bytes:
    """Serialisation of one verbose transaction (its ``hex``, or rebuilt from the fields)."""
    _check_keys(tx, _TX_USED, IGNORED_TX_KEYS, "tx", source)
    if "hex" in tx:
        return bytes.fromhex(tx["hex"])
    vins, vouts = tx["vin"], tx["vout"]
    ins, witnesses = [], []
    for i, vin in enumerate(vins):
        _check_keys(vin, _VIN_USED, IGNORED_VIN_KEYS, "vin", source)
        if "coinbase" in vin:
            outpoint = bytes(32) + b"\xff\xff\xff\xff"
            script = _pushbytes(vin["coinbase"])
        else:
            outpoint = hex_to_hash(vin["txid"]) + int(vin["vout"]).to_bytes(4, "little")
            script = _pushbytes(vin["scriptSig"]["hex"])
        ins.append(outpoint + script + int(vin["sequence"]).to_bytes(4, "little"))
        stack = vin.get("txinwitness", [])
        witnesses.append(_compact(len(stack)) + b"".join(_pushbytes(h) for h in stack))
        if not isinstance(stack, list):
            raise ValidationError("expected a list", source=source, field=f"{where}.vin[{i}]")
    outs = []
    for k, vout in enumerate(vouts):
        _check_keys(vout, _VOUT_USED, {}, "vout", source)
        value = satoshis(vout["value"], source, f"{where}.vout[{k}].value")
        outs.append(value.to_bytes(8, "little") + _pushbytes(vout["scriptPubKey"]["hex"]))
    segwit = any(vin.get("txinwitness") for vin in vins)
    return b"".join(
        [
            int(tx["version"]).to_bytes(4, "little", signed=True),
            b"\x00\x01" if segwit else b"",
            _compact(len(ins)),
            *ins,
            _compact(len(outs)),
            *outs,
            *(witnesses if segwit else []),
            int(tx["locktime"]).to_bytes(4, "little"),
        ]
    )


def _header_bytes(doc: dict[str, Any]) -> bytes:
    prev = doc.get("previousblockhash")
    return b"".join(
        [
            int(doc["version"]).to_bytes(4, "little", signed=True),
            hex_to_hash(prev) if prev else bytes(32),
            hex_to_hash(doc["merkleroot"]),
            int(doc["time"]).to_bytes(4, "little"),
            bytes.fromhex(doc["bits"])[::-1],
            int(doc["nonce"]).to_bytes(4, "little"),
        ]
    )


def _expect(ok: bool, source: str, field: str, got: Any, want: Any) -> None:
    if not ok:
        raise ValidationError(f"JSON says {want!r}, the bytes give {got!r}", source=source, field=field)  # fmt: skip


def block_from_json(doc: dict[str, Any], source: str) -> BlockBatch:
    """One ``getblock <hash> 2`` result -> a one-block BlockBatch, every field cross-checked."""
    if not isinstance(doc, dict) or "tx" not in doc:
        raise DecodeError("not a getblock verbosity-2 result (no 'tx' list)", source=source)
    _check_keys(doc, _BLOCK_USED, IGNORED_BLOCK_KEYS, "block", source)
    try:
        txs = doc["tx"]
        if txs and not isinstance(txs[0], dict):
            raise DecodeError("'tx' holds txids only: fetch with verbosity 2", source=source)
        raw = b"".join(
            [_header_bytes(doc), _compact(len(txs))]
            + [_tx_bytes(tx, source, f"tx[{i}]") for i, tx in enumerate(txs)]
        )
        batch = decode_blocks([(raw, source, 0)])
    except KeyError as exc:
        raise ValidationError(f"missing key {exc.args[0]!r}", source=source) from exc
    except (ValueError, TypeError, AttributeError) as exc:
        raise ValidationError(f"malformed field: {exc}", source=source) from exc
    _cross_check(doc, batch, source)
    batch.block_height[0] = int(doc["height"])
    return batch


def _cross_check(doc: dict[str, Any], b: BlockBatch, source: str) -> None:
    _expect(hash_to_hex(b.block_hash[0]) == doc["hash"], source, "hash",
            hash_to_hex(b.block_hash[0]), doc["hash"])  # fmt: skip
    checks = {
        "size": int(b.block_size[0]),
        "weight": int(b.block_weight[0]),
        "strippedsize": (int(b.block_weight[0]) - int(b.block_size[0])) // 3,
        "nTx": b.n_txs,
        "versionHex": f"{int(b.block_version[0]) & 0xFFFFFFFF:08x}",
    }
    for key, got in checks.items():
        if key in doc:
            _expect(doc[key] == got, source, key, got, doc[key])
    addresses = encode_address_keys(b.out_addr_key)
    for t, tx in enumerate(doc["tx"]):
        where = f"tx[{t}]"
        tx_checks = {
            "txid": hash_to_hex(b.txid[t]),
            "hash": hash_to_hex(b.wtxid[t]),
            "size": int(b.tx_size[t]),
            "vsize": int(b.tx_vsize[t]),
            "weight": int(b.tx_weight[t]),
        }
        for key, got in tx_checks.items():
            if key in tx:
                _expect(tx[key] == got, source, f"{where}.{key}", got, tx[key])
        o0 = int(b.tx_out_start[t])
        for k, vout in enumerate(tx["vout"]):
            field = f"{where}.vout[{k}]"
            _expect(vout.get("n", k) == k, source, f"{field}.n", k, vout.get("n"))
            value = satoshis(vout["value"], source, f"{field}.value")
            _expect(value == int(b.out_value[o0 + k]), source, f"{field}.value",
                    int(b.out_value[o0 + k]), value)  # fmt: skip
            spk = vout["scriptPubKey"]
            _check_keys(spk, _SPK_USED, IGNORED_SPK_KEYS, "spk", source)
            shown = spk.get("address") or (spk.get("addresses") or [None])[0]
            if spk.get("type") in _ADDRESS_TYPES and shown is not None:
                _expect(addresses[o0 + k] == shown, source, f"{field}.scriptPubKey.address",
                        addresses[o0 + k], shown)  # fmt: skip


def blocks_from_json(docs: Iterable[tuple[dict[str, Any], str]]) -> BlockBatch:
    """Many ``(getblock result, source)`` pairs -> one BlockBatch ordered by height."""
    batches = [block_from_json(doc, src) for doc, src in docs]
    batches.sort(key=lambda bb: int(bb.block_height[0]))
    return concat_batches(batches)


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DecodeError(f"not readable JSON: {exc}", source=str(path)) from exc


def _unwrap(doc: Any, source: str) -> Any:
    """The ``result`` of a JSON-RPC envelope, or the document itself."""
    if isinstance(doc, dict) and "result" in doc and "id" in doc:
        if doc.get("error"):
            raise InputError(f"saved RPC error response: {doc['error']}", source=source)
        return doc["result"]
    return doc


def _is_getblock(doc: Any) -> bool:
    return isinstance(doc, dict) and "tx" in doc and "merkleroot" in doc


def rpc_json_files(path: str | Path) -> list[Path]:
    """The JSON files under ``path`` (itself if a file), sorted."""
    p = Path(path)
    if p.is_file():
        return [p]
    if not p.is_dir():
        raise InputError("no such file or directory", source=str(p))
    return sorted(p.rglob("*.json"))


def load_rpc_json(
    path: str | Path, on_skip: Callable[[Path, str], None] | None = None
) -> BlockBatch:
    """Blocks of saved getblock verbosity-2 documents (a file, a list, or a directory).

    In a directory, JSON files that are not getblock results (getblockhash answers, other
    exports) are skipped and reported through ``on_skip(path, reason)``; a single file that
    is not a getblock result is a DecodeError.
    """
    files = rpc_json_files(path)
    single = Path(path).is_file()
    docs: list[tuple[dict[str, Any], str]] = []
    for f in files:
        doc = _unwrap(_load_json(f), str(f))
        items = doc if isinstance(doc, list) else [doc]
        for i, item in enumerate(items):
            src = str(f) if len(items) == 1 else f"{f}[{i}]"
            item = _unwrap(item, src)
            if _is_getblock(item):
                docs.append((item, src))
            elif single:
                raise DecodeError("not a getblock verbosity-2 result", source=src)
            elif on_skip is not None:
                on_skip(f, "not a getblock verbosity-2 result")
    if not docs:
        raise InputError("no getblock verbosity-2 documents found", source=str(path))
    return blocks_from_json(docs)


def fetch_blocks(client: RpcClient, heights: Sequence[int], batch_size: int = 50) -> BlockBatch:
    """Blocks at ``heights`` from a live node (``getblockhash`` then ``getblock hash 2``,
    as JSON-RPC batches of ``batch_size``), checked like saved documents."""
    if batch_size < 1:
        raise UsageError(f"batch size must be >= 1, got {batch_size}")
    batches = []
    heights = [int(h) for h in heights]
    for i in range(0, len(heights), batch_size):
        chunk = heights[i : i + batch_size]
        hashes = client.batch([("getblockhash", [h]) for h in chunk])
        docs = client.batch([("getblock", [h, 2]) for h in hashes])
        for h, doc in zip(chunk, docs, strict=True):
            batches.append(block_from_json(doc, f"{client.url} getblock height {h}"))
    return concat_batches(batches)


def fetch_raw_blocks(client: RpcClient, heights: Sequence[int], batch_size: int = 50) -> BlockBatch:
    """Blocks at ``heights`` as Core serialises them (``getblockhash``, then ``getblock HASH 0``,
    in JSON-RPC batches), decoded and checked (merkle root, hash) like blk files."""
    if batch_size < 1:
        raise UsageError(f"batch size must be >= 1, got {batch_size}")
    blobs: list[tuple[bytes, str, int]] = []
    heights = [int(h) for h in heights]
    for i in range(0, len(heights), batch_size):
        chunk = heights[i : i + batch_size]
        hashes = client.batch([("getblockhash", [h]) for h in chunk])
        raws = client.batch([("getblock", [h, 0]) for h in hashes])
        for h, want, raw in zip(chunk, hashes, raws, strict=True):
            src = f"{client.url} getblock height {h}"
            try:
                data = bytes.fromhex(raw)
            except (TypeError, ValueError) as exc:
                raise DecodeError("getblock verbosity 0 did not answer hex", source=src) from exc
            blobs.append((data, src, 0))
            if len(data) < 80 or hash_to_hex(_sha256d(data[:80])) != want:
                raise ValidationError(f"the block's header does not hash to {want}", source=src)
    batch = decode_blocks(blobs)
    batch.block_height[:] = np.asarray(heights, np.int32)
    return batch


def _sha256d(data: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()
