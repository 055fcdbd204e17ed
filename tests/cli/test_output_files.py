"""Every command that writes a file (``--out``) refuses to destroy what is there.

Devices, FIFOs, folders and symbolic links are never replaced; an existing file is replaced only
with ``--force`` and keeps its (possibly private) mode; a missing folder is one red line and is
not created. Runs export stix/misp/csv, ``trace --out`` and ``cluster export`` on real mainnet
blocks 0-438.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from .clirun import BLOCKS, cli_store, one_red_line, run

SATOSHI_BLOCK9 = "12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return cli_store(tmp_path_factory.mktemp("outfiles") / "store", ["ingest", str(BLOCKS)], ["cluster"],
                     ["tags", "add", SATOSHI_BLOCK9, "--label", "Satoshi", "--category", "user"])  # fmt: skip


# every command that writes a user-facing file, as (name, argv builder)
WRITERS: list[tuple[str, Callable[[Path, Path], list[str]]]] = [
    ("export stix", lambda s, o: ["export", "stix", "--out", str(o), "--store", str(s)]),
    ("export misp", lambda s, o: ["export", "misp", "--out", str(o), "--store", str(s)]),
    ("export csv", lambda s, o: ["export", "csv", "--out", str(o), "--store", str(s)]),
    ("trace --out", lambda s, o: ["trace", SATOSHI_BLOCK9, "--hops", "1", "--format", "json",
                                  "--out", str(o), "--store", str(s)]),  # fmt: skip
    ("cluster export", lambda s, o: ["cluster", "export", "--out", str(o), "--store", str(s)]),
]
IDS = [w[0] for w in WRITERS]


@pytest.mark.parametrize(("name", "argv"), WRITERS, ids=IDS)
def test_a_fifo_is_refused_and_left_a_fifo(capsys, store: Path, tmp_path: Path, name, argv) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    code, _, err = run(capsys, *argv(store, fifo))
    assert code == 2
    assert f"{fifo} is a FIFO, not a regular file" in one_red_line(err)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]  # no temp file left


@pytest.mark.parametrize(("name", "argv"), WRITERS, ids=IDS)
def test_a_device_is_refused_and_left_a_device(capsys, store: Path, tmp_path: Path, name, argv) -> None:
    if os.geteuid() != 0:
        pytest.skip("creating a device node needs root (the case the issue found)")
    dev = tmp_path / "null"  # a private copy of /dev/null: the real one is never at risk
    os.mknod(dev, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    code, _, err = run(capsys, *argv(store, dev))
    assert code == 2
    assert f"{dev} is a character device, not a regular file" in one_red_line(err)
    assert stat.S_ISCHR(os.lstat(dev).st_mode)


@pytest.mark.parametrize(("name", "argv"), WRITERS, ids=IDS)
def test_a_folder_as_target_isone_red_line(capsys, store: Path, tmp_path: Path, name, argv) -> None:
    folder = tmp_path / "case"
    folder.mkdir()
    code, _, err = run(capsys, *argv(store, folder))
    assert code == 2
    assert f"{folder} is a folder; give a file name" in one_red_line(err)
    assert folder.is_dir() and not any(folder.iterdir())


@pytest.mark.parametrize(("name", "argv"), WRITERS, ids=IDS)
def test_a_symlink_is_not_followed_or_replaced(capsys, store: Path, tmp_path: Path, name, argv) -> None:
    real = tmp_path / "evidence.txt"
    real.write_text("keep me\n")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    code, _, err = run(capsys, *argv(store, link), "--force")
    assert code == 2
    assert f"{link} is a symbolic link, not a regular file" in one_red_line(err)
    assert link.is_symlink() and real.read_text() == "keep me\n"


@pytest.mark.parametrize(("name", "argv"), WRITERS, ids=IDS)
def test_a_missing_folder_is_one_red_line_and_not_created(
    capsys, store: Path, tmp_path: Path, name, argv
) -> None:
    target = tmp_path / "no" / "such" / "case.out"
    code, _, err = run(capsys, *argv(store, target))
    assert code == 2
    assert f"{target}: the folder {tmp_path / 'no' / 'such'} does not exist" in one_red_line(err)
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize(("name", "argv"), WRITERS, ids=IDS)
def test_an_existing_file_needs_force_and_keeps_its_private_mode(
    capsys, store: Path, tmp_path: Path, name, argv
) -> None:
    target = tmp_path / "case.out"
    target.write_text("yesterday's export\n")
    os.chmod(target, 0o600)
    code, _, err = run(capsys, *argv(store, target))
    assert code == 2
    assert f"{target} exists; add --force to replace it" in one_red_line(err)
    assert target.read_text() == "yesterday's export\n"
    code, _, err = run(capsys, *argv(store, target), "--force")
    assert code == 0, err
    assert target.read_text() != "yesterday's export\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case.out"]


@pytest.mark.parametrize(("name", "argv"), WRITERS, ids=IDS)
def test_a_new_file_gets_ordinary_permissions(capsys, store: Path, tmp_path: Path, name, argv) -> None:
    target = tmp_path / "new.out"
    old = os.umask(0o027)
    try:
        code, _, err = run(capsys, *argv(store, target))
    finally:
        os.umask(old)
    assert code == 0, err
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
