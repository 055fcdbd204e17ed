"""Times and money a person can read (issue 10, item 7): ISO 8601 UTC beside every unix time,
dates and ISO times accepted where times are typed, USD and EUR values with the day of the rate."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from chaintrail.rates import shipped_rates

from .clirun import cli

BLOCKS = Path(__file__).parent.parent / "data" / "btc" / "blk_mainnet_blocks_0-438.dat"
SATOSHI_BLOCK9 = "12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S"
FIRST_PAYMENT = "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16"  # block 170


@pytest.fixture(scope="module")
def mainnet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("times-mainnet")
    assert cli("ingest", str(BLOCKS), "--store", str(path), "--json")[0] == 0
    assert cli("cluster", "--store", str(path), "--json")[0] == 0
    return path


@pytest.fixture(scope="module", autouse=True)
def wide_terminal() -> Iterator[None]:
    """Wide enough that no table cell is folded."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COLUMNS", "400")
        yield


def test_block_has_its_time_in_utc(mainnet: Path) -> None:
    info = json.loads(cli("block", "170", "--store", str(mainnet), "--json")[1])
    assert info["time"] == 1231731025 and info["time_utc"] == "2009-01-12T03:30:25Z"
    assert "2009-01-12T03:30:25Z" in cli("block", "170", "--store", str(mainnet))[1]


def test_cluster_info_first_and_last_seen_in_utc(mainnet: Path) -> None:
    s = str(mainnet)
    cid = json.loads(cli("address", SATOSHI_BLOCK9, "--store", s, "--json")[1])["cluster_id"]
    info = json.loads(cli("cluster-info", str(cid), "--store", s, "--json")[1])
    assert info["first_seen_utc"] == "2009-01-09T03:54:39Z"  # block 9
    assert info["last_seen_utc"].startswith("2009-01-")
    assert "2009-01-09T03:54:39Z" in cli("cluster-info", str(cid), "--store", s)[1]


def test_trace_csv_and_json_carry_utc_times_and_deposits(mainnet: Path) -> None:
    s = str(mainnet)
    doc = json.loads(cli("trace", FIRST_PAYMENT, "--hops", "3", "--store", s, "--json")[1])
    edge = doc["edges"][0]
    assert edge["first_time_utc"].endswith("Z") and edge["first_time_utc"].startswith("2009-01-")
    hal = next(t for t in doc["terminals"] if t["amount"] == 10 * 10**8)
    assert hal["deposits"] == [{
        "txid": FIRST_PAYMENT, "time": 1231731025, "time_utc": "2009-01-12T03:30:25Z",
        "amount": 10 * 10**8, "fiat_values": [], "rate_dates": {},
    }]  # fmt: skip  (no price was ever quoted in 2009: no fiat, not a guess)
    rows = list(csv.DictReader(io.StringIO(cli("trace", FIRST_PAYMENT, "--hops", "3",
                                               "--format", "csv", "--store", s)[1])))  # fmt: skip
    assert rows[0]["first_time_utc"].startswith("2009-01-")
    term = next(r for r in rows if r["record"] == "terminal" and r["amount"] == str(10 * 10**8))
    assert term["txids"] == FIRST_PAYMENT and term["first_time_utc"] == "2009-01-12T03:30:25Z"


@pytest.mark.parametrize(
    ("from_time", "to_time"),
    [("2009-01-12", "2009-01-12"), ("2009-01-12T00:00:00Z", "2009-01-12T23:59:59+00:00"),
     ("1231718400", "1231804799")],
)  # fmt: skip
def test_trace_time_window_takes_dates_iso_times_and_unix(mainnet: Path, from_time: str, to_time: str) -> None:
    doc = json.loads(cli("trace", FIRST_PAYMENT, "--hops", "3", "--from-time", from_time,
                         "--to-time", to_time, "--store", str(mainnet), "--json")[1])  # fmt: skip
    assert doc["traced"] == 50 * 10**8


def test_a_bad_time_names_the_option_and_the_forms(mainnet: Path) -> None:
    code, _, err = cli("trace", FIRST_PAYMENT, "--from-time", "last tuesday", "--store", str(mainnet))
    assert code == 2 and "--from-time" in err and "YYYY-MM-DD" in err


def test_address_and_tx_show_usd_and_eur_with_the_rate_date(sim_case: dict) -> None:
    s = str(sim_case["store"])
    seed = sim_case["seeds"]["ransomware"][0]
    info = json.loads(cli("address", seed, "--store", s, "--json")[1])
    received = {f["code"]: f["value"] for f in info["fiat"]["total_received"]}
    assert set(received) == {"usd", "eur"} and received["usd"] > received["eur"] > 0
    txs = json.loads(cli("address", seed, "--txs", "--store", s, "--json")[1])["txs"]
    tx = json.loads(cli("tx", txs[-1]["txid"], "--store", s, "--json")[1])
    rates = shipped_rates("btc")
    total = sum(o["value"] for o in tx["outputs"])
    assert tx["fiat"]["total_output"] == rates.fiat_values(total, tx["time"])
    assert tx["fiat"]["rate_dates"]["usd"] == tx["time_utc"][:10]
    text = cli("tx", txs[-1]["txid"], "--store", s)[1]
    assert "USD" in text and "EUR" in text and f"rates of {tx['time_utc'][:10]}" in text


def test_trace_terminals_carry_fiat_at_the_deposit_time(sim_case: dict) -> None:
    s = str(sim_case["store"])
    seeds = sim_case["seeds"]["ransomware"]
    doc = json.loads(cli("trace", *seeds, "--hops", "10", "--store", s, "--json")[1])
    deposits = [d for t in doc["terminals"] for d in t["deposits"]]
    assert deposits and all({f["code"] for f in d["fiat_values"]} == {"usd", "eur"} for d in deposits)
    rates = shipped_rates("btc")
    d = deposits[0]
    assert d["fiat_values"] == rates.fiat_values(d["amount"], d["time"])
    assert d["rate_dates"]["usd"] == d["time_utc"][:10]
    text = cli("trace", *seeds, "--hops", "10", "--store", s)[1]
    assert d["txid"] in text and d["time_utc"] in text
