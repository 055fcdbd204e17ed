"""A JSON-RPC 2.0 client over HTTP (httpx) with batch requests, for any chain's node.

Results come back as raw JSON bytes (``msgspec.Raw``) so each chain decodes them its own way:
typed structs for Ethereum, ``Decimal`` amounts for Bitcoin. Every failure — connection
refused, timeout, HTTP 401/403/5xx, an RPC ``error`` object, a non-JSON or malformed answer —
is a :class:`RemoteError` whose one line names the URL, the method and what happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx
import msgspec

from chaintrail.errors import RemoteError


class RpcErrorObject(msgspec.Struct):
    """The ``error`` member of a JSON-RPC reply."""

    code: int | None = None
    message: str | None = None
    data: msgspec.Raw = None  # type: ignore[assignment]


class RpcReply(msgspec.Struct):
    """One JSON-RPC reply; ``result`` left undecoded."""

    id: int | str | None = None
    jsonrpc: str | None = None
    result: msgspec.Raw = None  # type: ignore[assignment]
    error: RpcErrorObject | str | None = None


_REPLY: msgspec.json.Decoder[Any] = msgspec.json.Decoder(RpcReply | list[RpcReply])


class RpcCallError(RemoteError):
    """The node answered one call with an RPC ``error`` object (``code`` kept for fallbacks)."""

    def __init__(self, message: str, code: int | None) -> None:
        super().__init__(message)
        self.code = code


class JsonRpcClient:
    """JSON-RPC client of one node: ``JsonRpcClient(url, auth=(user, password))``.

    ``unreachable_hint`` completes "cannot connect" errors (e.g. "is the node running?"),
    ``refused_hint`` the HTTP 401/403 ones.
    Subclasses may override :meth:`_auth` (Bitcoin Core re-reads its cookie file).
    """

    version = "2.0"

    def __init__(self, url: str, *, auth: tuple[str | bytes, str | bytes] | None = None, timeout: float = 60.0,
                 unreachable_hint: str = "is the node running?",
                 refused_hint: str = "check the credentials in the URL or options") -> None:  # fmt: skip
        self.url = url
        self._basic = auth
        self._hint = unreachable_hint
        self._refused_hint = refused_hint
        self._http = httpx.Client(timeout=timeout)
        self._next_id = 0

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    def __enter__(self) -> JsonRpcClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _auth(self) -> tuple[str | bytes, str | bytes] | None:
        return self._basic

    def _post(self, payload: Any) -> RpcReply | list[RpcReply]:
        try:
            auth = self._auth()
            resp = self._http.post(self.url, content=msgspec.json.encode(payload),
                                   auth=auth if auth is not None else httpx.USE_CLIENT_DEFAULT,
                                   headers={"content-type": "application/json"})  # fmt: skip
        except httpx.ConnectError as exc:
            raise RemoteError(f"{self.url}: cannot connect ({exc}); {self._hint}") from exc
        except httpx.TimeoutException as exc:
            raise RemoteError(f"{self.url}: timed out ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise RemoteError(f"{self.url}: HTTP failure: {exc}") from exc
        if resp.status_code in (401, 403):
            raise RemoteError(f"{self.url}: HTTP {resp.status_code}, the node refused the credentials "
                              f"({self._refused_hint})")  # fmt: skip
        try:
            reply: RpcReply | list[RpcReply] = _REPLY.decode(resp.content)
            return reply
        except msgspec.DecodeError as exc:
            raise RemoteError(
                f"{self.url}: HTTP {resp.status_code}, answer is not JSON-RPC: {resp.text[:80]!r}"
            ) from exc

    def _result(self, reply: RpcReply, method: str) -> msgspec.Raw:
        err = reply.error
        if err is not None:
            code = err.code if isinstance(err, RpcErrorObject) else None
            msg = err.message if isinstance(err, RpcErrorObject) else err
            raise RpcCallError(f"{self.url}: {method} failed: RPC error {code}: {msg}", code)
        if reply.result is None:
            raise RemoteError(f"{self.url}: {method}: reply has no 'result'")
        return reply.result

    def call(self, method: str, *params: Any) -> msgspec.Raw:
        """Raw JSON result of one call (RemoteError on any failure)."""
        self._next_id += 1
        payload = {"jsonrpc": self.version, "id": self._next_id, "method": method, "params": list(params)}
        reply = self._post(payload)
        if isinstance(reply, list):
            raise RemoteError(f"{self.url}: {method}: a list answered a single call")
        return self._result(reply, method)

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[msgspec.Raw]:
        """Raw results of several calls sent as one JSON-RPC batch, in the order of ``calls``."""
        if not calls:
            return []
        first = self._next_id + 1
        payload = [{"jsonrpc": self.version, "id": first + i, "method": m, "params": list(p)}
                   for i, (m, p) in enumerate(calls)]  # fmt: skip
        self._next_id += len(calls)
        replies = self._post(payload)
        if isinstance(replies, RpcReply):  # whole batch refused
            self._result(replies, calls[0][0])
            raise RemoteError(f"{self.url}: batch of {len(calls)} calls got one reply")
        if len(replies) != len(calls):
            raise RemoteError(f"{self.url}: batch of {len(calls)} calls got {len(replies)} replies")
        by_id = {r.id: r for r in replies}
        out = []
        for i, (method, _) in enumerate(calls):
            reply = by_id.get(first + i)
            if reply is None:
                raise RemoteError(f"{self.url}: batch reply lacks the answer to {method} #{i}")
            out.append(self._result(reply, method))
        return out
