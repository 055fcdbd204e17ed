"""Decode throughput: chaintrail's numba decoder vs python-bitcoinlib on the same blocks.

    python bench/bench_decode.py /work/shared/data/btc-raw-blocks/block_702861_*.raw \\
        /work/shared/data/btc-raw-blocks/block_574200_*.raw \\
        /work/shared/data/btc-raw-blocks/blk_mainnet_blocks_0-438.dat

Prints tx/s of each decoder and the ratio, measured in this run (best of --repeat).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bitcoin.core import CBlock

from chaintrail.chains.bitcoin.blkfiles import read_blocks, scan_blk_file
from chaintrail.chains.bitcoin.decode import decode_blocks
from chaintrail.chains.bitcoin.rawfile import raw_block_blob
from chaintrail.chains.bitcoin.sources import detect_source_kind


def load(paths: list[Path]) -> list[tuple[bytes, str, int]]:
    """Every block of the given files as decode_blocks input."""
    blobs: list[tuple[bytes, str, int]] = []
    for p in paths:
        if detect_source_kind(p) == "blk-file":
            blobs.extend(read_blocks(scan_blk_file(p)))
        else:
            blobs.append(raw_block_blob(p))
    return blobs


def best(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    """Fastest of ``repeat`` timed calls, in seconds."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("paths", nargs="+", type=Path, help="raw/hex block files or blk*.dat files")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    blobs = load(args.paths)
    n_tx = decode_blocks(blobs).n_txs  # also warms the numba cache
    n_bytes = sum(len(b[0]) for b in blobs)
    ours = best(lambda: decode_blocks(blobs), args.repeat)
    ref = best(lambda: [CBlock.deserialize(b[0]) for b in blobs], max(1, args.repeat // 2))
    print(f"blocks {len(blobs)}  txs {n_tx}  bytes {n_bytes}")
    print(f"chaintrail decode_blocks : {n_tx / ours:12,.0f} tx/s  {n_bytes / ours / 1e6:8.1f} MB/s")
    print(f"python-bitcoinlib CBlock : {n_tx / ref:12,.0f} tx/s  {n_bytes / ref / 1e6:8.1f} MB/s")
    print(f"ratio (chaintrail / bitcoinlib): {ref / ours:.1f}x")


if __name__ == "__main__":
    main()
