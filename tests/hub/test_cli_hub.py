"""The hub from the command line, on a real store (mainnet blocks 0-438): ``trace --case`` and
``link add --case`` file into a case, errors are one red line, nothing is half-written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from chaintrail.cli import main
from chaintrail.intel.store import IntelStore
from chaintrail.jobs.ingest import ingest_paths
from chaintrail.store import ChainStore

BLOCKS = Path(__file__).parents[1] / "data" / "btc" / "blk_mainnet_blocks_0-438.dat"
FIRST_PAYMENT = "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16"
HAL = "1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm3"


@pytest.fixture(scope="module")
def chain_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hub-cli-chain")
    store = ChainStore.open(root, create=True)
    ingest_paths(store, [BLOCKS])
    store.close()
    return root


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``chaintrail ARGS`` through the real entry point: (exit code, stdout, stderr)."""
    capsys.readouterr()
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def store(
    chain_store: Path, tmp_path: Path, db_url: str | None, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, list[str]]:
    """A copy of the chain store (a hub gets initialised by the test); it and the common options."""
    path = tmp_path / "store"
    shutil.copytree(chain_store, path)
    if db_url:  # as a deployment would: every command, trace and link included, finds it here
        monkeypatch.setenv("CHAINTRAIL_HUB_DB", db_url)
    return path, ["--store", str(path)]


def test_a_case_from_the_command_line(store, capsys) -> None:
    path, o = store
    assert run(capsys, "hub", "init", "--org", "BKA", "--country", "DE", *o)[0] == 0
    assert (
        run(capsys, "hub", "org", "add", "Europol EC3", "--kind", "hub", "--country", "NL", *o)[0]
        == 0
    )
    assert (
        run(capsys, "hub", "user", "add", "eve", "--org", "Europol EC3", "--role", "analyst", *o)[0]
        == 0
    )
    code, out, _ = run(capsys, "hub", "case", "open", "First payment", "--json", *o)
    case_id = str(json.loads(out)["id"])
    code, out, err = run(
        capsys, "trace", FIRST_PAYMENT, "--hops", "3", "--case", case_id, "--json", *o
    )
    assert code == 0, err
    assert f"trace filed into case {case_id}" in err
    code, out, err = run(
        capsys,
        "link",
        "add",
        HAL,
        "person:Hal Finney",
        "--evidence",
        "public record",
        "--case",
        case_id,
        *o,
    )
    assert code == 0, err
    code, out, _ = run(capsys, "hub", "case", "show", case_id, "--json", *o)
    case = json.loads(out)
    trace, link = case["items"]
    assert trace["kind"] == "trace" and trace["provenance"]["via"] == "cli:trace"
    assert trace["payload"]["params"]["hops"] == 3 and trace["payload"]["store_generation"] == 1
    assert {t["address"] for t in trace["payload"]["result"]["terminals"]} >= {HAL}
    assert link["kind"] == "link" and link["payload"]["dst"] == "person:Hal Finney"
    # eve (another organisation) sees nothing until it is shared
    code, _, err = run(capsys, "hub", "case", "show", case_id, "--as", "eve", *o)
    assert code == 1 and err.count("\n") == 1 and f"case {case_id}: no such case" in err
    assert run(capsys, "hub", "share", "case", case_id, "--org", "Europol EC3", *o)[0] == 0
    code, out, _ = run(capsys, "hub", "case", "show", case_id, "--as", "eve", "--json", *o)
    assert code == 0 and len(json.loads(out)["items"]) == 2
    code, out, _ = run(capsys, "hub", "case", "export", case_id, "--as", "eve", *o)
    assert code == 0 and "Hal Finney" in out
    code, out, _ = run(capsys, "audit", "verify", "--json", *o)
    assert code == 0 and json.loads(out)["ok"]


def test_errors_are_one_red_line_and_nothing_is_half_written(store, capsys) -> None:
    path, o = store
    run(capsys, "hub", "init", *o)
    run(capsys, "hub", "org", "add", "Other PD", "--kind", "police", "--country", "FR", *o)
    run(capsys, "hub", "user", "add", "olivier", "--org", "Other PD", "--role", "investigator", *o)
    code, out, _ = run(capsys, "hub", "case", "open", "Theirs", "--as", "olivier", "--json", *o)
    theirs = str(json.loads(out)["id"])
    cases = [
        (["hub", "case", "open", "x", "--tlp", "PURPLE"], "unknown TLP marking 'PURPLE'"),
        (
            ["hub", "org", "add", "Other PD", "--kind", "police", "--country", "FR"],
            "already exists",
        ),
        (["hub", "org", "add", "Atlantis", "--kind", "police", "--country", "QQ"], "ISO 3166"),
        (
            ["hub", "user", "add", "x", "--org", "Nowhere", "--role", "analyst"],
            "organisation 'Nowhere'",
        ),
        (["hub", "case", "attach", "1", str(path / "missing.pdf")], "missing.pdf"),
        (["hub", "case", "show", "1", "--as", "nobody"], "hub user 'nobody'"),
        (["link", "add", HAL, "ip:203.0.113.7", "--case", theirs], f"case {theirs}: no such case"),
    ]
    for args, words in cases:
        code, _, err = run(capsys, *args, *o)
        assert code != 0, args
        assert words in err and err.count("\n") == 1 and "Traceback" not in err, (args, err)
    # the refused `link add --case` stored no link either
    with IntelStore.open(path, read_only=True) as st:
        assert st.query("SELECT count(*) AS n FROM links")[0]["n"] == 0
