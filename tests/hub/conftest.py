"""Every hub test runs on SQLite and on the real PostgreSQL server of this machine.

PostgreSQL: 127.0.0.1:5432, trust auth, database ``test``; each test gets a schema of its own
(``hub_<random>``, set as the connection's search_path) that is dropped afterwards, so
engineers sharing the server never see each other's tables. ``$CHAINTRAIL_TEST_PG`` overrides
the libpq DSN. The PostgreSQL half fails (not skips) when the server is down: CI starts it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest

from chaintrail.hub.db import Hub, open_hub
from chaintrail.hub.setup import init_hub

PG_DSN = os.environ.get("CHAINTRAIL_TEST_PG", "host=127.0.0.1 port=5432 dbname=test user=postgres")
BACKENDS = ("sqlite", "postgresql")


def pg_url(schema: str) -> str:
    """A SQLAlchemy URL for the test server with ``schema`` as search_path."""
    parts = dict(p.split("=", 1) for p in PG_DSN.split())
    return (f"postgresql+psycopg://{parts.get('user', 'postgres')}@{parts.get('host', '127.0.0.1')}:"
            f"{parts.get('port', '5432')}/{parts.get('dbname', 'test')}?options=-csearch_path%3D{schema}")  # fmt: skip


@dataclass
class HubEnv:
    """An initialised hub: its store folder, database URL (None: SQLite in the store), backend."""

    store: Path
    url: str | None
    backend: str

    def open(self) -> Hub:
        """Open it (the caller closes)."""
        return open_hub(self.store, self.url)


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | None]:
    """None (SQLite in the store) or a PostgreSQL URL with a fresh schema."""
    if request.param == "sqlite":
        yield None
        return
    schema = f"hub_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_DSN, autocommit=True) as con:
        con.execute(f"CREATE SCHEMA {schema}")
    try:
        yield pg_url(schema)
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as con:
            con.execute(f"DROP SCHEMA {schema} CASCADE")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every test that uses ``db_url`` (directly or through ``hub_env``) on both backends."""
    if "db_url" in metafunc.fixturenames:
        backends = [
            b for b in BACKENDS if b in getattr(metafunc.function, "hub_backends", BACKENDS)
        ]
        metafunc.parametrize("db_url", backends, indirect=True)


def postgres_only(fn):  # type: ignore[no-untyped-def]
    """Mark a test to run on PostgreSQL only (what it measures exists only there)."""
    fn.hub_backends = ("postgresql",)
    return fn


@pytest.fixture
def hub_env(tmp_path: Path, db_url: str | None) -> HubEnv:
    """A hub initialised in a fresh store folder, home organisation "Home Police" (AT)."""
    store = tmp_path / "store"
    init_hub(store, db_url, org="Home Police", country="AT", kind="police")
    return HubEnv(store, db_url, "sqlite" if db_url is None else "postgresql")


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServerProcess:
    """``uvicorn`` serving the API over a hub in a child process (so it can be killed)."""

    env: HubEnv
    port: int
    proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        """The server's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, workers: int = 1) -> None:
        """Start and wait until it answers /healthz."""
        settings = {"store_dir": str(self.env.store), "auth": True, "host": "127.0.0.1", "rate_limit": 0,
                    "cors_origins": [], "hub_db": self.env.url}  # fmt: skip
        env = {**os.environ, "CHAINTRAIL_API_SETTINGS": json.dumps(settings)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "chaintrail.api.server:app_from_env", "--factory", "--host", "127.0.0.1",
             "--port", str(self.port), "--workers", str(workers), "--log-level", "warning"],
            env=env,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.base + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}")
        raise RuntimeError("server did not come up in 60 s")

    def kill(self) -> None:
        """kill -9."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        """Terminate and wait."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)


@pytest.fixture
def server(hub_env: HubEnv) -> Iterator[ServerProcess]:
    """A live server over ``hub_env`` (stopped after the test)."""
    srv = ServerProcess(hub_env, free_port())
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()
