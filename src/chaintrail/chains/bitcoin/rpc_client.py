"""A small Bitcoin Core JSON-RPC client over HTTP (httpx), with batch requests.

Every failure — connection refused, timeout, HTTP 401/403/5xx, an RPC ``error`` object, a
non-JSON answer — is a :class:`RemoteError` whose one line names the URL and what happened.
Responses are parsed with ``parse_float=Decimal`` so BTC amounts are never floats.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from chaintrail.errors import RemoteError, UsageError


class RpcClient:
    """JSON-RPC client of one node: ``RpcClient(url, user=, password=, cookie_file=)``.

    Credentials come from ``user``/``password`` or from Core's ``.cookie`` file
    (``__cookie__:<secret>``), which is re-read on a 401 in case the node restarted.
    """

    def __init__(
        self,
        url: str,
        *,
        user: str | None = None,
        password: str | None = None,
        cookie_file: str | Path | None = None,
        timeout: float = 60.0,
    ) -> None:
        if cookie_file is not None and (user is not None or password is not None):
            raise UsageError("give either user/password or a cookie file, not both")
        self.url = url
        self._user, self._password = user, password
        self._cookie_file = Path(cookie_file) if cookie_file is not None else None
        self._http = httpx.Client(timeout=timeout)
        self._next_id = 0

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    def __enter__(self) -> RpcClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _auth(self) -> tuple[str, str] | None:
        if self._cookie_file is not None:
            try:
                user, _, password = self._cookie_file.read_text().strip().partition(":")
            except OSError as exc:
                raise RemoteError(
                    f"{self.url}: cannot read cookie file {self._cookie_file}: {exc.strerror}"
                ) from exc
            return user, password
        if self._user is not None:
            return self._user, self._password or ""
        return None

    def _post(self, payload: Any) -> Any:
        try:
            resp = self._http.post(self.url, json=payload, auth=self._auth())
        except httpx.ConnectError as exc:
            raise RemoteError(f"{self.url}: cannot connect ({exc}); is bitcoind running?") from exc
        except httpx.TimeoutException as exc:
            raise RemoteError(f"{self.url}: timed out ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise RemoteError(f"{self.url}: HTTP failure: {exc}") from exc
        if resp.status_code in (401, 403):
            raise RemoteError(
                f"{self.url}: HTTP {resp.status_code}, the node refused the credentials "
                "(check --rpc-user/--rpc-password or the cookie file)"
            )
        try:
            body = json.loads(resp.text, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            raise RemoteError(
                f"{self.url}: HTTP {resp.status_code}, answer is not JSON: {resp.text[:80]!r}"
            ) from exc
        if resp.status_code >= 400 and not isinstance(body, dict | list):
            raise RemoteError(f"{self.url}: HTTP {resp.status_code}")
        return body

    def _result(self, reply: Any, method: str) -> Any:
        if not isinstance(reply, dict):
            raise RemoteError(f"{self.url}: {method}: malformed JSON-RPC reply {reply!r:.80}")
        err = reply.get("error")
        if err:
            code = err.get("code") if isinstance(err, dict) else None
            msg = err.get("message") if isinstance(err, dict) else err
            raise RemoteError(f"{self.url}: {method} failed: RPC error {code}: {msg}")
        if "result" not in reply:
            raise RemoteError(f"{self.url}: {method}: reply has no 'result'")
        return reply["result"]

    def call(self, method: str, *params: Any) -> Any:
        """Result of one RPC call (RemoteError on any failure)."""
        self._next_id += 1
        payload = {"jsonrpc": "1.0", "id": self._next_id, "method": method, "params": list(params)}
        return self._result(self._post(payload), method)

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """Results of several calls sent as one JSON-RPC batch, in the order of ``calls``."""
        if not calls:
            return []
        first = self._next_id + 1
        payload = [
            {"jsonrpc": "1.0", "id": first + i, "method": m, "params": list(p)}
            for i, (m, p) in enumerate(calls)
        ]
        self._next_id += len(calls)
        replies = self._post(payload)
        if isinstance(replies, dict):  # whole batch refused
            self._result(replies, calls[0][0])
        if not isinstance(replies, list) or len(replies) != len(calls):
            raise RemoteError(f"{self.url}: batch of {len(calls)} calls got a malformed reply")
        by_id = {r.get("id"): r for r in replies if isinstance(r, dict)}
        out = []
        for i, (method, _) in enumerate(calls):
            reply = by_id.get(first + i)
            if reply is None:
                raise RemoteError(f"{self.url}: batch reply lacks the answer to {method} #{i}")
            out.append(self._result(reply, method))
        return out

    def getblockcount(self) -> int:
        """Height of the node's best chain tip."""
        return int(self.call("getblockcount"))

    def getblockhash(self, height: int) -> str:
        """Display-hex hash of the block at ``height``."""
        return str(self.call("getblockhash", int(height)))

    def getblock(self, block_hash: str, verbosity: int = 2) -> Any:
        """``getblock`` result (verbosity 2: verbose transactions)."""
        return self.call("getblock", block_hash, verbosity)
