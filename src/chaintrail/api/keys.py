"""API keys: created by ``chaintrail apikey create``, stored hashed in ``<store>/api_keys.json``.

A key is ``ct_<id>_<secret>``; only the SHA-256 of the whole key is kept (keys are 256-bit
random, so a fast hash is enough), with its id, role, name, optional rate limit and
revocation time. Writes go to a temp file and ``os.replace`` so a crash never truncates it;
every read-modify-write holds an exclusive ``flock`` on ``api_keys.json.lock``, so concurrent
``apikey create``/``revoke`` runs (processes or threads) never lose each other's change.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import secrets
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from chaintrail.errors import NotFoundError, StoreError, UsageError

KEYS_FILE = "api_keys.json"
ROLES = ("reader", "analyst")


@dataclass
class KeyRecord:
    """One stored key (never the key itself)."""

    id: str
    role: str
    name: str
    sha256: str
    created: int
    rate_limit: float | None = None  # requests/s; None = the server default
    revoked: int | None = None


def hash_key(key: str) -> str:
    """Hex SHA-256 of a presented key."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class KeyStore:
    """The key file of one store directory."""

    def __init__(self, store_dir: Path) -> None:
        self.path = Path(store_dir) / KEYS_FILE

    def load(self) -> list[KeyRecord]:
        """All records (revoked ones included); [] when no key was ever created."""
        try:
            raw = json.loads(self.path.read_text())
            return [KeyRecord(**rec) for rec in raw["keys"]]
        except FileNotFoundError:
            return []
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise StoreError(f"{self.path}: not a chaintrail API key file ({exc})") from exc

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the key file's writer lock (blocks until other writers are done)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path.with_name(KEYS_FILE + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def _save(self, records: list[KeyRecord]) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".api_keys.", suffix=".tmp")
        with os.fdopen(fd, "w") as fh:
            json.dump({"keys": [asdict(r) for r in records]}, fh, indent=2)
        os.replace(tmp, self.path)  # mkstemp made it 0600: keep hashes private

    def create(
        self, role: str, name: str = "", rate_limit: float | None = None
    ) -> tuple[str, KeyRecord]:
        """Make a new key; returns ``(key, record)``. The key is shown once and never stored."""
        if role not in ROLES:
            raise UsageError(f"role {role!r}: expected one of {', '.join(ROLES)}")
        if rate_limit is not None and rate_limit <= 0:
            raise UsageError(f"rate limit {rate_limit}: expected a positive number of requests/s")
        key_id = secrets.token_hex(4)
        key = f"ct_{key_id}_{secrets.token_urlsafe(32)}"
        rec = KeyRecord(key_id, role, name, hash_key(key), int(time.time()), rate_limit)
        with self._locked():
            self._save([*self.load(), rec])
        return key, rec

    def revoke(self, key_id: str) -> KeyRecord:
        """Mark a key revoked (it stays listed); NotFoundError for an unknown id."""
        with self._locked():
            records = self.load()
            for rec in records:
                if rec.id == key_id:
                    if rec.revoked is None:
                        rec.revoked = int(time.time())
                        self._save(records)
                    return rec
        raise NotFoundError(f"API key id {key_id!r}: no such key in {self.path}")


class KeyIndex:
    """Active keys by hash, reloaded when the file changes (so a revoke applies at once)."""

    def __init__(self, store: KeyStore, recheck_seconds: float = 1.0) -> None:
        self.store = store
        self.recheck_seconds = recheck_seconds
        self._by_hash: dict[str, KeyRecord] = {}
        self._mtime: float | None = -1.0
        self._checked = 0.0

    def _refresh(self) -> None:
        now = time.monotonic()
        if now - self._checked < self.recheck_seconds:
            return
        self._checked = now
        try:
            mtime: float | None = self.store.path.stat().st_mtime_ns
        except FileNotFoundError:
            mtime = None
        if mtime != self._mtime:
            self._by_hash = {r.sha256: r for r in self.store.load() if r.revoked is None}
            self._mtime = mtime

    def lookup(self, key: str) -> KeyRecord | None:
        """The active record of a presented key, or None."""
        self._refresh()
        return self._by_hash.get(hash_key(key))
