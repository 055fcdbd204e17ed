"""API throughput and latency: address lookup, neighbors, 3-hop trace over a loopback server.

Starts ``chaintrail serve`` (auth on, rate limit off) on a free loopback port and drives it with
an asyncio keep-alive HTTP/1.1 load generator (bounded in requests and seconds). Baseline in
the same run: the same address lookup answered by a DuckDB query per request (the store's
``address`` query, what ``chaintrail address --json`` runs).

    python bench/bench_api.py [--store STORE | --chain SIMDIR] [--workers 2] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "src" / "chaintrail" / "data" / "mainnet_blocks_0-438.dat"


def prepare_store(args: argparse.Namespace) -> Path:
    """A store to serve: --store as is, --chain's blocks ingested once, or the bundled blocks."""
    from chaintrail.analysis.clustering import run_clustering
    from chaintrail.jobs.ingest import ingest_paths
    from chaintrail.store import ChainStore

    if args.store:
        return Path(args.store)
    if args.chain:
        root, source = Path(args.chain) / "store", Path(args.chain) / "blocks"
    else:
        root, source = Path(tempfile.mkdtemp(prefix="bench-api-")) / "store", BUNDLED
    if not (root / "MANIFEST.json").exists():
        store = ChainStore.open(root, create=True)
        ingest_paths(store, [source])
        run_clustering(store)
        store.close()
    return root


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _one(reader, writer, raw: bytes) -> tuple[int, float]:  # noqa: ANN001
    t0 = time.perf_counter()
    writer.write(raw)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    return status, time.perf_counter() - t0


async def load(port: int, requests: list[bytes], conns: int, seconds: float) -> dict:
    """Send ``requests`` round-robin over ``conns`` keep-alive connections; stop at the time cap."""
    lat: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    queue = iter(requests)

    async def worker() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for raw in queue:
            if time.perf_counter() > deadline:
                break
            status, dt = await _one(reader, writer, raw)
            lat.append(dt)
            errors += status != 200
        writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(conns)))
    wall = time.perf_counter() - t0
    arr = np.array(lat) * 1000
    return {
        "requests": len(lat),
        "errors": errors,
        "rps": len(lat) / wall,
        "p50_ms": float(np.percentile(arr, 50)),
        "p99_ms": float(np.percentile(arr, 99)),
    }


def get(path: str, key: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: {key}\r\n\r\n".encode()


def post(path: str, key: str, body: dict) -> bytes:
    data = json.dumps(body).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
    )
    return head.encode() + data


def duckdb_baseline(store_dir: Path, addresses: list[str], seconds: float) -> dict:
    """Address lookups answered by a DuckDB query each (the store's address query)."""
    from chaintrail.store import ChainStore

    store = ChainStore.open(store_dir)
    store.address(addresses[0])  # connection and views set up outside the timing
    lat = []
    t_end = time.perf_counter() + seconds
    for a in addresses:
        if time.perf_counter() > t_end:
            break
        t0 = time.perf_counter()
        store.address(a)
        lat.append(time.perf_counter() - t0)
    arr = np.array(lat) * 1000
    return {
        "requests": len(lat),
        "rps": len(lat) / (arr.sum() / 1000),
        "p50_ms": float(np.percentile(arr, 50)),
        "p99_ms": float(np.percentile(arr, 99)),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--store", help="an existing chain store")
    ap.add_argument("--chain", help="a 'chaintrail simulate' output dir (ingested on first use)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--conns", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--lookups", type=int, default=40_000)
    args = ap.parse_args()

    from chaintrail.api.keys import KeyStore
    from chaintrail.store import ChainStore

    store_dir = prepare_store(args)
    store = ChainStore.open(store_dir)
    n_addr = store.manifest.n_addresses
    rng = random.Random(7)
    ids = [rng.randrange(n_addr) for _ in range(min(args.lookups, 200_000))]
    addresses = [a for a in store.address_strings(np.array(ids)) if a]
    arrays = store.arrays()
    spenders = np.unique(arrays.in_addr[arrays.in_addr >= 0])
    busy = [
        a
        for a in store.address_strings(
            np.array(rng.sample(list(spenders), min(500, spenders.size)))
        )
        if a
    ]
    store.close()
    key, _ = KeyStore(store_dir).create("reader", "bench")
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    cmd = [sys.executable, "-m", "chaintrail", "serve", "--store", str(store_dir), "--port", str(port),
           "--workers", str(args.workers), "--rate-limit", "0"]  # fmt: skip
    server = subprocess.Popen(cmd, env=env, stderr=subprocess.DEVNULL)
    try:
        print(
            f"store {store_dir}: {n_addr:,} addresses; server: {args.workers} workers, "
            f"load: {args.conns} connections, <= {args.seconds:.0f} s per figure"
        )
        warm = [get("/api/stats", key)] * (args.workers * 8)
        deadline = time.monotonic() + 600
        while True:
            try:
                asyncio.run(load(port, warm, args.workers * 4, 600))
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        base = duckdb_baseline(store_dir, addresses, args.seconds)
        figures = {
            "address lookup": asyncio.run(load(port, [get(f"/api/btc/addresses/{a}", key) for a in addresses], args.conns, args.seconds)),
            "neighbors (out, 10)": asyncio.run(load(port, [get(f"/api/btc/addresses/{a}/neighbors?direction=out&pagesize=10", key) for a in (busy * 5000)[:20_000]], args.conns, args.seconds)),
            "3-hop trace": asyncio.run(load(port, [post("/v1/btc/trace", key, {"address": a, "hops": 3}) for a in (busy * 1000)[:5_000]], min(args.conns, 8), args.seconds)),
        }  # fmt: skip
        print(
            f"{'baseline: DuckDB query per lookup':34s} {base['rps']:9.0f} req/s  p50 {base['p50_ms']:7.2f} ms  p99 {base['p99_ms']:7.2f} ms  (sequential, in-process)"
        )
        for name, f in figures.items():
            ratio = f["rps"] / base["rps"]
            print(
                f"{name:34s} {f['rps']:9.0f} req/s  p50 {f['p50_ms']:7.2f} ms  p99 {f['p99_ms']:7.2f} ms  "
                f"({f['requests']:,} requests, {f['errors']} non-200; {ratio:.1f}x baseline req/s)"
            )
        return 0 if all(f["errors"] == 0 for f in figures.values()) else 1
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
