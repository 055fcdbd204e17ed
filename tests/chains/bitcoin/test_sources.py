"""Source kind detection for ingest."""

from __future__ import annotations

from pathlib import Path

import pytest

from chaintrail.chains.bitcoin.sources import detect_source_kind
from chaintrail.errors import InputError

from .conftest import BLK_0_438, BLOCK_702861, BTC, RPC


def test_kinds(tmp_path: Path) -> None:
    assert detect_source_kind(BLK_0_438) == "blk-file"
    assert detect_source_kind(BLOCK_702861) == "raw"
    assert detect_source_kind(next(BTC.glob("*.hex"))) == "hex"
    assert detect_source_kind(RPC) == "rpc-json"
    assert detect_source_kind(next(RPC.glob("block_0/rpc_response_getblock_*"))) == "rpc-json"
    blocks = tmp_path / "blocks"
    blocks.mkdir()
    (blocks / "blk00000.dat").write_bytes(BLK_0_438.read_bytes())
    assert detect_source_kind(blocks) == "blk-dir"
    with pytest.raises(InputError, match="pass its blocks/ folder"):
        detect_source_kind(tmp_path)


def test_unusable_paths(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        detect_source_kind(tmp_path / "missing")
    (tmp_path / "empty.raw").write_bytes(b"")
    with pytest.raises(InputError, match="empty file"):
        detect_source_kind(tmp_path / "empty.raw")
    (tmp_path / "tiny").write_bytes(b"\x01\x02")
    with pytest.raises(InputError, match="too short"):
        detect_source_kind(tmp_path / "tiny")
    empty_dir = tmp_path / "d"
    empty_dir.mkdir()
    with pytest.raises(InputError, match="no blk"):
        detect_source_kind(empty_dir)
