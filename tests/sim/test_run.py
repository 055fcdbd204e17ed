"""simulate(): byte-identical per seed, different across seeds, never clobbers silently."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from chaintrail.errors import UsageError
from chaintrail.sim import simulate


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_is_byte_identical_and_other_seeds_differ(tiny, tmp_path) -> None:
    again = simulate("tiny", 7, tmp_path / "again")
    first = _digest(tiny.result.out_dir)
    assert _digest(again.out_dir) == first
    assert any(k.startswith("blocks/blk") for k in first)
    other = _digest(simulate("tiny", 8, tmp_path / "other").out_dir)
    assert other.keys() == first.keys()
    assert all(other[k] != first[k] for k in first if not k.endswith("entities.parquet"))


def test_existing_output_needs_force(tmp_path) -> None:
    (tmp_path / "blocks").mkdir()
    (tmp_path / "blocks" / "keep.txt").write_text("mine")
    with pytest.raises(UsageError, match="--force"):
        simulate("tiny", 1, tmp_path)
    assert (tmp_path / "blocks" / "keep.txt").read_text() == "mine"


def test_bad_preset_and_seed_are_usage_errors(tmp_path) -> None:
    with pytest.raises(UsageError, match="tiny, small, medium, large"):
        simulate("huge", 1, tmp_path)
    with pytest.raises(UsageError, match="seed"):
        simulate("tiny", -1, tmp_path)
