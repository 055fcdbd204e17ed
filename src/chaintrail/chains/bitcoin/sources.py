"""Tell which kind of Bitcoin block source a path is, for ``chaintrail ingest``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from chaintrail.chains.bitcoin import params
from chaintrail.chains.bitcoin.blkfiles import _BLK_NAME, load_xor_key, xor_bytes
from chaintrail.chains.bitcoin.rawfile import looks_like_hex
from chaintrail.errors import InputError

SourceKind = Literal["blk-dir", "blk-file", "raw", "hex", "rpc-json"]
SOURCE_KINDS: tuple[str, ...] = ("blk-dir", "blk-file", "raw", "hex", "rpc-json")
_EXPECTED = (
    "expected a Bitcoin Core blocks/ directory, a blk*.dat file, a raw or hex block file, "
    "or getblock JSON (a file or a directory of them)"
)


def detect_source_kind(path: str | Path) -> SourceKind:
    """``"blk-dir"``, ``"blk-file"``, ``"raw"``, ``"hex"`` or ``"rpc-json"``; InputError otherwise."""
    p = Path(path)
    if p.is_dir():
        if any(_BLK_NAME.match(c.name) for c in p.iterdir()):
            return "blk-dir"
        if (p / "blocks").is_dir() and any(
            _BLK_NAME.match(c.name) for c in (p / "blocks").iterdir()
        ):
            raise InputError(
                "this is a Bitcoin Core data directory; pass its blocks/ folder", source=str(p)
            )
        if any(p.rglob("*.json")):
            return "rpc-json"
        raise InputError(f"directory holds no blk*.dat or .json files; {_EXPECTED}", source=str(p))
    if not p.is_file():
        raise InputError("no such file or directory", source=str(p))
    with open(p, "rb") as fh:
        head = fh.read(4096)
    if not head:
        raise InputError(f"empty file; {_EXPECTED}", source=str(p))
    if head[:4] == params.MAGIC or xor_bytes(head[:4], load_xor_key(p.parent), 0) == params.MAGIC:
        return "blk-file"
    stripped = head.lstrip()
    if stripped[:1] in (b"{", b"[", b'"'):
        return "rpc-json"
    if looks_like_hex(head) or (stripped[:2].lower() == b"0x" and looks_like_hex(stripped[2:])):
        return "hex"
    if len(head) > params.BLOCK_HEADER_SIZE:
        return "raw"  # binary and long enough for a block; the decoder checks the rest
    raise InputError(f"{len(head)} bytes: too short for a block; {_EXPECTED}", source=str(p))
