"""Audit anchors: the chain head signed with the hub's Ed25519 key, for an outside party to keep.

An anchor is JSON ``{format, seq, hash, time, public_key, signature}``; the signature (hex) is
over the ASCII message ``chaintrail-audit-anchor/1 <seq> <hash> <time>``. Whoever holds an anchor
can later check, with :func:`check_anchor`, that the signature is the hub's and that the chain
still has that hash at that entry: history before it cannot have been rewritten without the
chain verification or the anchor failing. The private key lives in ``<store>/hub-audit-key.pem``
(mode 0600), created on first use.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Connection, text

from chaintrail.errors import InputError, ValidationError
from chaintrail.hub.audit import timestamp

KEY_FILE = "hub-audit-key.pem"
FORMAT = "chaintrail-audit-anchor/1"


def load_or_create_key(store_dir: Path) -> Ed25519PrivateKey:
    """The hub's signing key, created (0600) on first use."""
    path = Path(store_dir) / KEY_FILE
    if path.exists():
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (ValueError, TypeError) as exc:
            raise InputError("not an unencrypted PEM private key", source=str(path)) from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise InputError("expected an Ed25519 private key", source=str(path))
        return key
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return key


def _message(seq: int, digest: str, when: str) -> bytes:
    return f"{FORMAT} {seq} {digest} {when}".encode("ascii")


def public_hex(key: Ed25519PrivateKey) -> str:
    """The raw public key in hex (what an anchor carries)."""
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        .hex()
    )


def make_anchor(con: Connection, store_dir: Path) -> dict[str, Any]:
    """Sign the current chain head."""
    seq, digest = con.execute(text("SELECT seq, hash FROM audit_head WHERE id = 1")).one()
    key = load_or_create_key(store_dir)
    when = timestamp()
    return {"format": FORMAT, "seq": int(seq), "hash": digest, "time": when, "public_key": public_hex(key),
            "signature": key.sign(_message(int(seq), digest, when)).hex()}  # fmt: skip


def check_anchor(
    con: Connection, anchor_text: str, source: str, expected_public_key: str | None = None
) -> int:
    """Check an anchor's signature and that the chain still holds its hash at its entry.

    Returns the anchored entry number; ValidationError naming what does not hold.
    """
    try:
        a = json.loads(anchor_text)
        seq, digest, when, pub, sig = (
            int(a["seq"]),
            str(a["hash"]),
            str(a["time"]),
            str(a["public_key"]),
            str(a["signature"]),
        )
        if a.get("format") != FORMAT:
            raise ValueError(f"format {a.get('format')!r}")
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(pub))
        signature = bytes.fromhex(sig)
    except (ValueError, KeyError, TypeError) as exc:
        raise ValidationError(f"not a chaintrail audit anchor ({exc})", source=source) from exc
    if expected_public_key is not None and pub != expected_public_key:
        raise ValidationError(
            "signed by another key than this hub's", source=source, field="public_key"
        )
    try:
        key.verify(signature, _message(seq, digest, when))
    except InvalidSignature as exc:
        raise ValidationError(
            "the signature does not match the anchored head", source=source, field="signature"
        ) from exc
    row = con.execute(text("SELECT hash FROM audit_log WHERE seq = :s"), {"s": seq}).one_or_none()
    if row is None:
        raise ValidationError(
            f"the audit log has no entry {seq} any more (deleted)", source=source, field="seq"
        )
    if row[0] != digest:
        raise ValidationError(
            f"entry {seq} no longer has the anchored hash: history was rewritten",
            source=source,
            field="hash",
        )
    return seq
