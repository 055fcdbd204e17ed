"""Bad input on the CLI is one red line naming the field and what was expected (issue 10, item 8):
trace starts that are no address, txid or outpoint, and malformed STIX, MISP, CSV and TagPack
files (nothing of them stored)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .clirun import BLOCKS, cli_store, one_red_line, run

SATOSHI_BLOCK9 = "12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S"
EXPECTED = "expected an ADDRESS, a TXID (64 hex digits) or TXID:VOUT"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return cli_store(tmp_path_factory.mktemp("input-errors") / "store", ["ingest", str(BLOCKS)])


@pytest.mark.parametrize(
    ("start", "says"),
    [
        ("deadbeef", "8 hex digits, a TXID has 64"),
        ("clstr:12", "unknown kind 'clstr'"),
        ("1BoatSLRHtKNngkdXEeobR76b53LETtpyX", "not an address (bad Base58Check checksum"),
        ("0x52908400098527886E0F7030069857D2E4169EE7", "not an address"),
    ],
)
def test_a_start_that_is_nothing_traceable_says_what_a_start_is(capsys, store: Path, start: str, says: str) -> None:
    code, _, err = run(capsys, "trace", start, "--store", str(store))
    assert code == 2
    assert f"trace start {start!r}: {says}" in one_red_line(err) and EXPECTED in err


def test_several_starts_are_checked_the_same_way(capsys, store: Path) -> None:
    code, _, err = run(capsys, "trace", SATOSHI_BLOCK9, "deadbeef", "--store", str(store))
    assert code == 2 and "trace start 'deadbeef'" in one_red_line(err)


def test_a_cluster_start_is_never_read_as_base58(capsys, store: Path) -> None:
    code, _, err = run(capsys, "trace", "cluster:4468", "--store", str(store))
    assert code != 0 and "4468" in one_red_line(err)
    assert "Base58" not in err


@pytest.mark.parametrize(
    ("fmt", "content", "says"),
    [
        ("misp", '{"Event": 5}', "field 'Event': expected an object, got a number (5)"),
        ("misp", "[1, 2]", 'expected a MISP event ({"Event": {...}}), got a list'),
        ("misp", '{"Event": {"info": "x", "Object": [{"name": "coin-address", "Attribute": 5}]}}',
         "field 'Event.Object[0].Attribute': expected a list of objects, got a number (5)"),
        ("misp", '{"Event": {"info": "x", "Object": [{"name": "btc-wallet", "comment": "{\\"entity\\": []}"}]}}',
         "field 'Event.Object[0].comment.entity': expected an object, got a list"),
        ("misp", '{"Event": {"info": "x", "date": "last tuesday"}}',
         "field 'Event.date': expected an ISO date, got the text 'last tuesday'"),
        ("stix", '{"type": "bundle", "id": "bundle--1", "objects": [{"type": "cryptocurrency-wallet", "id": "w", "value": 5}]}',
         "field 'objects[0].value': expected non-empty text, got a number (5)"),
        ("stix", '{"type": "bundle", "id": "bundle--1", "objects": [{"type": "note", "id": "n", "object_refs": 5}]}',
         "field 'objects[0].object_refs': expected a list of object ids, got a number (5)"),
        ("stix", '{"type": "bundle", "id": "bundle--1", "objects": [{"type": "relationship", "id": "r", "source_ref": "a", "target_ref": "b"}]}',
         "field 'objects[0].relationship_type': missing"),
    ],
)  # fmt: skip
def test_a_malformed_file_is_one_red_line_naming_the_field(
    capsys, tmp_path: Path, fmt: str, content: str, says: str
) -> None:
    f = tmp_path / "case.json"
    f.write_text(content)
    store = tmp_path / "store"
    code, _, err = run(capsys, "import", fmt, str(f), "--store", str(store))
    assert code == 1
    assert f"{f}, {says}" in one_red_line(err) or f"{f}: {says}" in err, err
    assert "object has no attribute" not in err and "PyMISP" not in err


def test_a_stix_tag_record_of_the_wrong_type_stores_nothing(capsys, tmp_path: Path) -> None:
    tag_ext = "extension-definition--055c8ed5-01b6-41c2-86f0-0390f6b5d0d7"
    doc = {"type": "bundle", "id": "bundle--1", "objects": [
        {"type": "cryptocurrency-wallet", "id": "w1", "value": SATOSHI_BLOCK9},
        {"type": "note", "id": "n1", "object_refs": ["w1"], "extensions": {tag_ext: {
            "extension_type": "property-extension", "subject_type": "address",
            "subject": SATOSHI_BLOCK9, "label": 5}}},
    ]}  # fmt: skip
    f = tmp_path / "case.json"
    f.write_text(json.dumps(doc))
    store = tmp_path / "store"
    code, _, err = run(capsys, "import", "stix", str(f), "--store", str(store))
    assert code == 1
    assert f"{f}, field 'label': tag {SATOSHI_BLOCK9!r}: expected non-empty text, got a number (5)" in one_red_line(err)
    assert not (store / "intel.duckdb").exists()  # nothing stored: not even an empty database
    code, _, err = run(capsys, "tags", "show", SATOSHI_BLOCK9, "--store", str(store), "--json")
    assert code == 1 and "no chaintrail store" in err  # and no "no tags" answer from nowhere


def test_a_tagpack_tag_with_an_empty_address_names_the_line(capsys, tmp_path: Path) -> None:
    pack = tmp_path / "pack.yaml"
    pack.write_text("title: t\ncreator: c\nsource: s\ncurrency: BTC\nconfidence: forensic\n"
                    "tags:\n- address: ''\n  label: x\n")  # fmt: skip
    code, _, err = run(capsys, "tags", "import", str(pack), "--store", str(tmp_path / "s"))
    assert code == 1
    assert f"{pack}:7, field 'address': expected an address or hash, got empty text" in one_red_line(err)
