"""Ingest benchmark: end-to-end tx/s into the store, store bytes per tx, peak RSS, beside
python-bitcoinlib's ``CBlock.deserialize`` of the same bytes in the same run.

    python bench/bench_ingest.py [--synthetic-txs 1000000] [--workdir DIR] [PATH ...]

PATHs are real inputs (blk files, raw blocks), e.g. tests/data/btc/blk_mainnet_blocks_0-438.dat
or /work/shared/data/btc-raw-blocks/*.raw (single blocks are ingested with --allow-gaps).
The synthetic chain is 2-in/2-out P2WPKH segwit transactions spending earlier outputs, with
valid merkle roots, written as a blk file (proof of work is not checked).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import resource
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

MAGIC = bytes.fromhex("f9beb4d9")


def sha256d(b: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(b).digest()).digest()


def merkle(hashes: list[bytes]) -> bytes:
    while len(hashes) > 1:
        if len(hashes) % 2:
            hashes.append(hashes[-1])
        hashes = [sha256d(hashes[i] + hashes[i + 1]) for i in range(0, len(hashes), 2)]
    return hashes[0]


def p2wpkh(rng: random.Random) -> bytes:
    return b"\x16\x00\x14" + rng.randbytes(20)


def synthetic_chain(path: Path, n_txs: int, txs_per_block: int = 2000, seed: int = 1) -> int:
    """Write a blk file of a valid-looking chain with about ``n_txs`` txs; returns tx count."""
    rng = random.Random(seed)
    pool: list[tuple[bytes, int, int]] = []  # (txid, vout, value)
    prev = bytes(32)
    written = 0
    with open(path, "wb") as fh:
        height = 0
        while written < n_txs:
            n_out = 4000 if height == 0 else 1
            height_push = b"\x03" + height.to_bytes(3, "little")
            cb_in = bytes(32) + b"\xff\xff\xff\xff" + bytes([len(height_push) + 4]) + height_push + rng.randbytes(4) + b"\xff\xff\xff\xff"  # fmt: skip
            outs = b"".join(struct.pack("<q", 100_000_000) + p2wpkh(rng) for _ in range(n_out))
            cb = b"\x01\x00\x00\x00\x01" + cb_in + _cs(n_out) + outs + b"\x00\x00\x00\x00"
            cb_id = sha256d(cb)
            pool.extend((cb_id, v, 100_000_000) for v in range(n_out))
            txs, ids = [cb], [cb_id]
            for _ in range(min(txs_per_block - 1, n_txs - written - 1)):
                if len(pool) < 2:
                    break
                ins = [pool.pop(rng.randrange(len(pool))) for _ in range(2)]
                value = (ins[0][2] + ins[1][2] - 1000) // 2
                vin = b"".join(
                    t + struct.pack("<I", v) + b"\x00\xff\xff\xff\xff" for t, v, _ in ins
                )
                vout = b"".join(struct.pack("<q", value) + p2wpkh(rng) for _ in range(2))
                base = b"\x02\x00\x00\x00" + b"\x02" + vin + b"\x02" + vout
                wit = b"".join(
                    b"\x02\x48" + rng.randbytes(72) + b"\x21" + rng.randbytes(33) for _ in ins
                )
                txid = sha256d(base + b"\x00\x00\x00\x00")
                txs.append(base[:4] + b"\x00\x01" + base[4:] + wit + b"\x00\x00\x00\x00")
                ids.append(txid)
                pool.extend((txid, v, value) for v in range(2))
            header = struct.pack("<I", 0x20000000) + prev + merkle(list(ids)) + struct.pack("<III", 1600000000 + height * 600, 0x1D00FFFF, height)  # fmt: skip
            block = header + _cs(len(txs)) + b"".join(txs)
            fh.write(MAGIC + struct.pack("<I", len(block)) + block)
            prev = sha256d(header)
            written += len(txs)
            height += 1
    return written


def _cs(n: int) -> bytes:
    return bytes([n]) if n < 0xFD else b"\xfd" + struct.pack("<H", n)


def blocks_of(path: Path) -> list[bytes]:
    data = path.read_bytes()
    if data[:4] != MAGIC:
        return [data]
    out, off = [], 0
    while off + 8 <= len(data):
        n = struct.unpack_from("<I", data, off + 4)[0]
        out.append(data[off + 8 : off + 8 + n])
        off += 8 + n
    return out


def bitcoinlib_rate(paths: list[Path], max_txs: int = 150_000) -> float:
    from bitcoin.core import CBlock

    n, t0 = 0, time.perf_counter()
    for p in paths:
        for b in blocks_of(p):
            n += len(CBlock.deserialize(b).vtx)
            if n >= max_txs:
                return n / (time.perf_counter() - t0)
    return n / (time.perf_counter() - t0)


INGEST = """
import sys, time, json, resource
from pathlib import Path
from chaintrail.jobs.ingest import ingest_paths
from chaintrail.store import ChainStore
store = ChainStore.open(sys.argv[1], create=True)
t0 = time.perf_counter()
r = ingest_paths(store, [Path(p) for p in sys.argv[3:]], allow_gaps=sys.argv[2] == "1")
dt = time.perf_counter() - t0
print(json.dumps({"txs": r.txs_added, "seconds": dt, "stats": store.stats(),
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_ingest(store: Path, paths: list[Path], allow_gaps: bool) -> dict:
    import json

    out = subprocess.run(
        [sys.executable, "-c", INGEST, str(store), "1" if allow_gaps else "0", *map(str, paths)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def report(name: str, paths: list[Path], allow_gaps: bool, workdir: Path) -> None:
    store = workdir / f"store-{name}"
    subprocess.run(["rm", "-rf", str(store)], check=True)
    r = run_ingest(store, paths, allow_gaps)
    rate = r["txs"] / r["seconds"]
    base = bitcoinlib_rate(paths)
    dec = decode_rate(paths)
    st = r["stats"]
    print(
        f"[{name}] {r['txs']:,} txs ingested in {r['seconds']:.2f} s = {rate:,.0f} tx/s end to end"
    )
    print(f"[{name}] python-bitcoinlib CBlock.deserialize (same bytes): {base:,.0f} tx/s; ratio {rate / base:.1f}x")  # fmt: skip
    print(f"[{name}] chaintrail decode alone (read + decode, one thread): {dec:,.0f} tx/s; {dec / base:.1f}x python-bitcoinlib")  # fmt: skip
    print(f"[{name}] store: {st['parquet_bytes'] / max(1, r['txs']):.1f} Parquet bytes/tx, "
          f"{st['store_bytes'] / max(1, r['txs']):.1f} total bytes/tx (incl. map snapshot); "
          f"{st['outputs']:,} outputs, {st['inputs']:,} inputs, {st['addresses']:,} addresses")  # fmt: skip
    print(f"[{name}] peak RSS of the ingest process: {r['maxrss_mb']:,.0f} MiB")
    for table in ("blocks", "txs", "inputs", "outputs", "addresses"):
        size = sum(f.stat().st_size for f in store.glob(f"segments/*/{table}.parquet"))
        rows = {"txs": st["txs"], "inputs": st["inputs"], "outputs": st["outputs"],
                "addresses": st["addresses"], "blocks": st["blocks"]}[table]  # fmt: skip
        print(f"[{name}]   {table}: {size:,} bytes, {size / max(1, rows):.1f} bytes/row")
    maps = sum(f.stat().st_size for f in store.glob("maps/**/*") if f.is_file())
    print(f"[{name}]   map snapshot: {maps:,} bytes (tables + address keys file)")
    snap = max(store.glob("maps/snap-*"))
    a_slots = np.load(snap / "addr_slot.npy", mmap_mode="r").shape[0]
    u_slots = np.load(snap / "utxo_ov.npy", mmap_mode="r").shape[0]
    print(f"[{name}]   address map: {st['addresses']:,} in {a_slots:,} slots x 8 B "
          f"(load {st['addresses'] / a_slots:.2f}); UTXO set: {st['utxos']:,} in {u_slots:,} "
          f"slots x 28 B (load {st['utxos'] / u_slots:.2f})")  # fmt: skip


def decode_rate(paths: list[Path]) -> float:
    """tx/s of chaintrail's decoder alone over the same files (read + decode, 48 MB batches)."""
    from chaintrail.jobs.ingest import DEFAULT_BATCH_BYTES, _groups
    from chaintrail.jobs.ingest_sources import collect_items, load_batch

    items = collect_items(paths)
    groups = list(_groups(items, DEFAULT_BATCH_BYTES, None))
    load_batch(items[groups[0][0] : groups[0][0] + 1])  # numba cache load, not timed
    n, t0 = 0, time.perf_counter()
    for a, b in groups:
        n += load_batch(items[a:b]).n_txs
    return n / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("paths", nargs="*", type=Path)
    ap.add_argument("--synthetic-txs", type=int, default=1_000_000)
    ap.add_argument("--workdir", type=Path, default=None)
    a = ap.parse_args()
    workdir = a.workdir or Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"workdir {workdir}; cpu count {os.cpu_count()}; load average {os.getloadavg()}")
    warm = workdir / "warm" / "blk00000.dat"  # compiles/loads the numba cache, not timed
    warm.parent.mkdir(exist_ok=True)
    synthetic_chain(warm, 5000, txs_per_block=500)
    subprocess.run(["rm", "-rf", str(workdir / "store-warm")], check=True)
    run_ingest(workdir / "store-warm", [warm], False)
    blk = [p for p in a.paths if blocks_of(p) and p.read_bytes()[:4] == MAGIC]
    single = [p for p in a.paths if p not in blk]
    if blk:
        report("real-blk", blk, False, workdir)
    if single:
        report("real-single-blocks", single, True, workdir)
    if a.synthetic_txs:
        chain = workdir / "synthetic" / "blk00000.dat"
        chain.parent.mkdir(exist_ok=True)
        t0 = time.perf_counter()
        n = synthetic_chain(chain, a.synthetic_txs)
        print(f"[synthetic] generated {n:,} txs ({chain.stat().st_size / 1e6:,.0f} MB) in {time.perf_counter() - t0:.0f} s")  # fmt: skip
        report("synthetic", [chain], False, workdir)
    print(f"load average at the end {os.getloadavg()}")
    _ = resource  # RSS is measured inside the ingest subprocess


if __name__ == "__main__":
    main()
