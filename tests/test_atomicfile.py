"""Exports replace their target whole or not at all, with ordinary permissions."""

from __future__ import annotations

import os
import stat

import pytest

from chaintrail.atomicfile import atomic_output, write_text_atomic
from chaintrail.errors import UsageError


def test_export_gets_ordinary_permissions_not_mkstemps_0600(tmp_path) -> None:
    old = os.umask(0o022)
    try:
        write_text_atomic(tmp_path / "case.gexf", "<gexf/>")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "case.gexf").stat().st_mode) == 0o644
    assert (tmp_path / "case.gexf").read_text() == "<gexf/>"


def test_a_failed_export_leaves_the_old_file_and_no_temp_file(tmp_path) -> None:
    target = tmp_path / "case.csv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError), atomic_output(target, force=True) as fh:
        fh.write("half of the new")
        raise RuntimeError("disk full")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["case.csv"]


def test_a_file_created_while_exporting_is_not_clobbered(tmp_path) -> None:
    target = tmp_path / "case.json"
    with pytest.raises(UsageError, match="exists; add --force"), atomic_output(target) as fh:
        fh.write("the export")
        target.write_text("a colleague's file\n")  # appears between the check and the rename
    assert target.read_text() == "a colleague's file\n"
    assert [p.name for p in tmp_path.iterdir()] == ["case.json"]


def test_force_keeps_the_existing_mode_even_when_the_umask_is_looser(tmp_path) -> None:
    target = tmp_path / "case.csv"
    target.write_text("old\n")
    os.chmod(target, 0o600)
    old = os.umask(0o000)
    try:
        write_text_atomic(target, "new\n", force=True)
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600 and target.read_text() == "new\n"
