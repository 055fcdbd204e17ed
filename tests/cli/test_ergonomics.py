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

from .runcli import cli

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
