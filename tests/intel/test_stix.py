"""STIX 2.1: exports validate with stix2-validator and STIX -> chaintrail -> STIX keeps every field."""

from __future__ import annotations

import json

from chaintrail.intel.bundle import select_bundle, store_bundle
from chaintrail.intel.stix import bundle_to_stix, validate_stix
from chaintrail.intel.stix_import import parse_stix
from chaintrail.intel.stix_model import TLP_MARKINGS

from .conftest import TX, W, canon

_ = TX


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
    back = parse_stix(text)
    store_bundle(tmp_path / "dst", back, fmt="stix", source_name="x.json")
    again = select_bundle(tmp_path / "dst")
    assert canon(again) == canon(b)
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
    b = parse_stix(text)
    assert [(t["subject"], t["label"], t["concepts"], t["tlp"]) for t in b.tags] == [
        (W, "Ryuk wallet", ["ransomware"], "GREEN")
    ]
    assert b.tags[0]["confidence"] in ("service_api", "forensic_investigation")
    assert [(lk["src"], lk["dst"]) for lk in b.links] == [(f"address:{W}", "ip:198.51.100.3")]


def test_foreign_objects_we_do_not_store_are_reported_not_silently_dropped() -> None:
    text = json.dumps({"type": "bundle", "id": "bundle--2f7a3cbe-7a0f-4f86-9d0a-1d5b1f1f0c02", "objects": [
        {"type": "cryptocurrency-wallet", "spec_version": "2.1", "id": "cryptocurrency-wallet--0c6e6b3c-29a1-5a53-9c47-7d1b9a4b0e11", "value": W},
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--0c6e6b3c-29a1-4a53-9c47-7d1b9a4b0e21"},
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--0c6e6b3c-29a1-4a53-9c47-7d1b9a4b0e22"},
        {"type": "malware", "spec_version": "2.1", "id": "malware--0c6e6b3c-29a1-4a53-9c47-7d1b9a4b0e23"},
    ]})  # fmt: skip
    assert parse_stix(text).skipped == {"indicator": 2, "malware": 1}


def test_an_object_without_an_id_is_an_error_naming_it() -> None:
    import pytest

    from chaintrail.errors import DecodeError

    text = json.dumps({"type": "bundle", "id": "bundle--x", "objects": [{"type": "foo"}]})
    with pytest.raises(DecodeError, match=r"case.json: objects\[0\]: .*'id'"):
        parse_stix(text, "case.json")
