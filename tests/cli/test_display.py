"""Data shown by the CLI is shown literally: never read as Rich markup or emoji codes, and never
able to move the cursor or recolour a terminal (issue 10, item 1).

Labels, actors, sources, names, relations, evidence and references come from users and from
imported files (TagPacks, STIX, MISP, CSV); a hypothesis test throws arbitrary strings at every
command that shows them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from chaintrail.cli.common import visible
from chaintrail.errors import ValidationError
from chaintrail.intel.attribution import add_tag
from chaintrail.intel.offchain import add_link

from .clirun import cli

BLOCKS = Path(__file__).parent.parent / "data" / "btc" / "blk_mainnet_blocks_0-438.dat"
HAL_FINNEY = "1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm3"
FIRST_PAYMENT = "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16"  # block 170


@pytest.fixture(scope="module", autouse=True)
def wide_terminal() -> Iterator[None]:
    """A console wide enough that no table cell is folded, so a value is one run of text."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COLUMNS", "4000")
        yield


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("display-store")
    assert cli("ingest", str(BLOCKS), "--store", str(path), "--json")[0] == 0
    assert cli("cluster", "--store", str(path), "--json")[0] == 0
    return path


def _no_terminal_control(text: str) -> bool:
    """No character a terminal would act on, other than the line breaks between lines."""
    return all(ch == "\n" or ch.isprintable() for ch in text)


NASTY = [
    "[/] weird",
    "[/bold] Mallory",
    "contact",  # shown as -[contact]->, which markup would eat
    "[red]not red[/red]",
    "fax :fax: :smile:",
    "\x1b[2J\x1b[31mred alert",  # clear screen + colour
    "evil\u202etxt.exe",  # right-to-left override
    "tab\tnew\nline",
    "back\\slash [link=file:///etc/passwd]x[/link]",
]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(min_size=1, max_size=24))
@example(text=NASTY[0])
@example(text=NASTY[1])
@example(text=NASTY[2])
@example(text=NASTY[3])
@example(text=NASTY[4])
@example(text=NASTY[5])
@example(text=NASTY[6])
@example(text=NASTY[7])
@example(text=NASTY[8])
def test_every_display_shows_user_text_literally(store: Path, text: str) -> None:
    assume(text.strip())
    (store / "intel.duckdb").unlink(missing_ok=True)
    try:
        add_tag(store, HAL_FINNEY, text, "exchange", actor=text, source=text)
        add_link(store, HAL_FINNEY, f"person:{text}", relation=text, evidence=text,
                 dst_name=text, dst_attrs={"kyc": text})  # fmt: skip
    except ValidationError:
        assume(False)  # text refused at the door with a clear error: nothing to display
    shown = visible(text).strip()
    s = str(store)
    cluster = json.loads(cli("address", HAL_FINNEY, "--store", s, "--json")[1])["cluster_id"]
    must_show = [
        ("address", HAL_FINNEY, "--store", s),
        ("tx", FIRST_PAYMENT, "--store", s),
        ("tags", "show", HAL_FINNEY, "--store", s),
        ("tags", "show", f"cluster:{cluster}", "--store", s),
        ("link", "show", HAL_FINNEY, "--store", s),
        ("cluster-info", str(cluster), "--store", s),
        ("trace", FIRST_PAYMENT, "--hops", "3", "--store", s),
        ("tags", "add", HAL_FINNEY, f"--label={text}", "--store", s),
        ("link", "add", HAL_FINNEY, f"email:{'x'}@example.org", f"--relation={text}", "--store", s),
    ]
    for args in must_show:
        code, out, err = cli(*args)
        assert code == 0, (args, err)
        assert shown in out, (args, out)
        assert _no_terminal_control(out + err), (args, out + err)
    for args in [("risk", HAL_FINNEY, "--store", s), ("exposure", HAL_FINNEY, "--store", s)]:
        code, out, err = cli(*args)
        assert code == 0, (args, err)
        assert _no_terminal_control(out + err), (args, out + err)


def test_relation_in_brackets_is_echoed(store: Path) -> None:
    code, out, _ = cli("link", "add", HAL_FINNEY, "phone:+43 660 1234567", "--relation", "contact",
                       "--store", str(store))  # fmt: skip
    assert code == 0
    assert f"address:{HAL_FINNEY} -[contact]-> phone:+436601234567" in out


def test_error_messages_are_literal_too(store: Path) -> None:
    """A bad value echoed in an error line is not markup either (no crash, no eaten text)."""
    code, out, err = cli("tx", "[/bold] :fax:", "--store", str(store))
    assert code == 1 and out == ""
    assert "[/bold] :fax:" in err and "Traceback" not in err


def test_visible_escapes_only_what_a_terminal_would_act_on() -> None:
    assert visible("[/] Mallory :fax: 東京 café") == "[/] Mallory :fax: 東京 café"
    assert visible("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert visible("evil\u202etxt") == "evil\\u202etxt"
    assert visible("a\nb\tc") == "a\\nb\\tc"
    assert os.linesep not in visible("x\r\n")
