"""Cases and items through the API: kinds, provenance, attachments, redacted shares, bad input."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from chaintrail.api.app import ApiSettings, create_app
from chaintrail.hub.db import FILES_DIR
from chaintrail.hub.setup import init_hub

from .conftest import HubEnv
from .world import EXCHANGE, PARTNER, World, build_world

TRACE = {"direction": "forward", "model": "haircut", "seeds": "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "hops": 3,
         "nodes": [{"id": "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "kind": "address", "seed": True, "label": None, "category": None},
                   {"id": "12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S", "kind": "address", "seed": False, "label": "Exchange Y", "category": "exchange"}],
         "edges": [], "terminals": [{"address": "12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S", "cluster_id": 7, "label": "Exchange Y",
                                     "category": "exchange", "amount": 5000, "reasons": ["service"], "confidence": 1.0, "paths": []}],
         "traced": 5000, "fee": 0, "cut": [], "hops_done": 3, "txs_crossed": 1}  # fmt: skip


@pytest.fixture
def api(hub_env: HubEnv) -> Iterator[tuple[TestClient, World, HubEnv]]:
    hub = hub_env.open()
    world = build_world(hub)
    hub.close()
    app = create_app(ApiSettings(hub_env.store, rate_limit=0, hub_db=hub_env.url))
    with TestClient(app) as client:
        yield client, world, hub_env
    app.state.hub.close()


def _case(client: TestClient, world: World, tlp: str = "AMBER") -> int:
    r = client.post(
        "/v1/hub/cases",
        headers=world.auth("a-owner"),
        json={"title": "Ransomware wave", "tlp": tlp},
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_every_item_kind_is_filed_with_provenance(api) -> None:
    client, world, _ = api
    h = world.auth("a-owner")
    case_id = _case(client, world)
    payloads = [
        ("address", {"address": "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"}),
        ("tx", {"txid": "F4184FC596403B9D638783CF57ADFE4C75C605F6356FBC91338530E9831E9E16"}),
        ("cluster", {"cluster_id": 7, "clustering_generation": 3, "store_generation": 2, "addresses": ["1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"]}),
        ("trace", {"targets": ["1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"], "params": {"hops": 3}, "store_generation": 2, "result": TRACE}),
        ("tag", {"subject": "12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S", "label": "Exchange Y deposit", "category": "exchange", "source": "subpoena 12/2026"}),
        ("entity", {"ref": "person:Jane Doe", "attrs": {"passport": "X123"}}),
        ("link", {"src": "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "dst": "ip:203.0.113.7", "relation": "logged-in-from", "evidence": "ISP records"}),
        ("note", {"markdown": "# Findings\nThe ransom went to **Exchange Y**."}),
    ]  # fmt: skip
    for kind, payload in payloads:
        r = client.post(
            f"/v1/hub/cases/{case_id}/items", headers=h, json={"kind": kind, "payload": payload}
        )
        assert r.status_code == 201, (kind, r.text)
        item = r.json()
        assert item["tlp"] == "AMBER" and item["provenance"]["user"] == "a-owner"
        assert (
            item["provenance"]["org"] == "Home Police"
            and item["provenance"]["via"] == f"api:POST /v1/hub/cases/{case_id}/items"
        )
    case = client.get(f"/v1/hub/cases/{case_id}", headers=h).json()
    assert [i["kind"] for i in case["items"]] == [k for k, _ in payloads]
    assert case["item_count"] == len(payloads)
    assert (
        case["items"][1]["subject"]
        == "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16"
    )
    hits = client.get(
        "/v1/hub/search", params={"q": "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"}, headers=h
    ).json()
    assert {i["kind"] for i in hits} >= {"address", "link"}


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (
            {"kind": "address", "payload": {"address": "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb"}},
            400,
            "invalid BTC address",
        ),
        ({"kind": "tx", "payload": {"txid": "abc"}}, 400, "64-hex-digit"),
        ({"kind": "note", "payload": {}}, 400, "needs 'markdown'"),
        (
            {"kind": "link", "payload": {"src": "ip:1.2.3.4", "dst": "ip:1.2.3.4"}},
            400,
            "two different",
        ),
        ({"kind": "note", "payload": {"markdown": "x"}, "tlp": "PURPLE"}, 422, "tlp"),
        ({"kind": "malware", "payload": {}}, 422, "kind"),
    ],
)
def test_bad_items_are_refused_and_nothing_is_written(api, body, status, words) -> None:
    client, world, _ = api
    case_id = _case(client, world)
    r = client.post(f"/v1/hub/cases/{case_id}/items", headers=world.auth("a-owner"), json=body)
    assert r.status_code == status and words in r.json()["detail"]
    assert (
        client.get(f"/v1/hub/cases/{case_id}", headers=world.auth("a-owner")).json()["item_count"]
        == 0
    )


def test_attachments_are_content_addressed_and_size_limited(api) -> None:
    client, world, env = api
    h = world.auth("a-owner")
    case_id = _case(client, world)
    data = b"%PDF-1.7 subpoena reply\n" * 100
    r1 = client.post(f"/v1/hub/cases/{case_id}/attachments?name=reply.pdf", headers=h, content=data)
    r2 = client.post(f"/v1/hub/cases/{case_id}/attachments?name=copy.pdf", headers=h, content=data)
    assert r1.status_code == r2.status_code == 201
    digest = hashlib.sha256(data).hexdigest()
    assert (
        r1.json()["payload"]["sha256"] == digest
        and r1.json()["payload"]["media_type"] == "application/pdf"
    )
    stored = [p for p in (env.store / FILES_DIR).rglob("*") if p.is_file()]
    assert [p.name for p in stored] == [digest]  # kept once
    assert client.get(f"/v1/hub/items/{r2.json()['id']}/content", headers=h).content == data
    init_hub(env.store, env.url, max_attachment_bytes=1000)
    r = client.post(
        f"/v1/hub/cases/{case_id}/attachments?name=big.bin", headers=h, content=b"x" * 1001
    )
    assert r.status_code == 400 and "limit of 1,000 bytes" in r.json()["detail"]
    assert (
        len([p for p in (env.store / FILES_DIR).rglob("*") if p.is_file()]) == 1
    )  # nothing half-written


def test_a_redacted_share_hides_sources_and_off_chain_detail(api) -> None:
    client, world, _ = api
    h = world.auth("a-owner")
    case_id = _case(client, world)
    trace = client.post(
        f"/v1/hub/cases/{case_id}/items",
        headers=h,
        json={"kind": "trace", "payload": {"targets": [], "params": {}, "result": TRACE}},
    ).json()
    link = client.post(
        f"/v1/hub/cases/{case_id}/items",
        headers=h,
        json={
            "kind": "link",
            "payload": {
                "src": "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
                "dst": "person:Jane Doe",
                "evidence": "informant 7",
            },
        },
    ).json()
    for item in (trace, link):
        r = client.post(
            "/v1/hub/shares",
            headers=h,
            json={"item_id": item["id"], "target_kind": "org", "target": PARTNER, "redacted": True},
        )
        assert r.status_code == 201, r.text
    b = world.auth("b-analyst")
    seen = client.get(f"/v1/hub/items/{trace['id']}", headers=b).json()
    assert seen["view"] == "redacted" and seen["provenance"].get("user") is None
    assert (
        "Exchange Y" not in str(seen)
        and seen["payload"]["result"]["terminals"][0]["amount"] == 5000
    )
    seen = client.get(f"/v1/hub/items/{link['id']}", headers=b).json()
    assert "informant" not in str(seen) and seen["payload"]["dst"] == "person:Jane Doe"
    # the recipient cannot pass on more than it got: an unredacted re-share is refused
    r = client.post(
        "/v1/hub/shares",
        headers=b,
        json={"item_id": link["id"], "target_kind": "org", "target": EXCHANGE},
    )
    assert r.status_code == 403 and "redacted" in r.json()["detail"]
    r = client.post(
        "/v1/hub/shares",
        headers=b,
        json={"item_id": link["id"], "target_kind": "org", "target": EXCHANGE, "redacted": True},
    )
    assert r.status_code == 201  # AMBER: to an obliged entity it names, redacted as it got it
    assert (
        "informant"
        not in client.get(
            f"/v1/hub/items/{link['id']}", headers=world.auth("e-compliance_officer")
        ).text
    )


def test_share_rules_refuse_with_the_reason(api) -> None:
    client, world, _ = api
    h = world.auth("a-owner")
    red = _case(client, world, "RED")
    r = client.post(
        "/v1/hub/shares", headers=h, json={"case_id": red, "target_kind": "org", "target": PARTNER}
    )
    assert r.status_code == 403 and "named people only" in r.json()["detail"]
    strict = _case(client, world, "AMBER+STRICT")
    r = client.post(
        "/v1/hub/shares",
        headers=h,
        json={"case_id": strict, "target_kind": "org", "target": EXCHANGE},
    )
    assert r.status_code == 403 and "obliged entities" in r.json()["detail"]
    r = client.post(
        "/v1/hub/shares",
        headers=h,
        json={"case_id": strict, "target_kind": "group", "target": "ops"},
    )
    assert r.status_code == 201
    assert (
        client.get(f"/v1/hub/cases/{strict}", headers=world.auth("b-investigator")).status_code
        == 200
    )
    r = client.post(
        "/v1/hub/shares",
        headers=h,
        json={"case_id": strict, "target_kind": "group", "target": "ops"},
    )
    assert r.status_code == 409
    r = client.post(
        "/v1/hub/shares",
        headers=h,
        json={"case_id": strict, "target_kind": "org", "target": "Nobody"},
    )
    assert r.status_code == 404 and "Nobody" in r.json()["detail"]


def test_case_updates_never_lose_a_concurrent_change(api) -> None:
    client, world, _ = api
    h = world.auth("a-owner")
    case_id = _case(client, world)
    v = client.get(f"/v1/hub/cases/{case_id}", headers=h).json()["version"]
    assert (
        client.patch(
            f"/v1/hub/cases/{case_id}", headers=h, json={"status": "active", "version": v}
        ).status_code
        == 200
    )
    r = client.patch(
        f"/v1/hub/cases/{case_id}", headers=h, json={"title": "stale edit", "version": v}
    )
    assert r.status_code == 409 and "read it again" in r.json()["detail"]
    assert (
        client.patch(f"/v1/hub/cases/{case_id}", headers=h, json={"status": "closed"}).status_code
        == 200
    )
    r = client.post(
        f"/v1/hub/cases/{case_id}/items",
        headers=h,
        json={"kind": "note", "payload": {"markdown": "late"}},
    )
    assert r.status_code == 409 and "closed" in r.json()["detail"]


def test_duplicate_names_are_refused(api) -> None:
    client, world, _ = api
    h = world.auth("a-hub_admin")
    r = client.post(
        "/v1/hub/orgs", headers=h, json={"name": PARTNER, "kind": "fiu", "country": "DE"}
    )
    assert r.status_code == 409 and "already exists" in r.json()["detail"]
    r = client.post(
        "/v1/hub/orgs", headers=h, json={"name": "Atlantis PD", "kind": "police", "country": "QQ"}
    )
    assert r.status_code == 400 and "ISO 3166" in r.json()["detail"]
    r = client.post(
        "/v1/hub/users", headers=h, json={"name": "a-owner", "org": PARTNER, "roles": ["analyst"]}
    )
    assert r.status_code == 409
    r = client.post(
        "/v1/hub/users",
        headers=h,
        json={"name": "vasp-analyst", "org": EXCHANGE, "roles": ["investigator"]},
    )
    assert r.status_code == 400 and "does not fit" in r.json()["detail"]
