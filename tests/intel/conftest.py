"""Shared paths of the intel tests (real packs and lists copied into tests/data/intel)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chaintrail.intel.attribution import add_tag
from chaintrail.intel.bundle import IntelBundle
from chaintrail.intel.importer import import_paths
from chaintrail.intel.offchain import add_link

DATA = Path(__file__).resolve().parents[1] / "data"
INTEL = DATA / "intel"
PACKS = INTEL / "packs"
ACTORS = INTEL / "actors" / "graphsense.actorpack.yaml"
OFAC = INTEL / "ofac"
BLK = DATA / "btc" / "blk_mainnet_blocks_0-438.dat"


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


def canon(b: IntelBundle) -> tuple[list[str], list[str], list[str]]:
    dump = lambda xs: sorted(json.dumps(x, sort_keys=True, default=str) for x in xs)  # noqa: E731
    return (
        dump({k: v for k, v in t.items() if k != "pack_id"} for t in b.tags),
        dump(b.entities),
        dump(b.links),
    )
