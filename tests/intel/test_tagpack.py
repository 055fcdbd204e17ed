"""TagPack validation on real packs, and bad packs rejected with file:line."""

from __future__ import annotations

import pytest

from chaintrail.errors import ValidationError
from chaintrail.intel.tagpack import parse_tagpack
from chaintrail.intel.taxonomy import load_taxonomy

from .conftest import PACKS


def test_taxonomy_has_93_concepts_and_14_confidence_levels() -> None:
    taxo = load_taxonomy()
    assert len(taxo.concepts) == 93
    assert taxo.confidence["ownership"] == 100 and taxo.confidence["forensic"] == 50
    assert taxo.confidence["authority_data"] == 60 and taxo.lowest_confidence == "unknown"
    assert "abuse" in taxo.ancestors("ransomware")


def _tags(pack) -> list[dict]:
    cols = pack.columns
    return [{k: cols[k][i] for k in cols} for i in range(pack.n_tags)]


def test_ransomware_seed_address_has_family_label_and_inherited_header() -> None:
    pack = parse_tagpack(PACKS / "ransomware.yaml")
    assert pack.n_tags == 60 and pack.pack_id == "ransomware.yaml"
    tag = next(t for t in _tags(pack) if t["subject"] == "1Lud76Q98VRHCUiyK7XUs7AgFofrqXeP78")
    assert (
        tag["label"] == "7ev3n"
        and tag["abuse"] == "ransomware"
        and tag["concepts"] == ["ransomware"]
    )
    assert tag["confidence"] == "forensic" and tag["confidence_level"] == 50
    assert (
        tag["currency"] == "BTC" and tag["network"] == "BTC" and tag["is_cluster_definer"] is True
    )
    assert tag["source"] == "https://zenodo.org/record/1238041#.XLQwopMzZR4" and tag["line"] == 10
    assert tag["tlp"] == "CLEAR" and tag["provenance"] == "pack"
    assert sum(t["label"] == "Cryptolocker" for t in _tags(pack)) == 2


def test_ofac_pack_without_confidence_gets_lowest_level_with_warning() -> None:
    pack = parse_tagpack(PACKS / "ofac.yaml")
    assert pack.n_tags == 270
    assert set(pack.columns["confidence"]) == {"unknown"}
    assert any("confidence" in w for w in pack.warnings)
    assert pack.columns["label"][0] == "Asset listed under US Treasury OFAC Sanctions List"


def test_concepts_context_and_hex_addresses_kept() -> None:
    ex = parse_tagpack(PACKS / "etherscan-wordcloud-exchange.yaml")
    assert all(c == ["exchange"] for c in ex.columns["concepts"])
    assert ex.columns["subject"][1] == "0x686C650dbcFEaa75D09B883621Ad810F5952bD5d"
    assert ex.columns["subject_key"][1] == "0x686c650dbcfeaa75d09b883621ad810f5952bd5d"
    usdt = parse_tagpack(PACKS / "usdt_blacklist.yaml")
    assert all(isinstance(s, str) and s.startswith("0x") for s in usdt.columns["subject"])
    assert '"token": "USDT"' in usdt.columns["context"][0]


def test_bad_btc_checksum_is_a_warning_with_line() -> None:
    pack = parse_tagpack(PACKS / "plustoken.yaml")
    assert pack.n_tags == 9
    assert pack.warnings == [f"{PACKS / 'plustoken.yaml'}:11: possibly invalid BTC address (checksum or format): "
                             "1MFgcyJ7ZNSknbTBRaih6zWDE6V1A64tRYs"]  # fmt: skip


def test_duplicate_tags_are_dropped_with_warning(tmp_path) -> None:
    p = tmp_path / "dup.yaml"
    p.write_text("title: t\ncreator: c\nsource: s\ncurrency: BTC\nconfidence: forensic\nlabel: x\ntags:\n"
                 "- address: 1Lud76Q98VRHCUiyK7XUs7AgFofrqXeP78\n- address: 1Lud76Q98VRHCUiyK7XUs7AgFofrqXeP78\n")  # fmt: skip
    pack = parse_tagpack(p)
    assert pack.n_tags == 1 and pack.n_duplicates == 1 and ":9: duplicate tag" in pack.warnings[0]


HEADER = "title: t\ncreator: c\nsource: s\ncurrency: BTC\n"


@pytest.mark.parametrize(
    ("body", "where", "what"),
    [
        ("confidence: forensic\ntags:\n- address: 1A\n  label: x\n  colour: red\n", ":9, field 'colour'", "not allowed"),
        ("confidence: forensic\ntags:\n- address: 1A\n  label: x\n  confidence: sure\n", ":9, field 'confidence'", "unknown confidence"),
        ("confidence: forensic\ntags:\n- address: 1A\n  label: x\n  label: y\n", ":9:", "duplicate key 'label'"),
        ("confidence: forensic\ntags:\n- address: 1A\n  source: y\n", ":7, field 'label'", "mandatory"),
        ("confidence: forensic\ncategory: bank\ntags:\n- address: 1A\n  label: x\n", ":6, field 'category'", "unknown concept"),
        ("confidence: forensic\ntags:\n- address: 1A\n  label: x\n  actor: null\n", ":9, field 'actor'", "null"),
        ("confidence: forensic\ntags:\n- label: x\n", ":7", "exactly one of 'address' and 'tx_hash'"),
    ],
)  # fmt: skip
def test_bad_packs_fail_with_file_and_line(tmp_path, body: str, where: str, what: str) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text(HEADER + body)
    with pytest.raises(ValidationError) as info:
        parse_tagpack(p)
    assert str(info.value).startswith(f"{p}{where}") and what in str(info.value)


def test_header_mapping_and_tx_hash_tags(tmp_path) -> None:
    p = tmp_path / "tx.yaml"
    p.write_text("header:\n  title: t\n  creator: c\nsource: s\ncurrency: BTC\nconfidence: ownership\ntags:\n"
                 "- tx_hash: AB" + "00" * 31 + "\n  label: ransom payment\n")  # fmt: skip
    pack = parse_tagpack(p)
    assert pack.columns["subject_type"] == ["tx"] and pack.columns["subject_key"] == [
        "ab" + "00" * 31
    ]
    assert pack.title == "t" and pack.columns["confidence_level"] == [100]
