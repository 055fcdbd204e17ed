"""The simulator's blk files decode as consensus-exact blocks (real decoder + bitcoinlib)."""

from __future__ import annotations

import hashlib

import numpy as np
from bitcoin.core import CBlock

from chaintrail.chains.bitcoin.serialize import witness_commitment
from chaintrail.chains.model import hash_to_hex

COIN = 100_000_000


def _sha256d(b: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(b).digest()).digest()


def test_files_are_core_framed_and_chain_links(tiny) -> None:
    data = b"".join(f.read_bytes() for f in tiny.result.block_files)
    pos, n = 0, 0
    while pos < len(data):
        assert data[pos : pos + 4] == bytes.fromhex("f9beb4d9")
        size = int.from_bytes(data[pos + 4 : pos + 8], "little")
        pos += 8 + size
        n += 1
    assert pos == len(data) and n == tiny.batch.n_blocks == tiny.result.n_blocks
    b = tiny.batch
    assert not b.block_prev_hash[0].any()
    assert (b.block_prev_hash[1:] == b.block_hash[:-1]).all()
    assert b.block_bip34_height.tolist() == list(range(b.n_blocks))


def test_txids_match_truth_and_proof_of_work_holds(tiny) -> None:
    b = tiny.batch
    assert [hash_to_hex(t) for t in b.txid] == tiny.txs["txid"]
    assert len(set(tiny.txs["txid"])) == b.n_txs
    for raw, h in zip(tiny.raw_blocks, b.block_hash, strict=True):
        header_hash = _sha256d(raw[:80])
        assert header_hash == bytes(h)
        assert int.from_bytes(header_hash, "little") <= 0x7FFFFF << (8 * 29)  # regtest bits


def test_independent_decoder_agrees_on_sample(tiny) -> None:
    b = tiny.batch
    for k in range(0, b.n_blocks, 23):
        blk = CBlock.deserialize(tiny.raw_blocks[k])
        assert blk.calc_merkle_root() == blk.hashMerkleRoot == bytes(b.block_merkle_root[k])
        t0 = int(b.block_tx_start[k])
        assert [tx.GetTxid() for tx in blk.vtx] == [
            bytes(t) for t in b.txid[t0 : t0 + len(blk.vtx)]
        ]


def test_witness_commitment_in_blocks_with_segwit(tiny) -> None:
    b = tiny.batch
    checked = 0
    for k in range(b.n_blocks):
        t0, n = int(b.block_tx_start[k]), int(b.block_n_tx[k])
        has_segwit = bool(b.tx_segwit[t0 + 1 : t0 + n].any())
        o0, no = int(b.tx_out_start[t0]), int(b.tx_n_out[t0])
        scripts = [b.out_script(o) for o in range(o0, o0 + no)]
        commits = [s for s in scripts if s.startswith(bytes.fromhex("6a24aa21a9ed"))]
        assert bool(commits) == has_segwit
        if has_segwit:
            wtxids = [bytes(w) for w in b.wtxid[t0 : t0 + n]]
            assert commits[-1][6:] == witness_commitment(wtxids)
            checked += 1
    assert checked > b.n_blocks // 2


def test_every_spend_is_of_an_unspent_output_and_values_conserve(tiny) -> None:
    b = tiny.batch
    utxo: dict[tuple[bytes, int], int] = {}
    coinbase_height: dict[bytes, int] = {}
    for k in range(b.n_blocks):
        t0, n = int(b.block_tx_start[k]), int(b.block_n_tx[k])
        fees = 0
        for t in range(t0, t0 + n):
            txid = bytes(b.txid[t])
            i0, ni = int(b.tx_in_start[t]), int(b.tx_n_in[t])
            o0, no = int(b.tx_out_start[t]), int(b.tx_n_out[t])
            out_sum = int(b.out_value[o0 : o0 + no].sum())
            if t > t0:
                in_sum = 0
                for i in range(i0, i0 + ni):
                    key = (bytes(b.in_prev_txid[i]), int(b.in_prev_vout[i]))
                    assert key in utxo, f"tx {hash_to_hex(txid)} spends a missing/spent output"
                    assert k - coinbase_height.get(key[0], -1000) >= 100, "immature coinbase spent"
                    in_sum += utxo.pop(key)
                assert in_sum >= out_sum
                fees += in_sum - out_sum
            else:
                cb_total = out_sum
                coinbase_height[txid] = k
            for v in range(no):
                if b.out_value[o0 + v] > 0:
                    utxo[(txid, v)] = int(b.out_value[o0 + v])
        assert cb_total == 50 * COIN + fees, f"block {k} coinbase is not subsidy + fees"


def test_no_dust_and_realistic_script_mix(tiny) -> None:
    b = tiny.batch
    addressed = b.out_addr_key[:, 0] != 0xFF
    assert (b.out_value[addressed] >= 546).all()
    types, counts = np.unique(b.out_script_type, return_counts=True)
    mix = dict(zip(types.tolist(), counts.tolist(), strict=True))
    for t in (2, 3, 4, 5, 6, 8):  # p2pkh p2sh p2wpkh p2wsh p2tr nulldata
        assert mix.get(t, 0) > 0, f"script type {t} missing"
    assert mix[4] > mix[2] > 0  # P2WPKH dominates, legacy still present


def test_generation_refuses_a_block_over_the_weight_limit(tiny, tmp_path, monkeypatch) -> None:
    """The serialiser's own BIP141 weight agrees with the decoder's at the heaviest block: a
    limit exactly there passes, one unit less stops generation naming that block."""
    import pytest

    from chaintrail.sim import blockfile, simulate

    from .conftest import SEED

    heaviest = int(np.argmax(tiny.batch.block_weight))
    weight = int(tiny.batch.block_weight[heaviest])
    monkeypatch.setattr(blockfile, "MAX_BLOCK_WEIGHT", weight)
    simulate("tiny", SEED, tmp_path / "at-limit")
    monkeypatch.setattr(blockfile, "MAX_BLOCK_WEIGHT", weight - 1)
    with pytest.raises(ValueError, match=f"block {heaviest} weighs {weight:,} weight units"):
        simulate("tiny", SEED, tmp_path / "over")
    assert not (tmp_path / "over" / "blocks").exists()  # nothing half-written
