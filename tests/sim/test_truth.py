"""Truth files: every on-chain address attributed; the TagPack is a realistic, valid subset."""

from __future__ import annotations

import yaml

from chaintrail.chains.bitcoin.address import encode_address_keys
from chaintrail.sim.ledger import ROLES

CATEGORIES = {
    "exchange",
    "mixing_service",
    "gambling",
    "market",
    "miner",
    "coinjoin",
    "perpetrator",
}


def test_addresses_cover_exactly_the_chain(tiny) -> None:
    on_chain = {a for a in encode_address_keys(tiny.batch.out_addr_key) if a}
    assert set(tiny.addresses["address"]) == on_chain
    n_ent = len(tiny.entities["entity_id"])
    assert all(0 <= e < n_ent for e in tiny.addresses["entity_id"])
    assert set(tiny.addresses["role"]) <= set(ROLES)
    assert tiny.entities["entity_id"] == list(range(n_ent))


def test_tagpack_tags_a_subset_of_services(tiny) -> None:
    pack = yaml.safe_load((tiny.result.out_dir / "truth" / "services.tagpack.yaml").read_text())
    assert {"title", "creator", "tags", "currency", "confidence", "source"} <= set(pack)
    owner = dict(zip(tiny.addresses["address"], tiny.addresses["entity_id"], strict=True))
    kinds, names = tiny.entities["kind"], tiny.entities["name"]
    scam_seed = next(s for s in tiny.scenarios if s["name"] == "scam")["seed_addresses"][0]
    tagged_kinds = set()
    for tag in pack["tags"]:
        e = owner[tag["address"]]
        assert tag["label"] == names[e] and tag["category"] in CATEGORIES
        if kinds[e] in ("ransomware", "hacker", "darknet_admin", "scammer", "user"):
            assert tag["address"] == scam_seed, f"{kinds[e]} address tagged"
        tagged_kinds.add(kinds[e])
    assert {
        "exchange",
        "mixer",
        "gambling",
        "darknet_market",
        "mining_pool",
        "scammer",
    } <= tagged_kinds
    service_addrs = [a for a, e in owner.items() if kinds[e] in ("exchange", "mixer", "gambling")]
    assert len(pack["tags"]) < 0.5 * len(service_addrs)
