"""``chaintrail serve`` says "serving" only once the server accepts connections (issue 10,
item 9): a user who reads the line and sends a request at once gets an answer."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from .clirun import cli

BLOCKS = Path(__file__).parent.parent / "data" / "btc" / "blk_mainnet_blocks_0-438.dat"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("serve-store")
    assert cli("ingest", str(BLOCKS), "--store", str(path), "--json")[0] == 0
    assert cli("cluster", "--store", str(path), "--json")[0] == 0
    return path


def test_serving_is_said_when_requests_are_answered(store: Path) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "chaintrail", "serve", "--store", str(store), "--port", str(port),
         "--no-auth"],
        stderr=subprocess.PIPE, text=True, env=dict(os.environ, COLUMNS="200"),
    )  # fmt: skip
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + 120
        seen = []
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            seen.append(line)
            if line.startswith("serving") or not line:
                break
        assert seen and seen[-1].startswith("serving"), seen
        assert f"http://127.0.0.1:{port}" in seen[-1]
        r = httpx.get(f"http://127.0.0.1:{port}/api/stats", timeout=10)  # at once: no retry
        assert r.status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
