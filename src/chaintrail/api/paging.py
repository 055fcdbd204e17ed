"""Opaque page tokens: a client hands back ``next_page`` unchanged and gets the next page.

A token is URL-safe base64 of ``<scope>:<offset>``, where ``scope`` is a short digest of
the listing it belongs to (path and filters), so a token from one listing is refused by
another instead of silently paging through the wrong data.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from chaintrail.errors import ValidationError

MAX_PAGESIZE = 5000
DEFAULT_PAGESIZE = 100


def scope_of(*parts: object) -> str:
    """A short stable digest of what a listing is (endpoint, subject, filters)."""
    text = "\x1f".join(str(p) for p in parts)
    return hashlib.blake2s(text.encode(), digest_size=6).hexdigest()


def encode_token(scope: str, offset: int) -> str:
    """The opaque ``next_page`` value for the page that starts at ``offset``."""
    return base64.urlsafe_b64encode(f"{scope}:{offset}".encode()).decode().rstrip("=")


def decode_token(token: str | None, scope: str) -> int:
    """The offset a token points to (0 for no token); ValidationError if it is not ours."""
    if token is None or token == "":
        return 0
    try:
        padded = token + "=" * (-len(token) % 4)
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
        token_scope, _, raw_offset = text.partition(":")
        offset = int(raw_offset)
    except (ValueError, UnicodeError, binascii.Error) as exc:
        raise ValidationError(
            "expected a next_page value returned by this server", field="page"
        ) from exc
    if token_scope != scope or offset < 0 or not raw_offset.isdigit():
        raise ValidationError("this page token belongs to another listing", field="page")
    return offset


def page_window(total: int, offset: int, pagesize: int, scope: str) -> tuple[int, int, str | None]:
    """``(start, stop, next_page)`` of one page over ``total`` items."""
    stop = min(total, offset + pagesize)
    return offset, stop, encode_token(scope, stop) if stop < total else None
