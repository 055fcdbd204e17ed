"""blk*.dat scanning: records, XOR obfuscation, zero padding, wrong magic, truncation."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from chaintrail.chains.bitcoin import params
from chaintrail.chains.bitcoin.blkfiles import (
    chainwork,
    list_blk_files,
    load_xor_key,
    read_block_bytes,
    scan_blk_file,
    xor_bytes,
)
from chaintrail.chains.bitcoin.decode import decode_blocks
from chaintrail.chains.model import hash_to_hex
from chaintrail.errors import DecodeError

from .conftest import BLK_0_438

KEY = bytes.fromhex("0123456789abcdef")


def test_scan_reads_every_header() -> None:
    refs = scan_blk_file(BLK_0_438)
    assert len(refs) == 439
    assert hash_to_hex(refs[0].hash) == params.GENESIS_HASH
    assert refs[0].prev_hash == bytes(32) and refs[0].offset == 8 and refs[0].length == 285
    assert refs[1].prev_hash == refs[0].hash
    assert refs[0].bits == 0x1D00FFFF and refs[0].time == 1231006505
    assert refs[-1].offset + refs[-1].length == BLK_0_438.stat().st_size


def test_xor_obfuscated_directory_reads_identically(tmp_path: Path) -> None:
    plain = BLK_0_438.read_bytes()
    (tmp_path / "xor.dat").write_bytes(KEY)
    (tmp_path / "blk00000.dat").write_bytes(xor_bytes(plain + bytes(4096), KEY, 0))
    key = load_xor_key(tmp_path)
    assert key == KEY
    [path] = list_blk_files(tmp_path)
    refs = scan_blk_file(path, key)
    want = scan_blk_file(BLK_0_438)
    assert [r.hash for r in refs] == [r.hash for r in want]  # zero padding skipped
    assert read_block_bytes(refs[170], key) == read_block_bytes(want[170])
    assert load_xor_key(tmp_path / "nothing-here") == bytes(8)


def test_zero_padding_between_records_and_file_order(tmp_path: Path) -> None:
    plain = BLK_0_438.read_bytes()
    refs = scan_blk_file(BLK_0_438)
    cut = refs[10].offset - 8
    (tmp_path / "blk00010.dat").write_bytes(plain[cut:])
    (tmp_path / "blk00002.dat").write_bytes(plain[:cut] + bytes(1000))
    (tmp_path / "rev00002.dat").write_bytes(b"undo")
    files = list_blk_files(tmp_path)
    assert [f.name for f in files] == ["blk00002.dat", "blk00010.dat"]
    assert [len(scan_blk_file(f)) for f in files] == [10, 429]


def test_wrong_magic_names_file_and_offset(tmp_path: Path) -> None:
    plain = bytearray(BLK_0_438.read_bytes())
    second = scan_blk_file(BLK_0_438)[1].offset - 8
    plain[second : second + 4] = bytes.fromhex("0b110907")  # testnet3 magic
    path = tmp_path / "blk00000.dat"
    path.write_bytes(bytes(plain))
    with pytest.raises(DecodeError, match="wrong magic 0b110907") as err:
        scan_blk_file(path)
    assert err.value.offset == second and str(path) in str(err.value)


def test_truncated_file(tmp_path: Path) -> None:
    path = tmp_path / "blk00000.dat"
    path.write_bytes(BLK_0_438.read_bytes()[:-100])
    with pytest.raises(DecodeError, match="runs past the end of the file"):
        scan_blk_file(path)


def test_blocks_decode_from_refs(tmp_path: Path) -> None:
    shutil.copy(BLK_0_438, tmp_path / "blk00000.dat")
    refs = scan_blk_file(tmp_path / "blk00000.dat")[:5]
    batch = decode_blocks([(read_block_bytes(r), r.path, r.offset) for r in refs])
    assert list(batch.block_offset) == [r.offset for r in refs]
    assert [hash_to_hex(h) for h in batch.block_hash] == [hash_to_hex(r.hash) for r in refs]


def test_chainwork() -> None:
    assert chainwork(0x1D00FFFF) == 0x100010001  # genesis difficulty-1 work
    assert chainwork(0x1C2A1115) > chainwork(0x1D00FFFF)  # block 50000 was harder
    assert chainwork(0x1D80FFFF) == 0  # negative target is invalid
