"""Single raw blocks stored as a file: binary serialisation or hex text (auto-detected)."""

from __future__ import annotations

import string
from pathlib import Path

from chaintrail.chains.bitcoin import params
from chaintrail.errors import DecodeError, InputError

_HEX = set(string.hexdigits.encode())
_SPACE = set(string.whitespace.encode())


def looks_like_hex(data: bytes) -> bool:
    """True if ``data`` is hex text (hex digits and whitespace only, at least one header)."""
    sample = data[:4096]
    body = bytes(b for b in sample if b not in _SPACE)
    return len(body) >= 2 * params.BLOCK_HEADER_SIZE and all(b in _HEX for b in body)


def parse_hex_block(text: bytes, source: str) -> bytes:
    """Bytes of a hex-text block (whitespace and an optional ``0x`` prefix ignored)."""
    compact = b"".join(text.split())
    if compact[:2].lower() == b"0x":
        compact = compact[2:]
    if len(compact) % 2:
        raise DecodeError(f"odd number of hex digits ({len(compact)})", source=source)
    try:
        return bytes.fromhex(compact.decode("ascii"))
    except (UnicodeDecodeError, ValueError) as exc:
        bad = next(i for i, b in enumerate(compact) if b not in _HEX)
        raise DecodeError(
            f"non-hex character {chr(compact[bad])!r} in hex block text", source=source, offset=bad
        ) from exc


def read_raw_block(path: str | Path) -> tuple[bytes, bool]:
    """The serialized block in ``path`` and whether the file was hex text."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", source=str(p)) from exc
    head = data.lstrip()[:2].lower()
    if looks_like_hex(data) or (head == b"0x" and looks_like_hex(data.lstrip()[2:])):
        return parse_hex_block(data, str(p)), True
    return data, False


def raw_block_blob(path: str | Path) -> tuple[bytes, str, int]:
    """``(bytes, source, 0)`` for :func:`decode_blocks` from a raw or hex block file."""
    data, _ = read_raw_block(path)
    return data, str(path), 0
