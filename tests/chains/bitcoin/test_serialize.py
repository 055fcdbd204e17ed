"""Serialisation kernels agree with real mainnet blocks (merkle, witness commitment, BIP34)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from bitcoin.core import CBlock

from chaintrail.chains.bitcoin.hashing import new_scratch
from chaintrail.chains.bitcoin.serialize import (
    merkle_root,
    merkle_root_into,
    put_bip34_height,
    put_der_signature,
    put_header_and_mine,
    put_varint,
    witness_commitment,
)

DATA = Path(__file__).parents[2] / "data" / "btc"
SEGWIT_BLOCK = "block_702861_000000000000000000000c835b2adcaedc20fdf6ee440009c249452c726dafae.raw"


def _block() -> CBlock:
    return CBlock.deserialize((DATA / SEGWIT_BLOCK).read_bytes())


def test_merkle_root_of_a_real_block_both_ways() -> None:
    blk = _block()
    txids = [tx.GetTxid() for tx in blk.vtx]
    assert merkle_root(txids) == blk.hashMerkleRoot
    arr = np.frombuffer(b"".join(txids), np.uint8).reshape(-1, 32)
    out = np.zeros(32, np.uint8)
    merkle_root_into(
        arr, len(txids), np.zeros((len(txids) + 1, 32), np.uint8), *new_scratch(), out, 0
    )
    assert out.tobytes() == blk.hashMerkleRoot


def test_witness_commitment_of_a_real_segwit_block() -> None:
    blk = _block()
    wtxids = [hashlib.sha256(hashlib.sha256(tx.serialize()).digest()).digest() for tx in blk.vtx]
    scripts = [bytes(o.scriptPubKey) for o in blk.vtx[0].vout]
    committed = [s[6:38] for s in scripts if s.startswith(bytes.fromhex("6a24aa21a9ed"))]
    assert committed[-1] == witness_commitment(wtxids)


def test_bip34_height_matches_the_real_coinbase() -> None:
    script = bytes(_block().vtx[0].vin[0].scriptSig)
    buf = np.zeros(8, np.uint8)
    n = put_bip34_height(buf, 0, 702861)
    assert buf[:n].tobytes() == script[:n]
    assert put_bip34_height(buf, 0, 5) == 1 and buf[0] == 0x55  # OP_5, as CScript() << 5
    n = put_bip34_height(buf, 0, 128)  # needs a sign byte
    assert buf[:n].tobytes() == bytes([2, 0x80, 0x00])


def test_varint_and_der_shapes() -> None:
    buf = np.zeros(80, np.uint8)
    assert put_varint(buf, 0, 0xFC) == 1
    assert put_varint(buf, 0, 0xFD) == 3 and buf[:3].tobytes() == b"\xfd\xfd\x00"
    assert put_varint(buf, 0, 70000) == 5 and buf[0] == 0xFE
    rs = np.full(64, 0xFF, np.uint8)
    for total in (71, 72):
        end = put_der_signature(buf, 0, rs, 0, total)
        sig = buf[:end].tobytes()
        assert len(sig) == total and sig[0] == 0x30 and sig[1] == total - 3 and sig[-1] == 1


def test_mined_header_meets_regtest_target() -> None:
    buf = np.zeros(80, np.uint8)
    h = np.zeros(32, np.uint8)
    z = np.zeros(32, np.uint8)
    put_header_and_mine(buf, 0, 0x20000000, z, z, 1_700_000_000, 0x207FFFFF, *new_scratch(), h)
    digest = hashlib.sha256(hashlib.sha256(buf.tobytes()).digest()).digest()
    assert digest == h.tobytes()
    assert int.from_bytes(digest, "little") <= 0x7FFFFF << (8 * 29)
