"""STIX 2.1, MISP and CSV: exports validate and round trips keep every field."""

from __future__ import annotations

import json

import pytest

from chaintrail.intel.attribution import add_tag
from chaintrail.intel.bundle import IntelBundle, select_bundle, store_bundle
from chaintrail.intel.csvio import write_tags_csv
from chaintrail.intel.importer import import_paths
from chaintrail.intel.misp import bundle_to_misp, misp_to_bundle
from chaintrail.intel.offchain import add_link
from chaintrail.intel.stix import TLP_MARKINGS, bundle_to_stix, stix_to_bundle, validate_stix

from .conftest import ACTORS, PACKS

W = "1Lud76Q98VRHCUiyK7XUs7AgFofrqXeP78"
TX = "0e3e2357e806b6cdb1f70b54c3a3a17b6714ee1f0e68bebb44a74b1efd512098"


@pytest.fixture
def intel(tmp_path):
    s = tmp_path / "src"
    import_paths(
        s, [PACKS / "demo.yaml", PACKS / "lazarus.yaml", PACKS / "ransomware.yaml", ACTORS]
    )
    add_tag(s, W, "7ev3n operator", abuse="ransomware", tlp="amber+strict", actor="lazarusgroup")
    add_tag(s, TX, "ransom payment", abuse="ransomware", subject_type="tx", tlp="red")
    add_tag(s, "42", "scam cluster", abuse="scam", subject_type="cluster")
    add_link(s, W, "account:binance:8812", relation="deposits-to", evidence="subpoena 17",
             observed_at="2024-03-01T10:00:00", confidence=90, dst_attrs={"kyc_name": "Jane Doe"})  # fmt: skip
    add_link(s, "account:binance:8812", "ip:203.0.113.7", relation="logged-in-from", evidence="login log",
             valid_from="2024-03-01T09:00:00", valid_to="2024-03-01T11:00:00")  # fmt: skip
    add_link(
        s,
        "account:binance:8812",
        "phone:+43 660 1234567",
        relation="registered-with",
        evidence="KYC",
    )
    add_link(
        s, "person:Jane Doe", "email:jane@example.org", relation="uses", evidence="KYC", tlp="green"
    )
    add_link(s, "cluster:42", "social:twitter:@scammer", relation="advertised-by", evidence="tweet")
    add_link(s, f"tx:{TX}", "person:Jane Doe", relation="paid-by", evidence="chat log")
    return s


def _canon(b: IntelBundle) -> tuple[list[str], list[str], list[str]]:
    dump = lambda xs: sorted(json.dumps(x, sort_keys=True, default=str) for x in xs)  # noqa: E731
    return (
        dump({k: v for k, v in t.items() if k != "pack_id"} for t in b.tags),
        dump(b.entities),
        dump(b.links),
    )


def test_stix_export_validates_and_round_trips(intel, tmp_path) -> None:
    b = select_bundle(intel)
    assert b.counts()["tags"] == 3 + 10 + 60 + 3 and b.counts()["links"] == 6
    text = bundle_to_stix(b)
    assert validate_stix(text) == []
    objs = json.loads(text)["objects"]
    wallet = next(o for o in objs if o["type"] == "cryptocurrency-wallet" and o["value"] == W)
    assert wallet["extensions"]["extension-definition--5edf3ee9-abfc-4b40-958e-679312f9db46"] == {
        "extension_type": "new-sco"
    }
    defs = {o["name"]: o for o in objs if o["type"] == "extension-definition"}
    assert defs["cryptocurrency-wallet"]["extension_types"] == ["new-sco"]
    note = next(o for o in objs if o["type"] == "note" and o["abstract"] == "7ev3n operator")
    assert (
        note["object_marking_refs"] == [TLP_MARKINGS["AMBER+STRICT"]]
        and wallet["id"] in note["object_refs"]
    )
    rel = next(
        o
        for o in objs
        if o["type"] == "relationship" and o["relationship_type"] == "logged-in-from"
    )
    assert (
        rel["start_time"] == "2024-03-01T09:00:00Z" and rel["stop_time"] == "2024-03-01T11:00:00Z"
    )
    assert any(o["type"] == "threat-actor" and o["name"] == "Lazarus Group" for o in objs)
    back = stix_to_bundle(text)
    store_bundle(tmp_path / "dst", back, fmt="stix", source_name="x.json")
    again = select_bundle(tmp_path / "dst")
    assert _canon(again) == _canon(b)
    by_id = lambda t: {o["id"]: o for o in json.loads(t)["objects"]}  # noqa: E731
    assert by_id(bundle_to_stix(again)) == by_id(text)  # the second export has identical objects


def test_foreign_stix_without_our_extensions(tmp_path) -> None:
    text = json.dumps({"type": "bundle", "id": "bundle--2f7a3cbe-7a0f-4f86-9d0a-1d5b1f1f0c01", "objects": [
        {"type": "cryptocurrency-wallet", "spec_version": "2.1", "id": "cryptocurrency-wallet--0c6e6b3c-29a1-5a53-9c47-7d1b9a4b0e11", "value": W},
        {"type": "ipv4-addr", "spec_version": "2.1", "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd", "value": "198.51.100.3"},
        {"type": "note", "spec_version": "2.1", "id": "note--0c6e6b3c-29a1-4a53-9c47-7d1b9a4b0e12", "created": "2024-01-02T00:00:00Z",
         "modified": "2024-01-02T00:00:00Z", "abstract": "Ryuk wallet", "content": "x", "labels": ["ransomware"], "confidence": 70,
         "object_refs": ["cryptocurrency-wallet--0c6e6b3c-29a1-5a53-9c47-7d1b9a4b0e11"],
         "object_marking_refs": [TLP_MARKINGS["GREEN"]]},
        {"type": "relationship", "spec_version": "2.1", "id": "relationship--0c6e6b3c-29a1-4a53-9c47-7d1b9a4b0e13",
         "created": "2024-01-02T00:00:00Z", "modified": "2024-01-02T00:00:00Z", "relationship_type": "related-to",
         "source_ref": "cryptocurrency-wallet--0c6e6b3c-29a1-5a53-9c47-7d1b9a4b0e11",
         "target_ref": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd"},
    ]})  # fmt: skip
    b = stix_to_bundle(text)
    assert [(t["subject"], t["label"], t["concepts"], t["tlp"]) for t in b.tags] == [
        (W, "Ryuk wallet", ["ransomware"], "GREEN")
    ]
    assert b.tags[0]["confidence"] in ("service_api", "forensic_investigation")
    assert [(lk["src"], lk["dst"]) for lk in b.links] == [(f"address:{W}", "ip:198.51.100.3")]


def test_misp_round_trip_keeps_every_field(intel, tmp_path) -> None:
    b = select_bundle(intel)
    text = bundle_to_misp(b)
    ev = json.loads(text)["Event"]
    names = {o["name"] for o in ev["Object"]}
    assert {
        "coin-address",
        "btc-wallet",
        "btc-transaction",
        "person",
        "phone-number",
        "ip-port",
        "user-account",
    } <= names
    coin = next(o for o in ev["Object"] if o["name"] == "coin-address"
                and any(a["value"] == "7ev3n operator" for a in o["Attribute"]))  # fmt: skip
    addr = next(a for a in coin["Attribute"] if a["object_relation"] == "address")
    assert addr["value"] == W and "tlp:amber+strict" in {t["name"] for t in addr["Tag"]}
    back = misp_to_bundle(text)
    store_bundle(tmp_path / "dst", back, fmt="misp", source_name="e.json")
    assert _canon(select_bundle(tmp_path / "dst")) == _canon(b)


def test_csv_round_trip(intel, tmp_path) -> None:
    b = select_bundle(intel, addresses=[W])
    assert {t["label"] for t in b.tags} == {"7ev3n", "7ev3n operator"}
    out = tmp_path / "tags.csv"
    write_tags_csv(b.tags, out)
    import_paths(tmp_path / "dst", [out])
    again = select_bundle(tmp_path / "dst", addresses=[W])

    def strip(ts: list[dict]) -> list[str]:
        return sorted(
            json.dumps(
                {k: v for k, v in t.items() if k not in ("pack_id", "network")}, sort_keys=True
            )
            for t in ts
        )

    assert strip(again.tags) == strip(b.tags)
    assert again.links == [] or all(lk["src"] for lk in again.links)
