"""Off-chain entities and links: canonical references and "everything within 2 links"."""

from __future__ import annotations

import pytest

from chaintrail.errors import NotFoundError, ValidationError
from chaintrail.intel.offchain import add_link, neighbourhood, parse_ref

W = "1Lud76Q98VRHCUiyK7XUs7AgFofrqXeP78"


def test_references_are_canonical() -> None:
    assert parse_ref("email:Jane@Example.ORG") == ("email", "jane@example.org")
    assert parse_ref("phone:+43 (660) 123-4567") == ("phone", "+436601234567")
    assert parse_ref("ip:2001:DB8::1") == ("ip", "2001:db8::1")
    assert parse_ref("social:Twitter:@scam") == ("social", "twitter:@scam")
    assert parse_ref("0xABCDEF0000000000000000000000000000000000") == (
        "address",
        "0xabcdef0000000000000000000000000000000000",
    )
    for bad in ("ip:999.1.1.1", "email:nope", "account:binance", "cluster:x"):
        with pytest.raises(ValidationError):
            parse_ref(bad)


def test_two_link_neighbourhood_with_evidence_and_times(tmp_path) -> None:
    add_link(tmp_path, W, "account:binance:8812", relation="deposits-to", evidence="subpoena 17",
             observed_at="2024-03-01T10:00:00Z", confidence=90, dst_attrs={"kyc_name": "Jane Doe"})  # fmt: skip
    add_link(tmp_path, "account:binance:8812", "ip:203.0.113.7", relation="logged-in-from", evidence="login log",
             valid_from="2024-03-01T09:00", valid_to="2024-03-01T11:00", confidence="service_data")  # fmt: skip
    add_link(tmp_path, "ip:203.0.113.7", "email:jane@example.org", evidence="isp records")
    n = neighbourhood(tmp_path, W)
    dist = {e["id"]: e["distance"] for e in n["entities"]}
    assert dist == {f"address:{W}": 0, "account:binance:8812": 1, "ip:203.0.113.7": 2}
    acct = next(e for e in n["entities"] if e["kind"] == "account")
    assert acct["attrs"] == {"kyc_name": "Jane Doe"}
    ip_link = next(lk for lk in n["links"] if lk["dst"] == "ip:203.0.113.7")
    assert ip_link["valid_from"] == "2024-03-01T09:00:00" and ip_link["confidence"] == 50
    assert ip_link["evidence"] == "login log"
    assert len(neighbourhood(tmp_path, W, depth=3)["entities"]) == 4
    # the same link again replaces, never duplicates
    add_link(tmp_path, "ip:203.0.113.7", "email:jane@example.org", evidence="isp records")
    assert len(neighbourhood(tmp_path, "email:jane@example.org", depth=1)["links"]) == 1
    with pytest.raises(NotFoundError):
        neighbourhood(tmp_path, "1BoatSLRHtKNngkdXEeobR76b53LETtpyT")
