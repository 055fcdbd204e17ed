"""Saved JSON-RPC answers on disk -> :class:`BlockAnswers` per block -> one :class:`EthBatch`.

A file may hold a JSON-RPC envelope (``{"jsonrpc", "id", "result"}``), a batch reply (a list
of envelopes) or a bare result. What each result is comes from its content, not its name:
a block (has ``transactions``), a receipt or a list of them (``cumulativeGasUsed``), Parity
traces (``action``) or geth callTracer traces (``result``/``txHash`` per tx). Receipts and
traces are attached to their block by the block hash they carry; geth traces of nodes before
``txHash`` was added carry nothing, so their block number is read from the file name
(``..._0xf4240_...``, the naming of ethereum-etl's recorded answers) or the error says so.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from chaintrail.chains.ethereum import rpc_fields as f
from chaintrail.chains.ethereum.batch import EthBatch
from chaintrail.chains.ethereum.files import Paths, as_list, input_files
from chaintrail.chains.ethereum.rpc import BlockAnswers, batch_from_answers
from chaintrail.errors import DecodeError, InputError, ValidationError


class _Probe(msgspec.Struct):
    """Just enough of an object to tell what it is."""

    jsonrpc: msgspec.Raw = None  # type: ignore[assignment]
    id: msgspec.Raw = None  # type: ignore[assignment]
    result: msgspec.Raw = None  # type: ignore[assignment]
    error: msgspec.Raw = None  # type: ignore[assignment]
    transactions: msgspec.Raw = None  # type: ignore[assignment]
    cumulativeGasUsed: msgspec.Raw = None  # type: ignore[assignment]  # noqa: N815
    action: msgspec.Raw = None  # type: ignore[assignment]
    txHash: msgspec.Raw = None  # type: ignore[assignment]  # noqa: N815


_PROBE: msgspec.json.Decoder[Any] = msgspec.json.Decoder(_Probe | list[_Probe] | None)
_DECODERS: dict[str, msgspec.json.Decoder[Any]] = {
    "block": msgspec.json.Decoder(f.Block),
    "receipt": msgspec.json.Decoder(f.Receipt),
    "receipts": msgspec.json.Decoder(list[f.Receipt]),  # type: ignore[valid-type]
    "parity": msgspec.json.Decoder(list[f.ParityTrace]),  # type: ignore[valid-type]
    "geth": msgspec.json.Decoder(list[f.GethTxTrace]),
}
_UNKNOWN = re.compile(r"Object contains unknown field `(\w+)`(?: - at `\$(.*)`)?")
_TABLES = {"block": "IGNORED_BLOCK_FIELDS", "receipt": "IGNORED_RECEIPT_FIELDS",
           "receipts": "IGNORED_RECEIPT_FIELDS", "parity": "IGNORED_PARITY_TRACE_FIELDS",
           "geth": "IGNORED_GETH_FRAME_FIELDS"}  # fmt: skip
_BLOCK_IN_NAME = re.compile(r"_(0x[0-9a-fA-F]+)(?:_|\.json$)")


def decode_error(exc: msgspec.DecodeError, kind: str, source: str) -> InputError:
    """A msgspec error as one line naming where (JSON path) and how to fix it."""
    m = _UNKNOWN.match(str(exc))
    if m:
        name, path = m.group(1), m.group(2) or ""
        table = _TABLES[kind]
        if ".transactions[" in path and ".logs" not in path:
            table = "IGNORED_TX_FIELDS"
        elif "logs[" in path:
            table = "IGNORED_LOG_FIELDS"
        return ValidationError(
            f"unknown field {name!r} at {path or 'top level'}: add it to the parser or to {table} "
            "in chaintrail/chains/ethereum/rpc_fields.py with a reason",
            source=source,
        )
    msg = str(exc).replace(" - at `$", " at `")
    if kind == "block" and "got `str` at `.transactions[" in msg:
        return ValidationError("transactions are hashes only: save eth_getBlockByNumber with true "
                               "(full transactions)", source=source)  # fmt: skip
    return ValidationError(f"not a valid {kind} answer: {msg}", source=source)


def decode_result(raw: bytes, kind: str, source: str) -> Any:
    """Decode one result of a known kind into the :mod:`.rpc_fields` structs."""
    try:
        return _DECODERS[kind].decode(raw)
    except msgspec.DecodeError as exc:
        raise decode_error(exc, kind, source) from None


def _kind(p: Any, source: str) -> str | None:
    item = p[0] if isinstance(p, list) and p else p
    if isinstance(p, list) and not p:
        return None
    if not isinstance(item, _Probe):
        raise DecodeError("not a JSON-RPC block, receipt or trace answer", source=source)
    if item.transactions is not None:
        if isinstance(p, list):
            raise DecodeError("a list of blocks: save one block per answer", source=source)
        return "block"
    if item.cumulativeGasUsed is not None:
        return "receipts" if isinstance(p, list) else "receipt"
    if item.action is not None:
        return "parity"
    if isinstance(p, list) and (item.result is not None or item.txHash is not None or item.error is not None):
        return "geth"
    raise DecodeError("not a JSON-RPC block, receipt or trace answer", source=source)


def _results(raw: bytes, source: str) -> list[tuple[bytes, str]]:
    """The results in one file: ``[(result JSON, source)]`` (envelopes unwrapped)."""
    try:
        top = _PROBE.decode(raw)
    except msgspec.DecodeError as exc:
        raise DecodeError(f"not readable JSON: {exc}", source=source) from None
    envelopes = None
    if isinstance(top, _Probe) and (top.jsonrpc or top.id or top.error or top.result):
        envelopes = [top]
    if isinstance(top, list) and top and all(p.jsonrpc is not None for p in top):
        envelopes = top
    if envelopes is None:
        return [(raw, source)]
    out = []
    for i, env in enumerate(envelopes):
        src = source if len(envelopes) == 1 else f"{source}[{i}]"
        if env.error is not None and bytes(env.error) != b"null":
            raise InputError(f"saved RPC error answer: {bytes(env.error).decode()[:200]}", source=src)
        if env.result is None or bytes(env.result) == b"null":
            raise InputError("saved RPC answer has no result (block not found?)", source=src)
        out.append((bytes(env.result), src))
    return out


def load_rpc_json(paths: Paths,
                  on_skip: Callable[[Path, str], None] | None = None) -> EthBatch:  # fmt: skip
    """Blocks with their receipts and traces from saved answers (files and/or directories).

    Empty trace lists (a block without transactions) are skipped; a JSON file that is none of
    the answers above is reported through ``on_skip(path, reason)`` when found in a directory
    and is an error when it was named itself.
    """
    files = input_files(paths, (".json",))
    named = set(as_list(paths))
    blocks: dict[str, BlockAnswers] = {}
    attach: list[tuple[str, Any, str, Path]] = []
    empty_answers = 0
    for file in files:
        try:
            raw = file.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror}", source=str(file)) from exc
        try:
            results = [(r, src, _kind(_PROBE.decode(r), src)) for r, src in _results(raw, str(file))]
        except DecodeError:
            if file in named:
                raise
            if on_skip is not None:
                on_skip(file, "not a block, receipt or trace answer")
            continue
        for result, src, kind in results:
            if kind is None:  # an empty list: traces or receipts of a block without txs
                empty_answers += 1
                continue
            obj = decode_result(result, kind, src)
            if kind == "block":
                if obj.hash in blocks:
                    raise ValidationError(f"block {obj.hash} given twice (also {blocks[obj.hash].source})", source=src)
                blocks[obj.hash] = BlockAnswers(obj, src)
            else:
                attach.append((kind, obj, src, file))
    if not blocks and not attach and not empty_answers:
        raise InputError("no eth_getBlockByNumber, receipt or trace answers found",
                         source=", ".join(map(str, named)))
    by_number = {int(a.block.number, 16): a for a in blocks.values()}
    tx_block = {t.hash: a for a in blocks.values() for t in a.block.transactions}
    for kind, obj, src, file in attach:
        _attach(kind, obj, src, file, blocks, by_number, tx_block)
    return batch_from_answers(list(by_number.values()))


def _attach(kind: str, obj: Any, src: str, file: Path, blocks: dict[str, BlockAnswers],
            by_number: dict[int, BlockAnswers], tx_block: dict[str, BlockAnswers]) -> None:  # fmt: skip
    if kind in ("receipt", "receipts"):
        for r in obj if kind == "receipts" else [obj]:
            a = blocks.get(r.blockHash) or tx_block.get(r.transactionHash)
            if a is None:
                raise ValidationError(f"receipt of {r.transactionHash}: its block is not among the blocks given", source=src)
            a.receipts = (a.receipts or []) + [r]
        return
    if kind == "parity":
        first = obj[0]
        a = blocks.get(first.blockHash) or by_number.get(first.blockNumber)
        if a is None:  # traces alone, as ethereum-etl exports them
            if first.blockNumber is None:
                raise ValidationError("Parity traces without blockNumber or a known blockHash", source=src)
            a = by_number[first.blockNumber] = BlockAnswers(None, src, number=first.blockNumber)
        a.parity_traces = (a.parity_traces or []) + obj
        return
    a = tx_block.get(obj[0].txHash) if obj[0].txHash else None
    if a is None:
        m = _BLOCK_IN_NAME.search(file.name)
        if m is None:
            raise ValidationError("geth traces whose block is unknown (no txHash of a given block): put "
                                  "the block number in the file name (..._0x<hex>_...)", source=src)  # fmt: skip
        number = int(m.group(1), 16)
        a = by_number.get(number)
        if a is None:
            a = by_number[number] = BlockAnswers(None, src, number=number)
    a.geth_traces = obj
