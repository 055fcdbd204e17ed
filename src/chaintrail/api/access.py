"""Who may call: API-key authentication and per-key rate limiting, as one ASGI middleware.

A key arrives in ``Authorization`` as ``KEY`` or ``Bearer KEY`` (what ``graphsense-python``
sends), or as the password of HTTP Basic ``USER:KEY`` (what TAXII clients send; the user must
own the key). Keys are looked up in the hub first (keys belong to hub users; the old
``api_keys.json`` keys are imported there) and then in the old key file. No/unknown key -> 401;
too many requests -> 429 with ``Retry-After``; an unreadable key file -> 503 naming it (every
caller the hub does not know is refused until it is fixed). The key's role is put in
``scope["state"]["role"]`` for :func:`require_analyst`, its hub user in
``scope["state"]["principal"]``. Without auth (``--no-auth``, loopback only) every caller is an
analyst (the hub's ``local`` user) and is rate-limited per client host.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import HTTPException, Request
from starlette.concurrency import run_in_threadpool

from chaintrail.api.docs import ASSET_PATH
from chaintrail.api.hubgate import HubGate
from chaintrail.api.keys import KeyIndex
from chaintrail.api.ratelimit import TokenBuckets
from chaintrail.errors import StoreError

log = logging.getLogger("chaintrail.api")

OPEN_PATHS = frozenset({"/openapi.json", "/docs", "/docs/oauth2-redirect", "/healthz"})

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]


def presented_credentials(headers: list[tuple[bytes, bytes]]) -> tuple[str | None, str | None]:
    """``(key, user)`` from the Authorization header: ``KEY``, ``Bearer KEY`` or Basic
    ``USER:KEY`` (user None for the first two); ``(None, None)`` without one."""
    for name, value in headers:
        if name == b"authorization":
            text = value.decode("latin-1").strip()
            scheme, _, rest = text.partition(" ")
            if rest and scheme.lower() == "bearer":
                text = rest.strip()
            elif rest and scheme.lower() == "basic":
                try:
                    user, _, key = (
                        base64.b64decode(rest.strip(), validate=True).decode().partition(":")
                    )
                except (binascii.Error, UnicodeDecodeError):
                    return None, None
                return key or None, user
            return text or None, None
    return None, None


def presented_key(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The key in the Authorization header (``KEY``, ``Bearer KEY`` or Basic), or None."""
    return presented_credentials(headers)[0]


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
        hub: HubGate | None = None,
    ) -> None:
        self.app = app
        self.keys = keys
        self.buckets = buckets
        self.hub = hub

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS or scope["method"] == "OPTIONS" \
                or scope["path"].startswith(ASSET_PATH):  # fmt: skip
            await self.app(scope, receive, send)
            return
        rate: float | None = None
        principal = None
        if self.keys is None:
            role, who = "analyst", "host:" + (scope.get("client") or ("local", 0))[0]
        else:
            key, user = presented_credentials(scope["headers"])
            if key is None:
                await _reply(
                    send,
                    401,
                    "missing API key: send it in the Authorization header as KEY or Bearer KEY",
                    [(b"www-authenticate", b"Bearer")],
                )
                return
            record = None
            if self.hub is not None and self.hub.available():
                if self.hub.cached(key):
                    record = self.hub.lookup(key, user)
                else:  # a database query: keep it off the event loop
                    record = await run_in_threadpool(self.hub.lookup, key, user)
            if record is not None:
                principal = record.principal
            elif user is None:
                try:
                    record = self.keys.lookup(key)
                except StoreError as exc:  # e.g. a damaged key file: refuse, clearly
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
        scope["state"]["principal"] = principal
        await self.app(scope, receive, send)


def require_analyst(request: Request) -> str:
    """Route dependency: 403 unless the caller's key has the analyst role; returns the caller."""
    if getattr(request.state, "role", None) != "analyst":
        raise HTTPException(403, "this API key has the reader role; writing needs an analyst key")
    return request.state.caller
