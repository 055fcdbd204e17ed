"""Ethereum decode throughput: saved JSON-RPC answers and ethereum-etl exports -> EthBatch.

    python bench/bench_eth_decode.py [--copies 100] [--repeat 3]

Input: the real blocks 17173049-17173050 (298 txs, 681 logs, 291 token transfers, 32
withdrawals) from tests/data/eth, repeated ``--copies`` times as distinct blocks (block numbers
shifted, transaction hashes rewritten consistently in every file) so one batch holds
~30k transactions. RPC path: ``eth_getBlockByNumber`` + ``eth_getBlockReceipts`` bytes ->
decode -> columns -> checks -> token transfers. etl path: blocks/transactions/logs JSON lines
and the same as CSV -> EthBatch. Baselines in the same run: ``json.loads`` (and orjson,
msgspec untyped) of the same bytes, which only parse. Traces are timed separately on the
Parity ``trace_block`` fixtures (old blocks: few traces), as trace rows per second.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import msgspec

from chaintrail.chains.ethereum.etl import load_etl
from chaintrail.chains.ethereum.rpc import BlockAnswers, batch_from_answers
from chaintrail.chains.ethereum.rpc_files import decode_result

ROOT = Path(__file__).resolve().parents[1]
ETH = ROOT / "tests" / "data" / "eth"
RPC = ETH / "rpc_from_etl"
STREAM = ETH / "etl" / "test_stream" / "blocks_17173049_17173050"
PARITY = ETH / "etl" / "test_export_traces_job"
HASH = re.compile(rb"0x[0-9a-f]{64}")


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(best, median) seconds of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


def _renamer(copy: int, tx_hashes: set[bytes]) -> Callable[[bytes], bytes]:
    tag = f"{copy:06x}".encode()

    def sub(m: re.Match[bytes]) -> bytes:
        h = m.group(0)
        return b"0x" + tag + h[8:] if h in tx_hashes else h

    return lambda data: HASH.sub(sub, data)


def rpc_inputs(copies: int) -> list[tuple[bytes, bytes]]:
    """(block answer, receipts answer) bytes per block, ``copies`` times over."""
    pairs = []
    for f in sorted(RPC.glob("eth_getBlockByNumber_*.json")):
        n = f.name.split("_")[2]
        block = json.loads(f.read_bytes())["result"]
        receipts = json.loads((RPC / f"eth_getBlockReceipts_{n}.json").read_bytes())["result"]
        pairs.append((block, receipts))
    hashes = {t["hash"].encode() for b, _ in pairs for t in b["transactions"]}
    out = []
    for c in range(copies):
        ren = _renamer(c, hashes)
        for block, receipts in pairs:
            blk = dict(block, number=hex(int(block["number"], 16) + 2 * c * 10))
            out.append((ren(json.dumps(blk).encode()), ren(json.dumps(receipts).encode())))
    return out


def decode_rpc(inputs: list[tuple[bytes, bytes]]) -> int:
    answers = [BlockAnswers(decode_result(b, "block", "bench"), "bench", decode_result(r, "receipts", "bench"))
               for b, r in inputs]  # fmt: skip
    return batch_from_answers(answers).n_txs


def etl_inputs(copies: int, out: Path) -> dict[str, Path]:
    """blocks/transactions/logs as JSON lines and as CSV under ``out``, ``copies`` times over."""
    files = {k: (STREAM / f"expected_{k}.json").read_bytes() for k in ("blocks", "transactions", "logs")}
    hashes = {json.loads(x)["hash"].encode() for x in files["transactions"].splitlines()}
    num = re.compile(rb'"(number|block_number)": (\d+)')
    paths = {}
    for kind, data in files.items():
        parts = []
        for c in range(copies):
            shifted = num.sub(lambda m, c=c: b'"%s": %d' % (m.group(1), int(m.group(2)) + 2 * c * 10), data)
            parts.append(_renamer(c, hashes)(shifted))
        jl = out / "jsonl" / f"{kind}.json"
        jl.parent.mkdir(parents=True, exist_ok=True)
        jl.write_bytes(b"".join(parts))
        rows = [json.loads(x) for x in jl.read_bytes().splitlines()]
        cols = [k for k in rows[0] if k not in ("type", "item_id", "item_timestamp")]
        buf = io.StringIO()
        w = csv.DictWriter(buf, cols, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: (",".join(map(str, v)) if isinstance(v, list) and kind == "logs" else
                            ",".join(json.dumps(x, separators=(",", ":")) for x in v) if isinstance(v, list)
                            else "" if v is None else v) for k, v in r.items()})  # fmt: skip
        (out / "csv").mkdir(exist_ok=True)
        (out / "csv" / f"{kind}.csv").write_text(buf.getvalue())
        paths[kind] = jl
    return paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--copies", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    import orjson  # noqa: PLC0415 - a baseline only, not a dependency

    inputs = rpc_inputs(args.copies)
    blob = b"".join(b + r for b, r in inputs)
    n_tx = decode_rpc(inputs)
    print(f"RPC answers: {len(inputs)} blocks, {n_tx:,} txs, {len(blob) / 1e6:.1f} MB of JSON")
    rows = []
    for name, fn in (("chaintrail RPC -> EthBatch", lambda: decode_rpc(inputs)),
                     ("json.loads (parse only)", lambda: [(json.loads(b), json.loads(r)) for b, r in inputs]),
                     ("orjson.loads (parse only)", lambda: [(orjson.loads(b), orjson.loads(r)) for b, r in inputs]),
                     ("msgspec untyped (parse only)", lambda: [(msgspec.json.decode(b), msgspec.json.decode(r)) for b, r in inputs]),
                     ("msgspec typed structs (decode only)", lambda: [(decode_result(b, "block", ""), decode_result(r, "receipts", "")) for b, r in inputs])):  # fmt: skip
        best, med = timed(fn, args.repeat)
        rows.append((name, best, med))
        print(f"  {name:36s} {n_tx / best:12,.0f} tx/s (median {n_tx / med:,.0f})  {len(blob) / best / 1e6:7.1f} MB/s")
    with tempfile.TemporaryDirectory() as tmp:
        paths = etl_inputs(args.copies, Path(tmp))
        for fmt in ("jsonl", "csv"):
            d = Path(tmp) / fmt
            size = sum(f.stat().st_size for f in d.iterdir())
            n = load_etl(d).n_txs
            best, med = timed(lambda d=d: load_etl(d), args.repeat)
            print(f"etl {fmt:5s}: {n:,} txs, {size / 1e6:.1f} MB  chaintrail -> EthBatch {n / best:12,.0f} tx/s (median {n / med:,.0f})")
        data = b"".join(p.read_bytes() for p in paths.values())
        best, _ = timed(lambda: [json.loads(x) for x in data.splitlines()], args.repeat)
        print(f"etl jsonl baseline json.loads per line (parse only): {n / best:12,.0f} tx/s")
    traces = sorted(PARITY.glob("*/web3_response.trace_block_*.json"))
    raws = [json.dumps(json.loads(f.read_bytes())["result"]).encode() for f in traces] * (args.copies * 10)
    n_rows = sum(len(json.loads(r)) for r in raws)

    def decode_traces() -> None:
        answers = [BlockAnswers(None, "bench", parity_traces=decode_result(r, "parity", "bench"), number=i)
                   for i, r in enumerate(raws)]  # fmt: skip
        batch_from_answers(answers)

    best, _ = timed(decode_traces, args.repeat)
    base, _ = timed(lambda: [json.loads(r) for r in raws], args.repeat)
    print(f"Parity traces: {n_rows:,} rows  chaintrail {n_rows / best:,.0f} rows/s   json.loads {n_rows / base:,.0f} rows/s")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
