"""Investigation ergonomics of the CLI (issue 10, item 9): version, honest help, plain metavars,
transaction lists, tracing from a cluster, grouped risk reasons, cluster tags by address."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from chaintrail import __version__
from chaintrail.intel.attribution import add_tag

from .clirun import cli

BLOCKS = Path(__file__).parent.parent / "data" / "btc" / "blk_mainnet_blocks_0-438.dat"
SATOSHI_BLOCK9 = "12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S"
HAL_FINNEY = "1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm3"
FIRST_PAYMENT = "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16"


@pytest.fixture(scope="module", autouse=True)
def wide_terminal() -> Iterator[None]:
    """Wide enough that no table cell is folded."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COLUMNS", "400")
        yield


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ergonomics-store")
    assert cli("ingest", str(BLOCKS), "--store", str(path), "--json")[0] == 0
    assert cli("cluster", "--store", str(path), "--json")[0] == 0
    return path


def _cluster_of(store: Path, address: str) -> int:
    return int(json.loads(cli("address", address, "--store", str(store), "--json")[1])["cluster_id"])


def test_version_flag() -> None:
    assert cli("--version") == (0, f"chaintrail {__version__}\n", "")


@pytest.mark.parametrize(
    "args",
    [(), ("trace",), ("tags", "show"), ("link", "add"), ("address",), ("cluster",), ("serve",)],
)
def test_help_has_no_type_noise(args: tuple[str, ...]) -> None:
    code, out, _ = cli(*args, "--help")
    assert code == 0 and "Usage: chaintrail" in out
    noise = re.findall(r"<(?:bool|str|int|float|path|list\[[a-z]+\])>|\{[a-z_.]+\}", out)
    assert noise == [], noise


def test_help_promises_only_what_is_built() -> None:
    out = cli("--help")[1].lower()
    assert "freeze" not in out and "recover" not in out


def test_tags_show_cluster_names_the_address_of_each_tag_once(store: Path) -> None:
    cluster = _cluster_of(store, SATOSHI_BLOCK9)
    for _ in range(3):  # the same tag imported three times (e.g. three packs re-stating it)
        add_tag(store, SATOSHI_BLOCK9, "Satoshi", "miner", source="bitcointalk")
    code, out, _ = cli("tags", "show", f"cluster:{cluster}", "--store", str(store))
    assert code == 0
    rows = [line for line in out.splitlines() if "Satoshi" in line]
    assert len(rows) == 1 and SATOSHI_BLOCK9 in rows[0] and "3" in rows[0]


def test_address_txs_are_listed_a_page_at_a_time(store: Path) -> None:
    s = str(store)
    n = json.loads(cli("address", SATOSHI_BLOCK9, "--store", s, "--json")[1])["tx_count"]
    pages = [json.loads(cli("address", SATOSHI_BLOCK9, "--txs", "--per-page", "1", "--page", str(p),
                            "--store", s, "--json")[1]) for p in range(1, n + 1)]  # fmt: skip
    assert n > 1 and {(p["total"], p["pages"]) for p in pages} == {(n, n)}
    txs = [p["txs"][0] for p in pages]
    assert [t["height"] for t in txs] == sorted((t["height"] for t in txs), reverse=True)
    assert txs[-1]["height"] == 9 and txs[-1]["received"] == 50 * 10**8  # the coinbase, last
    payment = next(t for t in txs if t["txid"] == FIRST_PAYMENT)
    assert payment["time_utc"] == "2009-01-12T03:30:25Z" and payment["sent"] == 50 * 10**8
    code, out, _ = cli("address", SATOSHI_BLOCK9, "--txs", "--per-page", "1", "--store", s)
    assert code == 0 and f"page 1 of {n}" in out and "--page 2" in out


def test_trace_and_exposure_start_from_a_cluster(store: Path) -> None:
    s = str(store)
    cluster = _cluster_of(store, SATOSHI_BLOCK9)
    by_cluster = json.loads(cli("trace", f"cluster:{cluster}", "--hops", "2", "--store", s,
                                "--json")[1])  # fmt: skip
    assert by_cluster["seeds"].startswith(f"cluster:{cluster}")
    assert by_cluster["traced"] >= 50 * 10**8  # at least the block-9 coinbase
    assert any(t["address"] == HAL_FINNEY for t in by_cluster["terminals"])
    add_tag(store, HAL_FINNEY, "Example Exchange", "exchange")
    code, out, _ = cli("exposure", f"cluster:{cluster}", "--store", s, "--json")
    assert code == 0 and json.loads(out)["cluster"] == f"cluster:{cluster}"


def test_risk_groups_a_reason_repeated_by_many_addresses(sim_case: dict) -> None:
    store = sim_case["store"]
    s = str(store)
    cluster = _cluster_of(store, sim_case["seeds"]["ransomware"][0])
    members = json.loads(cli("cluster-info", str(cluster), "--limit", "50", "--store", s,
                             "--json")[1])["addresses"]  # fmt: skip
    assert len(members) > 1
    for a in members:
        add_tag(store, a, "Ransom wallet", abuse="ransomware")
    code, out, _ = cli("risk", f"cluster:{cluster}", "--store", s)
    tagged = [line for line in out.splitlines() if "tagged ransomware" in line]
    assert code == 0 and len(tagged) == 1 and f"x{len(members)} addresses" in tagged[0]
