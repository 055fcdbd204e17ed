"""A real store (mainnet blocks 0-438, clustered, real GraphSense packs) and a live server."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import httpx
import pytest

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="session")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Blocks 0-438 ingested by the ingest job, clustered, real tag/actor packs imported."""
    from chaintrail.analysis.clustering import run_clustering
    from chaintrail.intel.importer import import_paths
    from chaintrail.jobs.ingest import ingest_paths
    from chaintrail.store import ChainStore

    root = tmp_path_factory.mktemp("apistore")
    store = ChainStore.open(root, create=True)
    ingest_paths(store, [DATA / "btc" / "blk_mainnet_blocks_0-438.dat"])
    run_clustering(store)
    store.close()
    import_paths(root, [DATA / "api_intel"])
    return root


@pytest.fixture(scope="session")
def keys(store_dir: Path) -> dict[str, str]:
    """One reader and one analyst key."""
    from chaintrail.api.keys import KeyStore

    ks = KeyStore(store_dir)
    return {"reader": ks.create("reader", "tests")[0], "analyst": ks.create("analyst", "tests")[0]}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server(store_dir: Path, keys: dict[str, str]):
    """uvicorn on a loopback port in a thread, auth on; yields the base URL."""
    import uvicorn

    from chaintrail.api.app import ApiSettings, create_app

    app = create_app(ApiSettings(store_dir, rate_limit=10_000))
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz").status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.05)
    app.state.ctx.warm()
    yield base
    srv.should_exit = True
    thread.join(timeout=10)
