"""Who may call: API-key authentication and per-key rate limiting, as one ASGI middleware.

A key arrives in ``Authorization`` as ``KEY`` or ``Bearer KEY`` (what ``graphsense-python``
sends). No/unknown key -> 401; too many requests -> 429 with ``Retry-After``; an unreadable
key file -> 503 naming it (every caller is refused until it is fixed). The key's role
is put in ``scope["state"]["role"]`` for :func:`require_analyst`. Without auth (``--no-auth``,
loopback only) every caller is an analyst and is rate-limited per client host.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import HTTPException, Request

from chaintrail.api.keys import KeyIndex
from chaintrail.api.ratelimit import TokenBuckets
from chaintrail.errors import StoreError

log = logging.getLogger("chaintrail.api")

OPEN_PATHS = frozenset({"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", "/healthz"})

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]


def presented_key(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The key in the Authorization header (``KEY`` or ``Bearer KEY``), or None."""
    for name, value in headers:
        if name == b"authorization":
            text = value.decode("latin-1").strip()
            scheme, _, rest = text.partition(" ")
            if rest and scheme.lower() == "bearer":
                text = rest.strip()
            return text or None
    return None


async def _reply(send: Send, status: int, detail: str, extra: list[tuple[bytes, bytes]]) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class AccessMiddleware:
    """Authenticate, rate-limit, and record the caller's role before any route runs."""

    def __init__(
        self,
        app: Callable,
        keys: KeyIndex | None,
        buckets: TokenBuckets | None,
    ) -> None:
        self.app = app
        self.keys = keys
        self.buckets = buckets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        rate: float | None = None
        if self.keys is None:
            role, who = "analyst", "host:" + (scope.get("client") or ("local", 0))[0]
        else:
            key = presented_key(scope["headers"])
            if key is None:
                await _reply(
                    send,
                    401,
                    "missing API key: send it in the Authorization header as KEY or Bearer KEY",
                    [(b"www-authenticate", b"Bearer")],
                )
                return
            try:
                record = self.keys.lookup(key)
            except StoreError as exc:  # e.g. a damaged key file: refuse everyone, clearly
                log.error("refusing requests: %s", exc)
                await _reply(send, 503, str(exc), [])
                return
            if record is None:
                await _reply(
                    send,
                    401,
                    "API key not accepted: unknown or revoked (create one with "
                    "`chaintrail apikey create`)",
                    [(b"www-authenticate", b"Bearer")],
                )
                return
            role, who, rate = record.role, "key:" + record.id, record.rate_limit
        if self.buckets is not None:
            wait = self.buckets.take(who, rate)
            if wait > 0:
                await _reply(
                    send,
                    429,
                    f"rate limit exceeded for {who}: retry in {wait:.2f} s",
                    [(b"retry-after", str(math.ceil(wait)).encode())],
                )
                return
        scope.setdefault("state", {})["role"] = role
        scope["state"]["caller"] = who
        await self.app(scope, receive, send)


def require_analyst(request: Request) -> str:
    """Route dependency: 403 unless the caller's key has the analyst role; returns the caller."""
    if getattr(request.state, "role", None) != "analyst":
        raise HTTPException(403, "this API key has the reader role; writing needs an analyst key")
    return request.state.caller
