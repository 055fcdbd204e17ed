"""Bad input to ``chaintrail follow`` and ``watch add``: one red line, a non-zero exit, nothing lost."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from chaintrail.sim.node import SimNode

from .conftest import SimChain, Watched


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chaintrail", *args], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "200"}, timeout=120)  # fmt: skip


def _one_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode != 0
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


def _sqlite_only(fn):  # type: ignore[no-untyped-def]
    fn.hub_backends = ("sqlite",)
    return fn


@_sqlite_only
def test_node_errors_are_one_line_and_leave_the_store_as_it_was(watched: Watched, sim_chain: SimChain,
                                                                db_url: str | None) -> None:
    s = ["--store", str(watched.store)]
    assert "cannot connect" in _one_line(_run("follow", "--rpc", "http://127.0.0.1:9/", "--once", *s))
    other = SimNode(sim_chain.blocks, tip=10, network="test")
    try:
        line = _one_line(_run("follow", "--rpc", other.url, "--rpc-user", "sim", "--rpc-password", "sim", "--once", *s))
        assert "'test'" in line and "mainnet" in line
        line = _one_line(_run("follow", "--rpc", other.url, "--rpc-user", "sim", "--rpc-password", "bad", "--once", *s))
        assert "HTTP 401" in line
    finally:
        other.close()
    assert not (watched.store / "MANIFEST.json").exists() or '"tip_hash": null' in (watched.store / "MANIFEST.json").read_text()
    assert "either --rpc" in _one_line(_run("follow", *s))


@_sqlite_only
def test_watch_add_refuses_bad_subjects_and_parameters(watched: Watched, db_url: str | None,
                                                       tmp_path: Path) -> None:
    s = ["--store", str(watched.store)]
    assert "address" in _one_line(_run("watch", "add", "x", "--address", "bc1qnotanaddress", *s)).lower()
    assert "needs at least one watched subject" in _one_line(_run("watch", "add", "x", *s))
    assert "min_percent" in _one_line(_run("watch", "add", "x", "--kind", "taint", "--address",
                                           "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "--min-percent", "150", *s))
    assert "no address is tagged" in _one_line(_run("watch", "add", "x", "--kind", "service", "--address",
                                                    "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "--service", "Nobody", *s))
    ok = _run("watch", "add", "genesis", "--address", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "--json", *s)
    assert ok.returncode == 0 and '"kind": "movement"' in ok.stdout
