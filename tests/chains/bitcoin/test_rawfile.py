"""Single raw block files, binary or hex text."""

from __future__ import annotations

from pathlib import Path

import pytest

from chaintrail.chains.bitcoin.rawfile import read_raw_block
from chaintrail.errors import DecodeError

from .conftest import BTC

HEX_FILE = BTC / "block_100002_0000000000013b8ab2cd513b0261a14096412195a72a0c4827d229dcc7e0f7af.hex"


def test_hex_and_binary_give_the_same_bytes(tmp_path: Path) -> None:
    data, was_hex = read_raw_block(HEX_FILE)
    assert was_hex and len(data) == 3054
    binary = tmp_path / "b.raw"
    binary.write_bytes(data)
    assert read_raw_block(binary) == (data, False)
    spaced = tmp_path / "b.txt"
    spaced.write_text("0x" + data.hex().upper() + "\n")
    assert read_raw_block(spaced) == (data, True)


def test_bad_hex(tmp_path: Path) -> None:
    path = tmp_path / "odd.hex"
    path.write_text(HEX_FILE.read_text().strip()[:-1])
    with pytest.raises(DecodeError, match="odd number of hex digits"):
        read_raw_block(path)
