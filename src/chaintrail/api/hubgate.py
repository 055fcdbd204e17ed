"""The API's door to the hub: the open database, and which hub user a presented key belongs to.

:class:`HubGate` opens the hub of the served store (or ``--hub-db``) once; a missing or stale
hub is not fatal for the chain API: hub routes then answer 503 with the command to run.
Key lookups are cached for one second, so a revoked key stops working within a second.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from fastapi import HTTPException, Request
from sqlalchemy.orm import Session

from chaintrail.errors import ChaintrailError, StoreError
from chaintrail.hub.credentials import hash_key
from chaintrail.hub.db import Hub, open_hub
from chaintrail.hub.directory import principal_for_key, principal_for_password
from chaintrail.hub.principal import Principal, new_request_id
from chaintrail.hub.service import perform
from chaintrail.hub.setup import local_principal

P = ParamSpec("P")
T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class HubCaller:
    """A key's user, as the access middleware needs it."""

    id: str  # the key id
    role: str  # analyst (write key) or reader (read-only key), for the chain API
    rate_limit: float | None
    principal: Principal


class HubGate:
    """The hub behind the API (opened on first use) and key -> user resolution."""

    def __init__(self, store_dir: Path, url: str | None, ttl: float = 1.0) -> None:
        self.store_dir = store_dir
        self.url = url
        self.ttl = ttl
        self._hub: Hub | None = None
        self._failed_at = -1e9
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, HubCaller | None]] = {}

    def hub(self) -> Hub:
        """The open hub; StoreError (503) saying what to run if it is missing or out of date."""
        if self._hub is not None:
            return self._hub
        with self._lock:
            if self._hub is None:
                try:
                    self._hub = open_hub(self.store_dir, self.url)
                except StoreError as exc:
                    self._failed_at = time.monotonic()
                    raise StoreError(f"the hub is not available: {exc}") from exc
        return self._hub

    def available(self) -> bool:
        """True if a hub database exists and is current (a failure is retried after 5 s)."""
        if self._hub is not None:
            return True
        if time.monotonic() - self._failed_at < 5.0:
            return False
        try:
            self.hub()
            return True
        except ChaintrailError:
            return False

    def cached(self, key: str) -> bool:
        """True if :meth:`lookup` of this key will not touch the database."""
        hit = self._cache.get(hash_key(key))
        return hit is not None and time.monotonic() - hit[0] <= self.ttl

    def lookup(self, key: str, user: str | None = None) -> HubCaller | None:
        """The hub user of an active key (``user``, from HTTP Basic, must be its owner), or of
        ``user``'s password sent as HTTP Basic; None if neither."""
        digest = hash_key(key)
        now = time.monotonic()
        hit = self._cache.get(digest)
        if hit is None or now - hit[0] > self.ttl:
            with self.hub().transaction() as s:
                found = principal_for_key(s, digest)
            caller = None
            if found is not None:
                principal, rec = found
                caller = HubCaller(
                    rec.id,
                    "analyst" if rec.access == "write" else "reader",
                    rec.rate_limit,
                    principal,
                )
            self._cache[digest] = hit = (now, caller)
        caller = hit[1]
        if caller is not None and user is not None and user != caller.principal.name:
            return None
        if caller is None and user is not None:  # HTTP Basic with the user's password
            return self._password(user, key)
        return caller

    def _password(self, user: str, password: str) -> HubCaller | None:
        digest = hash_key(f"{user}\0{password}")
        now = time.monotonic()
        hit = self._cache.get(digest)
        if hit is None or now - hit[0] > self.ttl:
            with self.hub().transaction() as s:
                principal = principal_for_password(s, user, password)
            caller = HubCaller(f"user:{user}", "analyst", None, principal) if principal else None
            self._cache[digest] = hit = (now, caller)
        return hit[1]

    def local(self) -> Principal:
        """The ``local`` user (who ``--no-auth`` serves)."""
        return local_principal(self.hub(), via="api")

    def close(self) -> None:
        """Release the database connections."""
        if self._hub is not None:
            self._hub.close()


def principal_of(request: Request) -> Principal:
    """Route helper: the caller as a hub principal, with this request's id and endpoint as
    provenance; 401 if it came in with a key the hub does not know."""
    gate: HubGate = request.app.state.hub
    who: Principal | None = getattr(request.state, "principal", None)
    if who is None:
        if getattr(request.state, "caller", "").startswith("host:"):  # --no-auth
            who = gate.local()
        else:
            raise HTTPException(
                401,
                "this API key belongs to no hub user: run `chaintrail hub migrate` to import it",
            )
    via = f"api:{request.method} {request.url.path}"
    rid = request.headers.get("x-request-id") or new_request_id()
    return dataclasses.replace(who, via=via, request_id=rid[:64])


def act(
    request: Request,
    fn: Callable[Concatenate[Session, Principal, P], T],
    *args: P.args,
    **kw: P.kwargs,
) -> T:
    """Run a hub function as the caller, in one audited transaction."""
    gate: HubGate = request.app.state.hub
    return perform(gate.hub(), principal_of(request), fn, *args, **kw)
