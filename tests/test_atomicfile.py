"""Exports replace their target whole or not at all, with ordinary permissions."""

from __future__ import annotations

import os
import stat

import pytest

from chaintrail.atomicfile import atomic_output, write_text_atomic


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
    with pytest.raises(RuntimeError), atomic_output(target) as fh:
        fh.write("half of the new")
        raise RuntimeError("disk full")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["case.csv"]
