"""A Bitcoin Core JSON-RPC client: the generic batched client plus Core's cookie auth.

Transport, batching and error translation are :class:`chaintrail.chains.jsonrpc.JsonRpcClient`'s
(every failure one :class:`RemoteError` line naming the URL). This adds Core's ``.cookie``
credentials and parses results with ``parse_float=Decimal`` so BTC amounts are never floats.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec

from chaintrail.chains.jsonrpc import JsonRpcClient
from chaintrail.errors import RemoteError, UsageError


def _loads(raw: msgspec.Raw) -> Any:
    return json.loads(bytes(raw), parse_float=Decimal)


class RpcClient(JsonRpcClient):
    """JSON-RPC client of one node: ``RpcClient(url, user=, password=, cookie_file=)``.

    Credentials come from ``user``/``password`` or from Core's ``.cookie`` file
    (``__cookie__:<secret>``), which is re-read on every request in case the node restarted.
    """

    version = "1.0"

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
        super().__init__(
            url,
            auth=(user, password or "") if user is not None else None,
            timeout=timeout,
            unreachable_hint="is bitcoind running?",
            refused_hint="check --rpc-user/--rpc-password or the cookie file",
        )
        self._cookie_file = Path(cookie_file) if cookie_file is not None else None

    def __enter__(self) -> RpcClient:
        return self

    def _auth(self) -> tuple[str | bytes, str | bytes] | None:
        if self._cookie_file is None:
            return super()._auth()
        try:
            user, _, password = self._cookie_file.read_text().strip().partition(":")
        except OSError as exc:
            raise RemoteError(
                f"{self.url}: cannot read cookie file {self._cookie_file}: {exc.strerror}"
            ) from exc
        return user, password

    def call(self, method: str, *params: Any) -> Any:
        """Result of one RPC call, parsed (RemoteError on any failure)."""
        return _loads(super().call(method, *params))

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """Parsed results of several calls sent as one JSON-RPC batch, in the order of ``calls``."""
        return [_loads(r) for r in super().batch(calls)]

    def getblockcount(self) -> int:
        """Height of the node's best chain tip."""
        return int(self.call("getblockcount"))

    def getblockhash(self, height: int) -> str:
        """Display-hex hash of the block at ``height``."""
        return str(self.call("getblockhash", int(height)))

    def getblock(self, block_hash: str, verbosity: int = 2) -> Any:
        """``getblock`` result (verbosity 2: verbose transactions)."""
        return self.call("getblock", block_hash, verbosity)
