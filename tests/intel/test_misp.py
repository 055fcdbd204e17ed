"""MISP: coin-address/btc-wallet/btc-transaction objects; MISP -> chaintrail -> MISP keeps every field."""

from __future__ import annotations

import json

from chaintrail.intel.bundle import select_bundle, store_bundle
from chaintrail.intel.misp import bundle_to_misp, misp_to_bundle

from .conftest import W, canon


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
    assert canon(select_bundle(tmp_path / "dst")) == canon(b)
