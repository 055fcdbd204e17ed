"""Bad request bodies get a 4xx whose one-line detail names the field and what was expected."""

from __future__ import annotations

import httpx
import pytest

ADDR = "12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S"
TX = "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16"


def _post(server: str, key: str, path: str, body: dict) -> httpx.Response:
    return httpx.post(server + path, json=body, headers={"Authorization": key}, timeout=60)


def _detail(r: httpx.Response) -> str:
    detail = r.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail
    return detail


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ({"tx_hash": "deadbeef"}, ["tx_hash", "64 hex digits", "'deadbeef'"]),
        ({"tx_hash": "zz" * 32}, ["tx_hash", "64 hex digits"]),
        ({"address": "cluster:4468"}, ["address", "expected a Bitcoin address"]),
        ({"address": TX}, ["address", "expected a Bitcoin address", "tx_hash"]),
        ({"address": ADDR, "tx_hash": TX}, ["address", "tx_hash", "not both"]),
        ({"address": ADDR, "output_index": 0}, ["output_index", "tx_hash"]),
        ({"hops": 3}, ["address", "tx_hash"]),
    ],
)
def test_a_bad_trace_request_names_the_field(server, keys, body, names) -> None:
    r = _post(server, keys["reader"], "/v1/btc/trace", body)
    assert r.status_code in (400, 422), r.text
    detail = _detail(r)
    for text in names:
        assert text in detail, detail
    assert "Base58Check checksum" not in detail and "Value error" not in detail


def test_a_good_trace_request_still_works(server, keys) -> None:
    r = _post(server, keys["reader"], "/v1/btc/trace", {"tx_hash": TX.upper(), "output_index": 0, "hops": 1})
    assert r.status_code == 200, r.text
    assert r.json()["traced"] == 10 * 10**8  # output 0 pays Hal 10 BTC


def test_a_reported_tag_needs_a_valid_bitcoin_address(server, keys) -> None:
    body = {"address": "1BoatSLRHtKNngkdXEeobR76b53LETtpyX", "network": "btc", "label": "x"}
    r = _post(server, keys["analyst"], "/api/tags/report-tag", body)
    assert r.status_code == 422, r.text
    detail = _detail(r)
    assert "address" in detail and "expected a Bitcoin address" in detail


def test_exposure_names_a_malformed_address_parameter(server, keys) -> None:
    r = httpx.get(f"{server}/v1/btc/exposure", params={"address": "cluster:4468"},
                  headers={"Authorization": keys["reader"]}, timeout=60)  # fmt: skip
    assert r.status_code == 400, r.text
    detail = _detail(r)
    assert "address" in detail and "expected a Bitcoin address" in detail
