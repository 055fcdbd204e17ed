"""decode_blocks on real mainnet blocks: hashes, counts, sizes, scripts, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from bitcoin.core import CBlock, CTransaction
from bitcoin.wallet import P2PKHBitcoinAddress
from hypothesis import given
from hypothesis import strategies as st

from chaintrail.chains.bitcoin import params
from chaintrail.chains.bitcoin.address import encode_address_keys
from chaintrail.chains.bitcoin.blkfiles import read_blocks, scan_blk_file
from chaintrail.chains.bitcoin.decode import (
    concat_batches,
    decode_block,
    decode_blocks,
    slice_batch,
)
from chaintrail.chains.bitcoin.rawfile import read_raw_block
from chaintrail.chains.model import ScriptType, hash_to_hex
from chaintrail.errors import DecodeError, ValidationError

from .conftest import BLK_0_438, BTC, manifest_rows

BLOCK_170_TX = "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16"


@pytest.fixture(scope="module")
def early() -> object:
    """Blocks 0-438 from the blk file, decoded as one batch."""
    return decode_blocks(read_blocks(scan_blk_file(BLK_0_438)))


def test_genesis(early) -> None:
    assert hash_to_hex(early.block_hash[0]) == params.GENESIS_HASH
    assert hash_to_hex(early.block_merkle_root[0]) == params.GENESIS_MERKLE_ROOT
    assert hash_to_hex(early.txid[0]) == params.GENESIS_MERKLE_ROOT
    assert early.out_value[0] == 50 * params.COIN
    assert early.out_script_type[0] == ScriptType.P2PK
    assert encode_address_keys(early.out_addr_key[:1]) == [params.GENESIS_ADDRESS]
    assert early.out_script(0)[0] == 65 and early.out_script(0)[-1] == 0xAC  # pubkey kept
    assert early.tx_coinbase[0] and early.block_bip34_height[0] == -1  # version 1


def test_block_170_pays_hal_finney_ten_btc(early) -> None:
    t = [hash_to_hex(x) for x in early.txid].index(BLOCK_170_TX)
    assert not early.tx_coinbase[t]
    k = int(early.tx_out_start[t])
    assert int(early.out_value[k]) == 1_000_000_000
    assert early.out_script_type[k] == ScriptType.P2PK
    pubkey = early.out_script(k)[1:-1]
    expected = str(P2PKHBitcoinAddress.from_pubkey(pubkey))
    assert encode_address_keys(early.out_addr_key[k : k + 1]) == [expected]
    assert expected == "1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm3"
    i = int(early.tx_in_start[t])  # spends block 9's coinbase
    assert hash_to_hex(early.in_prev_txid[i]) == (
        "0437cd7f8525ceed2324359c2d0ba26006d92d856a9c20fa0241106ee5a597c9"
    )


def test_blk_file_matches_manifest(early) -> None:
    row = next(r for r in manifest_rows() if r["format"] == "blk")
    first, last = row["block_hash"].split("..")
    assert early.n_blocks == int(row["n_blocks"]) == 439
    assert early.n_txs == int(row["n_tx"])
    assert hash_to_hex(early.block_hash[0]) == first
    assert hash_to_hex(early.block_hash[-1]) == last
    # each block's prev hash is the previous block's hash: read in chain order
    assert (early.block_prev_hash[1:] == early.block_hash[:-1]).all()


@pytest.mark.parametrize("row", [r for r in manifest_rows() if r["format"] in ("raw", "hex")],
                         ids=lambda r: r["height"])  # fmt: skip
def test_single_blocks_match_manifest(row: dict[str, str]) -> None:
    data, _ = read_raw_block(BTC / row["file"])
    b = decode_block(data, row["file"])
    assert hash_to_hex(b.block_hash[0]) == row["block_hash"]
    assert hash_to_hex(b.block_prev_hash[0]) == row["prev_block_hash"]
    assert b.n_txs == int(row["n_tx"])
    assert int(b.tx_segwit.sum()) == int(row["n_segwit_tx"])
    assert int(b.block_size[0]) == len(data)
    if row["height_note"] == "BIP34 coinbase height":
        assert int(b.block_bip34_height[0]) == int(row["height"])
    else:
        assert int(b.block_bip34_height[0]) == -1
    assert b.tx_coinbase[0] and not b.tx_coinbase[1:].any()


def test_702861_against_python_bitcoinlib(block_702861: bytes) -> None:
    b = decode_block(block_702861, "702861")
    ref = CBlock.deserialize(block_702861)
    assert b.n_txs == len(ref.vtx) == 2500
    assert int(b.tx_segwit.sum()) == 2065
    for t in [0, 1, 2, 17, 500, 1234, 2065, 2499]:
        tx = ref.vtx[t]
        stripped = CTransaction(tx.vin, tx.vout, tx.nLockTime, tx.nVersion).serialize()
        total = len(tx.serialize())
        assert b.txid[t].tobytes() == tx.GetTxid()
        assert b.wtxid[t].tobytes() == tx.GetHash()
        assert int(b.tx_size[t]) == total
        assert int(b.tx_weight[t]) == 3 * len(stripped) + total
        assert int(b.tx_vsize[t]) == -(-(3 * len(stripped) + total) // 4)
        assert int(b.tx_n_in[t]) == len(tx.vin) and int(b.tx_n_out[t]) == len(tx.vout)
        o = int(b.tx_out_start[t])
        assert [int(v) for v in b.out_value[o : o + len(tx.vout)]] == [x.nValue for x in tx.vout]
    base = 80 + 3 + sum(len(CTransaction(x.vin, x.vout, x.nLockTime, x.nVersion).serialize())
                        for x in ref.vtx)  # fmt: skip
    assert int(b.block_weight[0]) == 3 * base + len(block_702861)
    assert int(b.block_bip34_height[0]) == 702861


def test_702861_output_types(block_702861: bytes) -> None:
    b = decode_block(block_702861, "702861")
    types = b.out_script_type
    addresses = encode_address_keys(b.out_addr_key)
    for kind, prefix, length in [(ScriptType.P2WPKH, "bc1q", 42), (ScriptType.P2WSH, "bc1q", 62),
                                 (ScriptType.P2SH, "3", None), (ScriptType.P2PKH, "1", None)]:  # fmt: skip
        ks = np.flatnonzero(types == kind)
        assert ks.size > 100
        for k in ks[:50]:
            assert addresses[k].startswith(prefix)
            assert length is None or len(addresses[k]) == length
            assert b.out_script_len[k] == 0  # address-carrying scripts are not kept
    nulldata = np.flatnonzero(types == ScriptType.NULLDATA)
    assert nulldata.size == 23
    assert all(b.out_script(int(k))[0] == 0x6A for k in nulldata)
    assert all(addresses[int(k)] is None for k in nulldata)
    # a segwit tx has at least one input with a witness, a legacy tx none
    per_tx = np.add.reduceat(b.in_witness.astype(int), b.tx_in_start)
    assert ((per_tx > 0) == b.tx_segwit).all()
    assert b.in_witness[0]  # the coinbase carries the witness reserved value


def test_concat_and_slice_keep_rows_consistent(early, block_702861: bytes) -> None:
    big = decode_block(block_702861, "702861")
    both = concat_batches([early, big])
    assert both.n_blocks == early.n_blocks + 1
    assert both.n_txs == early.n_txs + big.n_txs
    assert both.source[-1] == "702861"
    back = slice_batch(both, early.n_blocks, both.n_blocks)
    for name in ("txid", "tx_in_start", "tx_out_start", "in_tx", "out_tx", "out_addr_key",
                 "out_script_off", "out_script_buf", "block_tx_start", "tx_block"):  # fmt: skip
        assert np.array_equal(getattr(back, name), getattr(big, name)), name
    mid = slice_batch(early, 9, 171)
    t = [hash_to_hex(x) for x in mid.txid].index(BLOCK_170_TX)
    k = int(mid.tx_out_start[t])
    assert mid.out_value[k] == 1_000_000_000 and len(mid.out_script(k)) == 67
    assert mid.out_tx[k] == t and mid.tx_block[t] == 170 - 9


# ------------------------------------------------------------------ bad input


def test_truncated_block_names_source_and_offset(block_702861: bytes) -> None:
    cut = block_702861[:500_000]
    with pytest.raises(DecodeError, match=r"blk00042\.dat, byte offset \d+: truncated") as err:
        decode_blocks([(cut, "blk00042.dat", 1000)])
    assert 1000 < err.value.offset <= 1000 + 500_000


def test_flipped_byte_breaks_merkle_root(block_702861: bytes) -> None:
    bad = bytearray(block_702861)
    bad[-2] ^= 0x01  # inside the last transaction's locktime: still parses
    with pytest.raises(ValidationError, match="merkle root mismatch") as err:
        decode_blocks([(bytes(bad), "blk00001.dat", 8)])
    assert err.value.source == "blk00001.dat" and err.value.offset == 8 + 36


def test_leftover_bytes_rejected(block_702861: bytes) -> None:
    with pytest.raises(DecodeError, match="leftover"):
        decode_blocks([(block_702861 + b"\x00", "x", 0)])


def test_non_minimal_compact_size_rejected(early) -> None:
    data = bytes(read_blocks(scan_blk_file(BLK_0_438))[0][0])
    bad = data[:80] + b"\xfd\x01\x00" + data[81:]  # tx count 1 written in 3 bytes
    with pytest.raises(DecodeError, match="non-minimal") as err:
        decode_block(bad, "genesis")
    assert err.value.offset == 80


def test_huge_length_prefix_is_capped_before_use(early) -> None:
    data = bytes(read_blocks(scan_blk_file(BLK_0_438))[0][0])
    bad = data[:80] + b"\xfe\x00\x00\x00\x10" + data[81:]  # claims 268M transactions
    with pytest.raises(DecodeError, match="cap"):
        decode_block(bad, "genesis")


def test_empty_input_list() -> None:
    assert decode_blocks([]).n_blocks == 0
    with pytest.raises(DecodeError, match="80-byte header"):
        decode_block(b"\x01" * 20, "short")


# ------------------------------------------------------------------ compact size


def _compact(n: int) -> bytes:
    if n < 0xFD:
        return bytes([n])
    if n <= 0xFFFF:
        return b"\xfd" + n.to_bytes(2, "little")
    return b"\xfe" + n.to_bytes(4, "little")


@given(st.integers(min_value=0, max_value=params.MAX_COMPACT_SIZE))
def test_compact_size_round_trip(n: int) -> None:
    from chaintrail.chains.bitcoin.decode_kernel import OK, read_compact

    enc = _compact(n) + b"\xaa"
    value, pos, err = read_compact(np.frombuffer(enc, np.uint8), 0, len(enc))
    assert (value, pos, err) == (n, len(enc) - 1, OK)


def test_numba_sha256_path_gives_identical_rows(block_702861: bytes, monkeypatch) -> None:
    """Without OpenSSL's SHA256 the pure numba kernel must produce the very same batch."""
    from chaintrail.chains.bitcoin import decode as decode_module

    fast = decode_block(block_702861, "702861")
    monkeypatch.setattr(decode_module, "sha256_fns", lambda: np.zeros(3, np.int64))
    slow = decode_block(block_702861, "702861")
    for name in ("block_hash", "txid", "wtxid", "out_addr_key", "tx_weight"):
        assert np.array_equal(getattr(fast, name), getattr(slow, name)), name
