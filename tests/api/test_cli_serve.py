"""``chaintrail apikey create|list|revoke`` and ``serve``'s refusals, through the real CLI."""

from __future__ import annotations

import json
import subprocess
import sys


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "chaintrail", *args], capture_output=True, text=True
    )


def test_apikey_lifecycle(tmp_path):
    made = run(
        "apikey",
        "create",
        "--role",
        "analyst",
        "--name",
        "case 17",
        "--store",
        str(tmp_path),
        "--json",
    )
    assert made.returncode == 0, made.stderr
    key = json.loads(made.stdout)
    assert key["key"].startswith(f"ct_{key['id']}_") and key["role"] == "analyst"
    listed = json.loads(run("apikey", "list", "--store", str(tmp_path), "--json").stdout)
    assert [(k["id"], k["name"], k["revoked"]) for k in listed] == [(key["id"], "case 17", None)]
    assert key["key"] not in (tmp_path / "api_keys.json").read_text()
    assert run("apikey", "revoke", key["id"], "--store", str(tmp_path)).returncode == 0
    assert json.loads(run("apikey", "list", "--store", str(tmp_path), "--json").stdout)[0][
        "revoked"
    ]


def test_bad_role_and_unknown_key_are_one_red_line(tmp_path):
    bad = run("apikey", "create", "--role", "admin", "--store", str(tmp_path))
    assert bad.returncode == 2 and "reader, analyst" in bad.stderr and "Traceback" not in bad.stderr
    gone = run("apikey", "revoke", "deadbeef", "--store", str(tmp_path))
    assert gone.returncode == 1 and "deadbeef" in gone.stderr


def test_serve_refuses_no_auth_off_loopback_and_a_missing_store(store_dir, tmp_path):
    wide = run("serve", "--store", str(store_dir), "--host", "0.0.0.0", "--no-auth")
    assert wide.returncode == 2 and "loopback" in wide.stderr
    empty = run("serve", "--store", str(tmp_path / "nothing"))
    assert empty.returncode == 2 and "no chain store" in empty.stderr
