"""``/api/search`` finds addresses and txids by prefix, as GraphSense's search does (issue 10,
item 9): an investigator types the first characters she can read off a screenshot."""

from __future__ import annotations

import httpx
import pytest

SATOSHI_ADDR = "12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S"
FIRST_PAYMENT = "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16"


@pytest.fixture(scope="module")
def get(server: str, keys: dict[str, str]):  # type: ignore[no-untyped-def]
    def search(q: str, **params: object) -> dict:
        r = httpx.get(f"{server}/api/search", params={"q": q, **params},
                      headers={"Authorization": keys["reader"]}, timeout=30)  # fmt: skip
        assert r.status_code == 200, r.text
        return r.json()

    return search


def test_address_prefix(get) -> None:  # type: ignore[no-untyped-def]
    found = get("12cbQLTF")["currencies"][0]["addresses"]
    assert found == [SATOSHI_ADDR]
    many = get("1A1z", limit=100)["currencies"][0]["addresses"]
    assert "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa" in many and all(a.startswith("1A1z") for a in many)


def test_txid_prefix_odd_and_even_lengths(get) -> None:  # type: ignore[no-untyped-def]
    for q in ("f4184fc5", "f4184fc59", FIRST_PAYMENT[:20], FIRST_PAYMENT):
        assert FIRST_PAYMENT in get(q)["currencies"][0]["txs"], q
    assert get("F4184FC5")["currencies"][0]["txs"] == [FIRST_PAYMENT]


def test_a_limit_caps_the_answer_and_nothing_matches_nothing(get) -> None:  # type: ignore[no-untyped-def]
    assert get("12", limit=3)["currencies"][0]["addresses"] == []  # too short to search
    assert len(get("1111", limit=3)["currencies"][0]["addresses"]) <= 3
    assert get("zzzzzz")["currencies"][0] == {"currency": "btc", "addresses": [], "txs": []}
