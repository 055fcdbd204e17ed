"""Bitcoin Core ``blocks/blk*.dat`` files: record scan, XOR de-obfuscation, block reads.

A blk file is a sequence of records ``[magic f9beb4d9][uint32 LE length][block bytes]``,
possibly followed by zero padding (Core preallocates files). Since Core 28 the files may be
XOR-obfuscated with the 8-byte key in ``blocks/xor.dat``, applied cyclically by file offset;
an absent or all-zero key means plain files. Blocks are stored in arrival order, not chain
order: :class:`BlockRef` carries the header fields needed to order them by prev-hash, and
:func:`chainwork` the work of a header's target.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chaintrail.chains.bitcoin import params
from chaintrail.chains.bitcoin.hashing import sha256d
from chaintrail.errors import DecodeError, InputError, ValidationError

XOR_KEY_LEN = 8
_BLK_NAME = re.compile(r"^blk(\d+)\.dat$")
_PAD_CHUNK = 1 << 20


@dataclass(frozen=True)
class BlockRef:
    """Where one block sits in a blk file, with the header fields needed to order blocks."""

    hash: bytes  # internal byte order
    prev_hash: bytes  # internal byte order
    bits: int
    time: int
    path: str
    offset: int  # byte offset of the block (its header) in the file
    length: int


def load_xor_key(blocks_dir: str | Path) -> bytes:
    """The obfuscation key of a ``blocks/`` directory (8 zero bytes when there is none)."""
    path = Path(blocks_dir) / "xor.dat"
    if not path.exists():
        return bytes(XOR_KEY_LEN)
    key = path.read_bytes()
    if len(key) != XOR_KEY_LEN:
        raise DecodeError(
            f"xor key must be {XOR_KEY_LEN} bytes, found {len(key)}", source=str(path)
        )
    return key


def xor_bytes(data: bytes, key: bytes, file_offset: int) -> bytes:
    """``data`` read at ``file_offset`` of a file obfuscated with ``key`` (its own inverse)."""
    if not any(key) or not data:
        return bytes(data)
    arr = np.frombuffer(data, dtype=np.uint8)
    k = np.frombuffer(key, dtype=np.uint8)
    idx = (np.arange(arr.size, dtype=np.int64) + file_offset) % XOR_KEY_LEN
    return (arr ^ k[idx]).tobytes()


def list_blk_files(path: str | Path) -> list[Path]:
    """``blk*.dat`` files of a ``blocks/`` directory in number order, or ``[path]`` for a file."""
    p = Path(path)
    if p.is_file():
        return [p]
    if not p.is_dir():
        raise InputError("no such file or directory", source=str(p))
    found = [(int(m.group(1)), c) for c in p.iterdir() if (m := _BLK_NAME.match(c.name))]
    if not found:
        raise InputError("no blk*.dat files in this directory", source=str(p))
    return [c for _, c in sorted(found)]


def scan_blk_file(path: str | Path, xor_key: bytes = bytes(XOR_KEY_LEN)) -> list[BlockRef]:
    """Every block record of one blk file, reading headers only.

    Zero padding between and after records is skipped; wrong magic, a record running past
    the end of the file or a block shorter than its header is a DecodeError naming the file
    and byte offset.
    """
    path = str(path)
    size = os.path.getsize(path)
    refs: list[BlockRef] = []
    with open(path, "rb") as fh:
        pos = 0
        while pos < size:
            fh.seek(pos)
            head = xor_bytes(fh.read(8 + params.BLOCK_HEADER_SIZE), xor_key, pos)
            if head[:1] == b"\x00":  # Core's zero padding (preallocated file tail)
                fh.seek(pos)
                chunk = xor_bytes(fh.read(_PAD_CHUNK), xor_key, pos)
                pos += len(chunk) - len(chunk.lstrip(b"\x00"))
                continue
            if len(head) < 8:
                raise DecodeError(
                    f"truncated record: expected an 8-byte magic+length, found {len(head)}",
                    source=path,
                    offset=pos,
                )
            if head[:4] != params.MAGIC:
                raise DecodeError(
                    f"wrong magic {head[:4].hex()}, expected {params.MAGIC.hex()} (mainnet)",
                    source=path,
                    offset=pos,
                )
            length = int.from_bytes(head[4:8], "little")
            if length < params.BLOCK_HEADER_SIZE or length > params.MAX_BLOCK_SERIALIZED_SIZE:
                raise DecodeError(
                    f"record length {length} outside 80..{params.MAX_BLOCK_SERIALIZED_SIZE}",
                    source=path,
                    offset=pos + 4,
                )
            if pos + 8 + length > size:
                raise DecodeError(
                    f"truncated record: {length}-byte block runs past the end of the file "
                    f"({size} bytes)",
                    source=path,
                    offset=pos + 8,
                )
            header = head[8 : 8 + params.BLOCK_HEADER_SIZE]
            refs.append(
                BlockRef(
                    hash=sha256d(header),
                    prev_hash=header[4:36],
                    bits=int.from_bytes(header[72:76], "little"),
                    time=int.from_bytes(header[68:72], "little"),
                    path=path,
                    offset=pos + 8,
                    length=length,
                )
            )
            pos += 8 + length
    return refs


def read_block_bytes(ref: BlockRef, xor_key: bytes = bytes(XOR_KEY_LEN)) -> bytes:
    """The (de-obfuscated) bytes of the block ``ref`` points to; checks its header hash."""
    with open(ref.path, "rb") as fh:
        fh.seek(ref.offset)
        data = fh.read(ref.length)
    if len(data) != ref.length:
        raise DecodeError(
            f"truncated block: expected {ref.length} bytes, found {len(data)}",
            source=ref.path,
            offset=ref.offset,
        )
    data = xor_bytes(data, xor_key, ref.offset)
    if sha256d(data[: params.BLOCK_HEADER_SIZE]) != ref.hash:
        raise ValidationError(
            "block header changed since the file was scanned", source=ref.path, offset=ref.offset
        )
    return data


def read_blocks(refs: list[BlockRef], xor_key: bytes = bytes(XOR_KEY_LEN)) -> list[tuple[bytes, str, int]]:  # fmt: skip
    """``(bytes, path, offset)`` tuples for :func:`decode_blocks`, in the order of ``refs``."""
    return [(read_block_bytes(ref, xor_key), ref.path, ref.offset) for ref in refs]


def target_from_bits(bits: int) -> int:
    """The 256-bit target a compact ``nBits`` encodes (0 for negative or overflowing values)."""
    exponent = bits >> 24
    mantissa = bits & 0x007FFFFF
    if bits & 0x00800000:
        return 0  # negative target: invalid
    if exponent <= 3:
        target = mantissa >> (8 * (3 - exponent))
    else:
        target = mantissa << (8 * (exponent - 3))
    return target if target < 1 << 256 else 0


def chainwork(bits: int) -> int:
    """Expected number of hashes for a header with ``bits``: 2**256 // (target + 1)."""
    target = target_from_bits(bits)
    if target == 0:
        return 0
    return (1 << 256) // (target + 1)
