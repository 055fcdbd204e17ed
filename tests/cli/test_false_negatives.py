"""No silent "nothing found" (issue 10, item 3): a missing store is an error, an empty intel
database or no imported sanctions list is said in the answer, and an invalid address is refused
wherever one is typed (tags add, link add, tags sanctioned, POST .../offchain)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from chaintrail.api.app import ApiSettings, create_app
from chaintrail.intel.attribution import add_tag

from .clirun import cli

DATA = Path(__file__).resolve().parents[1] / "data"
BLOCKS = DATA / "btc" / "blk_mainnet_blocks_0-438.dat"
HAL_FINNEY = "1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm3"
SATOSHI_BLOCK9 = "12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S"
OFAC_XBT = "123WBUDmSJv4GctdVEz6Qq6z8nXSKrJ4KX"  # first line of the OFAC XBT list


@pytest.fixture(scope="module")
def chain_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Blocks 0-438, clustered, and no intelligence at all."""
    path = tmp_path_factory.mktemp("chain-only")
    assert cli("ingest", str(BLOCKS), "--store", str(path), "--json")[0] == 0
    assert cli("cluster", "--store", str(path), "--json")[0] == 0
    return path


@pytest.mark.parametrize(
    "args",
    [
        ("tags", "sanctioned", OFAC_XBT),
        ("tags", "show", HAL_FINNEY),
        ("tags", "packs"),
        ("link", "show", HAL_FINNEY),
    ],
)
def test_a_mistyped_store_is_an_error_not_an_empty_answer(tmp_path: Path, args: tuple) -> None:
    typo = tmp_path / "typo"
    code, out, err = cli(*args, "--store", str(typo))
    assert code == 1 and out == ""
    assert str(typo) in err and "no chaintrail store" in err
    assert not typo.exists()  # and nothing was created there


def test_sanctions_check_without_any_list_is_an_error(tmp_path: Path) -> None:
    store = tmp_path / "s"
    add_tag(store, HAL_FINNEY, "Example Exchange", "exchange")  # intel, but no list
    code, out, err = cli("tags", "sanctioned", OFAC_XBT, "--store", str(store))
    assert code == 1 and out == ""
    assert "no sanctions list" in err and "tags import" in err


def test_sanctions_check_before_the_first_list_version_warns(tmp_path: Path) -> None:
    store = str(tmp_path / "s")
    assert cli("tags", "import", str(DATA / "intel" / "ofac"), "--store", store, "--json")[0] == 0
    code, out, _ = cli("tags", "sanctioned", OFAC_XBT, "--on", "2015-01-01", "--store", store,
                       "--json")  # fmt: skip
    res = json.loads(out)
    assert code == 0 and res["sanctioned"] is False
    assert any("2015-01-01" in w and "no list version" in w for w in res["warnings"])
    code, out, err = cli("tags", "sanctioned", OFAC_XBT, "--on", "2024-10-01", "--store", store)
    assert code == 0 and "SANCTIONED" in out and "warning" not in err


def test_tags_of_a_store_without_intel_say_so(chain_only: Path) -> None:
    code, out, _ = cli("tags", "show", HAL_FINNEY, "--store", str(chain_only), "--json")
    res = json.loads(out)
    assert code == 0 and res["tags"] == []
    assert any("no tags imported" in w for w in res["warnings"])
    code, out, err = cli("tags", "show", HAL_FINNEY, "--store", str(chain_only))
    assert code == 0 and "no tags imported" in err


def test_risk_without_tags_warns_instead_of_a_clean_zero(chain_only: Path) -> None:
    code, out, _ = cli("risk", HAL_FINNEY, "--store", str(chain_only), "--json")
    res = json.loads(out)
    assert code == 0 and res["score"] == 0
    assert any("no tags imported" in w for w in res["warnings"])
    code, out, err = cli("risk", HAL_FINNEY, "--store", str(chain_only))
    assert code == 0 and "no tags imported" in err


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("tags", "sanctioned", "xyz"), "'xyz'"),
        (("tags", "sanctioned", "1BoatSLRHtKNngkdXEeobR76b53LETtpyX"), "checksum"),
        (("tags", "add", "xyz", "--label", "x"), "'xyz'"),
        (("tags", "add", "tx:nothex", "--label", "x"), "64 hex"),
        (("tags", "add", "cluster:abc", "--label", "x"), "integer"),
        (("link", "add", HAL_FINNEY, "fax:123"), "person:"),
        (("link", "add", HAL_FINNEY, "address:../../etc/passwd"), "'../../etc/passwd'"),
        (("link", "add", "1BoatSLRHtKNngkdXEeobR76b53LETtpyX", "email:a@example.org"), "checksum"),
        (("link", "add", HAL_FINNEY, "tx:abc"), "64 hex"),
    ],
)
def test_invalid_addresses_are_refused(chain_only: Path, args: tuple, expected: str) -> None:
    code, out, err = cli(*args, "--store", str(chain_only))
    assert code == 1 and out == "", err
    assert expected in err and "Traceback" not in err
    assert not (chain_only / "intel.duckdb").exists()  # nothing half-written


def test_other_currencies_are_checked_by_shape(tmp_path: Path) -> None:
    store = str(tmp_path / "s")
    assert cli("tags", "import", str(DATA / "intel" / "ofac"), "--store", store, "--json")[0] == 0
    eth = "0x01e2919679362dFBC9ee1644Ba9C6da6D6245BB1"  # first line of the OFAC ETH list
    code, out, _ = cli("tags", "sanctioned", eth, "--currency", "ETH", "--store", store, "--json")
    assert code == 0 and json.loads(out)["sanctioned"] is True
    code, _, err = cli("tags", "sanctioned", "0x123", "--currency", "ETH", "--store", store)
    assert code == 1 and "0x + 40 hex" in err


@pytest.fixture(scope="module")
def api(chain_only: Path) -> Iterator[str]:
    """The API on the intel-less store, no auth (loopback), in a thread."""
    app = create_app(ApiSettings(chain_only, auth=False, rate_limit=0))
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    port = srv.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


def test_api_risk_without_tags_warns(api: str) -> None:
    r = httpx.get(f"{api}/v1/btc/addresses/{HAL_FINNEY}/risk")
    assert r.status_code == 200 and r.json()["score"] == 0
    assert any("no tags imported" in w for w in r.json()["warnings"])


@pytest.mark.parametrize(
    ("ref", "expected"),
    [("fax:123", "person:"), ("address:../../etc/passwd", "'../../etc/passwd'"),
     ("1BoatSLRHtKNngkdXEeobR76b53LETtpyX", "checksum")],
)  # fmt: skip
def test_api_offchain_link_to_an_invalid_address_is_a_400(
    api: str, chain_only: Path, ref: str, expected: str
) -> None:
    r = httpx.post(f"{api}/v1/btc/addresses/{SATOSHI_BLOCK9}/offchain", json={"ref": ref})
    assert r.status_code == 400 and expected in r.json()["detail"]
    assert not (chain_only / "intel.duckdb").exists()


def test_address_and_tx_of_a_store_without_intel_say_so(chain_only: Path) -> None:
    s = str(chain_only)
    info = json.loads(cli("address", HAL_FINNEY, "--store", s, "--json")[1])
    assert info["tags"] == [] and any("no tags imported" in w for w in info["warnings"])
    assert "no tags imported" in cli("address", HAL_FINNEY, "--store", s)[2]
    tx = "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16"
    info = json.loads(cli("tx", tx, "--store", s, "--json")[1])
    assert any("no tags imported" in w for w in info["warnings"])
