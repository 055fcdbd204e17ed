"""Issue 10 F: proxy headers, CORS on refusals, owner-only intel files, checked off-chain
references and labels, and a corrupt key file, each against a real server."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from liveserver import free_port, serving

from chaintrail.api.app import ApiSettings, create_app

HAL = "1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm3"
SATOSHI = "12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S"


@contextmanager
def chaintrail_serve(*args: str) -> Iterator[str]:
    """``chaintrail serve ARGS`` in its own process on a free port; yields the base URL."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "chaintrail", "serve", "--port", str(port), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()[1]
            try:
                httpx.get(base + "/healthz")
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)


@pytest.mark.parametrize("trusted", [False, True])
def test_forwarded_for_counts_only_from_a_configured_proxy(store_dir: Path, trusted: bool):
    extra = ["--trusted-proxy", "127.0.0.1"] if trusted else []
    with chaintrail_serve("--store", str(store_dir), "--no-auth", "--rate-limit", "1", *extra) as base:
        codes = [
            httpx.get(f"{base}/api/tags/taxonomies", headers={"X-Forwarded-For": f"203.0.113.{i}"})
            .status_code
            for i in range(6)
        ]  # fmt: skip
    if trusted:  # each forwarded client has its own bucket behind a proxy we were told about
        assert codes == [200] * 6
    else:  # rotating the header must not escape the limit
        assert codes[:2] == [200, 200] and codes.count(429) >= 3, codes


def test_refusals_carry_cors_headers(store_dir: Path):
    from fastapi.testclient import TestClient

    origin = {"Origin": "https://case.example"}
    app = create_app(ApiSettings(store_dir, rate_limit=1, cors_origins=["https://case.example"]))
    with TestClient(app) as client:
        r = client.get("/api/stats", headers=origin)
        assert r.status_code == 401
        assert r.headers["access-control-allow-origin"] == "https://case.example"
    app = create_app(ApiSettings(store_dir, auth=False, rate_limit=1,
                                 cors_origins=["https://case.example"]))  # fmt: skip
    with TestClient(app) as client:
        codes = [client.get("/api/tags/taxonomies", headers=origin) for _ in range(4)]
        refused = [r for r in codes if r.status_code == 429]
        assert refused and refused[0].headers["access-control-allow-origin"] == origin["Origin"]


def _private(path: Path) -> bool:
    return path.stat().st_mode & 0o077 == 0


def test_files_holding_intelligence_are_owner_only(store_dir: Path, tmp_path: Path):
    root = tmp_path / "store"
    shutil.copytree(store_dir, root)
    db = root / "intel.duckdb"
    db.chmod(0o644)  # as an older chaintrail left it
    cli = [sys.executable, "-m", "chaintrail"]
    done = subprocess.run([*cli, "link", "add", HAL, "email:hal@example.org", "--tlp", "RED",
                           "--store", str(root)], capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert _private(db)
    app = create_app(ApiSettings(root, auth=False, rate_limit=0))
    with serving(app, warm=False) as base:
        r = httpx.post(f"{base}/v1/btc/addresses/{HAL}/offchain",
                       json={"ref": "phone:+43 660 1234567", "tlp": "RED"})  # fmt: skip
        assert r.status_code == 200, r.text
        r = httpx.post(f"{base}/api/tags/report-tag",
                       json={"address": HAL, "network": "btc", "label": "suspect"})  # fmt: skip
        assert r.status_code == 200, r.text
    for path in (db, db.with_name("intel.duckdb.wal"), root / "reported_tags.jsonl"):
        assert not path.exists() or _private(path), oct(path.stat().st_mode)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"ref": "nocolon"}, "ref"),
        ({"ref": "address:../../etc/passwd"}, "ref"),
        ({"ref": "tx:not-a-hash"}, "ref"),
        ({"ref": "person:Mallory\x00"}, "ref"),
        ({"ref": "email:m@example.org", "relation": "paid\x00by"}, "relation"),
        ({"ref": "email:m@example.org", "note": "a\x00b"}, "note"),
    ],
)
def test_bad_offchain_references_and_text_are_a_400_naming_the_field(
    server: str, keys: dict[str, str], body: dict, field: str
):
    r = httpx.post(f"{server}/v1/btc/addresses/{SATOSHI}/offchain", json=body,
                   headers={"Authorization": keys["analyst"]})  # fmt: skip
    assert r.status_code == 400, r.text
    assert f"field {field!r}" in r.json()["detail"]


def test_labels_with_nul_bytes_are_refused(server: str, keys: dict[str, str], tmp_path: Path):
    from chaintrail.errors import ValidationError
    from chaintrail.intel.attribution import add_tag

    r = httpx.post(f"{server}/api/tags/report-tag",
                   json={"address": HAL, "network": "btc", "label": "evil\x00label"},
                   headers={"Authorization": keys["analyst"]})  # fmt: skip
    assert r.status_code in (400, 422) and "label" in r.json()["detail"], r.text
    with pytest.raises(ValidationError, match="label"):
        add_tag(tmp_path, HAL, "evil\x00label", abuse="ransomware")
    assert not (tmp_path / "intel.duckdb").exists()


def test_link_add_refuses_a_bad_reference_in_one_line(tmp_path: Path):
    for ref in ("nocolon", "address:../../etc/passwd"):
        done = subprocess.run(
            [sys.executable, "-m", "chaintrail", "link", "add", HAL, ref, "--store", str(tmp_path)],
            capture_output=True, text=True,
        )  # fmt: skip
        assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
        assert "ref" in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_a_corrupt_key_file_answers_503_without_a_traceback(
    store_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    root = tmp_path / "store"
    shutil.copytree(store_dir, root)
    (root / "api_keys.json").write_text('{"keys": [{"id": ')
    app = create_app(ApiSettings(root, rate_limit=0))
    with caplog.at_level(logging.INFO), serving(app, warm=False) as base:
        r = httpx.get(f"{base}/api/stats", headers={"Authorization": "ct_ab_cd"})
    assert r.status_code == 503 and "api_keys.json" in r.json()["detail"], r.text
    assert not [rec for rec in caplog.records if rec.exc_info], "a traceback was logged"
    assert os.path.exists(root / "api_keys.json")
