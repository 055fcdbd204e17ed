"""The intel CLI end to end: tags import/show/sanctioned, link add/show, export and import."""

from __future__ import annotations

import json
from pathlib import Path

from chaintrail.cli import main

DATA = Path(__file__).resolve().parents[1] / "data" / "intel"
SEED = "1Lud76Q98VRHCUiyK7XUs7AgFofrqXeP78"
YAN = "12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h"


def run(capsys, *args: str) -> tuple[int, str, str]:
    """Run the CLI in-process; returns (exit code, stdout, stderr)."""
    code = 0
    try:
        main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_import_show_and_sanctions(capsys, tmp_path) -> None:
    s = str(tmp_path / "store")
    code, out, _ = run(
        capsys,
        "tags",
        "import",
        str(DATA / "packs"),
        str(DATA / "actors"),
        str(DATA / "ofac"),
        "--store",
        s,
        "--json",
    )
    summary = json.loads(out)
    assert (
        code == 0
        and summary["tags"] == 401
        and summary["actors"] == 3
        and summary["list_entries"] == 308
    )
    code, out, _ = run(capsys, "tags", "show", SEED, "--store", s, "--json")
    tags = json.loads(out)["tags"]
    assert code == 0 and [t["label"] for t in tags] == ["7ev3n"]
    assert {k: tags[0][k] for k in ("category", "concepts", "actor", "confidence", "tlp")} == {
        "category": None, "concepts": ["ransomware"], "actor": None, "confidence": "forensic", "tlp": "CLEAR"}  # fmt: skip
    assert tags[0]["source"].startswith("https://zenodo.org/")
    code, out, _ = run(capsys, "tags", "show", YAN, "--store", s, "--json")
    # the OFAC list (authority_data, 60) ranks above the INTERPOL-scraped ofac.yaml pack (unknown, 5)
    labels = [t["label"] for t in json.loads(out)["tags"]]
    assert labels == [
        "OFAC SDN: YAN, Xiaobing [SDNTK]",
        "Asset listed under US Treasury OFAC Sanctions List",
    ]
    code, out, _ = run(
        capsys, "tags", "sanctioned", YAN, "--on", "2023-01-01", "--store", s, "--json"
    )
    res = json.loads(out)
    assert res["sanctioned"] is True and res["lists"][0]["list_id"] == "ofac-sdn"
    code, out, _ = run(
        capsys, "tags", "sanctioned", YAN, "--on", "2021-01-01", "--store", s, "--json"
    )
    assert json.loads(out)["sanctioned"] is False


def test_bad_pack_is_one_red_line_with_file_and_line(capsys, tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "title: t\ncreator: c\nsource: s\ncurrency: BTC\nconfidence: forensic\ntags:\n- address: 1A\n  labl: x\n"
    )
    code, out, err = run(capsys, "tags", "import", str(bad), "--store", str(tmp_path / "s"))
    assert code == 1 and out == ""
    assert f"{bad}:8, field 'labl': field not allowed in a tag" in err and "Traceback" not in err


def test_links_and_exchange_round_trip(capsys, tmp_path) -> None:
    s = str(tmp_path / "store")
    run(capsys, "tags", "import", str(DATA / "packs" / "ransomware.yaml"), "--store", s)
    code, out, _ = run(capsys, "link", "add", SEED, "account:binance:8812", "--relation", "deposits-to",
                       "--evidence", "subpoena 17", "--at", "2024-03-01T10:00:00", "--confidence", "90",
                       "--attr", "kyc_name=Jane Doe", "--store", s, "--json")  # fmt: skip
    assert code == 0 and json.loads(out)["dst"] == "account:binance:8812"
    run(capsys, "link", "add", "account:binance:8812", "ip:203.0.113.7", "--relation", "logged-in-from",
        "--from", "2024-03-01T09:00", "--until", "2024-03-01T11:00", "--store", s)  # fmt: skip
    code, out, _ = run(capsys, "link", "show", SEED, "--store", s, "--json")
    ents = {e["id"]: e for e in json.loads(out)["entities"]}
    assert ents["ip:203.0.113.7"]["distance"] == 2 and ents["account:binance:8812"]["attrs"] == {
        "kyc_name": "Jane Doe"
    }
    for fmt in ("stix", "misp", "csv"):
        out_file = tmp_path / f"x.{fmt}"
        code, out, _ = run(
            capsys, "export", fmt, "--address", SEED, "--out", str(out_file), "--store", s, "--json"
        )
        assert code == 0 and json.loads(out)["tags"] == 1
        other = str(tmp_path / f"other-{fmt}")
        code, _, err = run(capsys, "import", fmt, str(out_file), "--store", other)
        assert code == 0, err
        code, out, _ = run(capsys, "tags", "show", SEED, "--store", other, "--json")
        assert [t["label"] for t in json.loads(out)["tags"]] == ["7ev3n"]
        if fmt != "csv":
            code, out, _ = run(capsys, "link", "show", SEED, "--store", other, "--json")
            assert len(json.loads(out)["entities"]) == 3
