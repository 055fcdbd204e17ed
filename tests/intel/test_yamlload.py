"""The pack YAML loader: GraphSense's rules (0x text, duplicate keys, !include) and line numbers."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from chaintrail.errors import DecodeError, ValidationError
from chaintrail.intel.yamlload import load_yaml, loads_yaml

from .conftest import PACKS


def test_unquoted_hex_stays_text_and_yaml11_scalars_resolve() -> None:
    doc = loads_yaml(b"a: 0x12ab\nb: 017\nc: [1, 2.5, ~, off, yes]\nd: 2021-11-14\n", "t.yaml")
    assert doc == {
        "a": "0x12ab",
        "b": "017",
        "c": [1, 2.5, None, False, True],
        "d": dt.date(2021, 11, 14),
    }


def test_duplicate_key_names_file_and_line() -> None:
    with pytest.raises(ValidationError, match=r"^t\.yaml:3: duplicate key 'a'"):
        loads_yaml(b"a: 1\nb: 2\na: 3\n", "t.yaml")


def test_syntax_error_names_line() -> None:
    with pytest.raises(DecodeError, match=r"^t\.yaml:2: not valid YAML"):
        loads_yaml(b"a: [1\nb: 2\n", "t.yaml")


def test_include_is_replaced_by_the_included_file(tmp_path) -> None:
    (tmp_path / "common.yaml").write_text("creator: Team\nsource: https://x\n")
    (tmp_path / "p.yaml").write_text("header: !include common.yaml\ntitle: T\n")
    assert load_yaml(tmp_path / "p.yaml") == {
        "header": {"creator": "Team", "source": "https://x"},
        "title": "T",
    }
    (tmp_path / "loop.yaml").write_text("x: !include loop.yaml\n")
    with pytest.raises(ValidationError, match="includes itself"):
        load_yaml(tmp_path / "loop.yaml")


@pytest.mark.parametrize(
    "name", ["ransomware.yaml", "ofac.yaml", "usdt_blacklist.yaml", "demo.yaml"]
)
def test_same_result_as_pyyaml_on_real_packs(name: str) -> None:
    path = PACKS / name
    assert load_yaml(path) == yaml.safe_load(path.read_text())


def test_line_numbers_of_tags() -> None:
    doc = load_yaml(PACKS / "ransomware.yaml")
    first = doc["tags"][0]
    assert first["address"] == "1Lud76Q98VRHCUiyK7XUs7AgFofrqXeP78"
    assert first.line == 10 and first.line_of("label") == 11
