"""Real mainnet blocks re-serialised into test inputs: blk records, competing branches."""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data"
BLK_0_438 = DATA / "btc" / "blk_mainnet_blocks_0-438.dat"
MAGIC = bytes.fromhex("f9beb4d9")


def sha256d(b: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(b).digest()).digest()


def read_blocks(path: Path = BLK_0_438) -> list[bytes]:
    """The serialized blocks of a blk file, in file order."""
    data = path.read_bytes()
    out, off = [], 0
    while off < len(data):
        assert data[off : off + 4] == MAGIC
        n = struct.unpack_from("<I", data, off + 4)[0]
        out.append(data[off + 8 : off + 8 + n])
        off += 8 + n
    return out


def blk_bytes(blocks: list[bytes]) -> bytes:
    """Blocks framed as blk file records."""
    return b"".join(MAGIC + struct.pack("<I", len(b)) + b for b in blocks)


def _varint(data: bytes, off: int) -> tuple[int, int]:
    first = data[off]
    if first < 0xFD:
        return first, off + 1
    size = {0xFD: 2, 0xFE: 4, 0xFF: 8}[first]
    return int.from_bytes(data[off + 1 : off + 1 + size], "little"), off + 1 + size


def coinbase_tx(block: bytes) -> bytes:
    """The (pre-segwit) coinbase transaction bytes of a block."""
    _, off = _varint(block, 80)
    start = off
    off += 4
    n_in, off = _varint(block, off)
    assert n_in == 1
    off += 36
    slen, off = _varint(block, off)
    off += slen + 4
    n_out, off = _varint(block, off)
    for _ in range(n_out):
        off += 8
        slen, off = _varint(block, off)
        off += slen
    off += 4
    return block[start:off]


def competing_branch(
    blocks: list[bytes], fork_height: int, length: int, tag: int = 1
) -> list[bytes]:
    """``length`` coinbase-only blocks on top of ``blocks[fork_height]``.

    Each re-uses the real block's header fields (version, time, bits, nonce) and coinbase at
    that height, with the first output made ``tag`` satoshis smaller (so new txids), a new
    merkle root and the new parent hash. Proof of work is not checked by the store.
    """
    out = []
    prev = sha256d(blocks[fork_height][:80])
    for h in range(fork_height + 1, fork_height + 1 + length):
        real = blocks[min(h, len(blocks) - 1)]
        cb = bytearray(coinbase_tx(real))
        # locate the first output value: version(4) count(1) outpoint(36) script sig(len) seq(4) nout
        slen, off = _varint(bytes(cb), 4 + 1 + 36)
        off += slen + 4
        _, off = _varint(bytes(cb), off)
        value = int.from_bytes(cb[off : off + 8], "little") - tag
        cb[off : off + 8] = value.to_bytes(8, "little")
        merkle = sha256d(bytes(cb))
        header = real[:4] + prev + merkle + real[68:80]
        block = header + b"\x01" + bytes(cb)
        out.append(block)
        prev = sha256d(header)
    return out
