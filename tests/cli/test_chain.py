"""The chain CLI end to end on real mainnet data: ingest, block, tx, address, stats, bad input."""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import struct
from pathlib import Path

import pytest

from chaintrail.cli import main

DATA = Path(__file__).resolve().parents[1] / "data"
BLK = DATA / "btc" / "blk_mainnet_blocks_0-438.dat"
B702861 = DATA / "btc" / "block_702861_000000000000000000000c835b2adcaedc20fdf6ee440009c249452c726dafae.raw"  # fmt: skip
HAL_TX = "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16"


def run(capsys, *args: str) -> tuple[int, str, str]:
    """Run the CLI in-process; returns (exit code, stdout, stderr)."""
    code = 0
    try:
        main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def run_json(capsys, *args: str):  # type: ignore[no-untyped-def]
    code, out, err = run(capsys, *args, "--json")
    assert code == 0, err
    return json.loads(out)


@pytest.fixture(scope="module")
def store_0_438(tmp_path_factory) -> Path:
    store = tmp_path_factory.mktemp("cli") / "store"
    try:
        main(["ingest", str(BLK), "--store", str(store)])
    except SystemExit as exc:
        assert not exc.code
    return store


def test_genesis_address_received_the_first_block_reward(capsys, store_0_438: Path) -> None:
    info = run_json(
        capsys, "address", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "--store", str(store_0_438)
    )
    assert info["total_received"] == 5_000_000_000 and info["balance"] == 5_000_000_000
    assert info["first_seen_height"] == 0 and info["tx_count"] == 1
    assert info["script_type"] == "p2pkh"


def test_block_170_tx_pays_hal_finney_10_btc_with_zero_fee(capsys, store_0_438: Path) -> None:
    from chaintrail.chains.bitcoin.encoding import b58check_encode
    from chaintrail.chains.bitcoin.hashing import hash160

    tx = run_json(capsys, "tx", HAL_TX, "--store", str(store_0_438))
    assert tx["fee"] == 0 and tx["height"] == 170 and not tx["coinbase"]
    assert tx["block_hash"] == "00000000d1145790a8694403d4063f323d499e655c83426834d4ce2f8dd4a2ee"
    hal, back = tx["outputs"]
    # independently: P2PK script = push(65-byte key) OP_CHECKSIG -> P2PKH of hash160(key)
    raw = BLK.read_bytes()
    key_pos = raw.find(bytes.fromhex("4104ae1a62fe09c5f51b13905f07f06b99a2f7159b2225f374cd378d71302fa28414e7aab37397f554a7df5f142c21c1b7303b8a0626f1baded5c72a704f7e6cd84cac"))  # fmt: skip
    key = raw[key_pos + 1 : key_pos + 66]
    chain_fields = ("index", "value", "script_type", "address", "spent_by_txid")
    assert {k: hal[k] for k in chain_fields} == {"index": 0, "value": 1_000_000_000, "script_type": "p2pk",
                   "address": b58check_encode(b"\x00" + hash160(key)), "spent_by_txid": None}  # fmt: skip
    assert hal["address"] == "1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm3"
    assert (
        back["value"] == 4_000_000_000 and back["address"] == "12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S"
    )
    chain_fields = ("prev_txid", "prev_vout", "address", "value")
    assert [{k: i[k] for k in chain_fields} for i in tx["inputs"]] == [{"prev_txid": "0437cd7f8525ceed2324359c2d0ba26006d92d856a9c20fa0241106ee5a597c9",
                             "prev_vout": 0, "address": "12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S",
                             "value": 5_000_000_000}]  # fmt: skip


def test_block_by_height_and_hash(capsys, store_0_438: Path) -> None:
    by_height = run_json(capsys, "block", "170", "--store", str(store_0_438))
    by_hash = run_json(capsys, "block", by_height["hash"], "--store", str(store_0_438))
    assert by_hash == by_height
    assert by_height["tx_count"] == 2 and by_height["total_output_value"] == 10_000_000_000
    assert by_height["time"] == 1231731025 and by_height["size"] == 490


def test_stats(capsys, store_0_438: Path) -> None:
    s = run_json(capsys, "stats", "--store", str(store_0_438))
    assert (s["blocks"], s["tip_height"], s["txs"]) == (439, 438, 446)
    assert s["tip_hash"] == "0000000025c6b644f8add734be7e666fa4afa43ca0204d623a0c0b1fd2104c7a"
    assert s["store_bytes"] > 0


def test_human_output_is_a_table(capsys, store_0_438: Path) -> None:
    code, out, _ = run(capsys, "tx", HAL_TX, "--store", str(store_0_438))
    assert code == 0 and "1Q2TWHE3GMdB6" in out and "10.00000000" in out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("tx", "00" * 32), "not in the store"),
        (("address", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"), "not in the store"),
        (("address", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb"), "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb"),
        (("block", "999999"), "not in the store"),
    ],
)
def test_unknown_or_malformed_lookups_are_one_line_errors(
    capsys, store_0_438, args, needle
) -> None:
    code, out, err = run(capsys, *args, "--store", str(store_0_438), "--json")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and needle in err and "Traceback" not in err


def test_allow_gaps_block_702861_matches_python_bitcoinlib(capsys, tmp_path: Path) -> None:
    import bitcoin
    from bitcoin.core import CBlock
    from bitcoin.wallet import CBitcoinAddress

    bitcoin.SelectParams("mainnet")
    store = str(tmp_path / "s")
    code, _, err = run(capsys, "ingest", "--allow-gaps", str(B702861), "--store", store)
    assert code == 0, err
    block = CBlock.deserialize(B702861.read_bytes())
    assert run_json(capsys, "block", "702861", "--store", store)["tx_count"] == len(block.vtx)
    for i in (0, 1, 5, 100, 777, 1500, 2499):
        ref = block.vtx[i]
        total = len(ref.serialize())
        base = len(ref.serialize({"include_witness": False}))
        weight = base * 3 + total
        got = run_json(capsys, "tx", ref.GetTxid()[::-1].hex(), "--store", store)
        assert (got["height"], got["size"], got["weight"]) == (702861, total, weight)
        assert got["vsize"] == math.ceil(weight / 4)
        assert [o["value"] for o in got["outputs"]] == [o.nValue for o in ref.vout]
        for o, r in zip(got["outputs"], ref.vout, strict=True):
            try:
                want = str(CBitcoinAddress.from_scriptPubKey(r.scriptPubKey))
            except Exception:  # noqa: BLE001 - bitcoinlib 0.12 knows no taproot/bare multisig
                continue
            assert o["address"] == want
        if i:  # spent outputs are outside this single block: unresolved, fee unknown
            assert got["fee"] is None and all(x["value"] is None for x in got["inputs"])
            assert [x["prev_vout"] for x in got["inputs"]] == [x.prevout.n for x in ref.vin]


def _store_rows(store: Path) -> dict[str, list]:
    from chaintrail.store import ChainStore

    con = ChainStore.open(store).con()
    order = {"blocks": "height", "txs": "tx_id", "inputs": "in_id", "outputs": "out_id", "addresses": "address_id"}  # fmt: skip
    return {t: con.execute(f"SELECT * FROM {t} ORDER BY {o}").fetchall() for t, o in order.items()}


def test_rpc_json_and_raw_bytes_of_the_same_blocks_give_identical_rows(
    capsys, tmp_path: Path
) -> None:
    raw = BLK.read_bytes()
    n0 = struct.unpack_from("<I", raw, 4)[0]
    n1 = struct.unpack_from("<I", raw, 8 + n0 + 4)[0]
    (tmp_path / "blk00000.dat").write_bytes(raw[: 16 + n0 + n1])
    rpc = [next((DATA / "rpc" / f"block_{h}").glob("rpc_response_getblock_*")) for h in (0, 1)]
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    assert run(capsys, "ingest", str(tmp_path / "blk00000.dat"), "--store", a)[0] == 0
    code, _, err = run(capsys, "ingest", *map(str, rpc), "--store", b)
    assert code == 0, err
    rows = _store_rows(Path(a))
    assert len(rows["txs"]) == 2 and rows == _store_rows(Path(b))


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        h.update(str(p.relative_to(root)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


def _bad_inputs(tmp: Path) -> dict[str, tuple[Path, str]]:
    raw = BLK.read_bytes()
    n0 = struct.unpack_from("<I", raw, 4)[0]
    first = 8 + n0  # blocks 1.. follow; block 0 is already stored
    cases = {}
    cases["truncated"] = (raw[first : first + 500], "blk00001.dat")
    wrong = bytearray(raw[first:])
    wrong[0] = 0xFA
    cases["wrong magic"] = (bytes(wrong), "blk00002.dat")
    flipped = bytearray(raw[first:])
    flipped[8 + 80 + 20] ^= 0x01  # inside block 1's coinbase: merkle root mismatch
    cases["merkle"] = (bytes(flipped), "blk00003.dat")
    out = {}
    for name, (data, fname) in cases.items():
        d = tmp / name.replace(" ", "_")
        d.mkdir()
        (d / fname).write_bytes(data)
        out[name] = (d / fname, fname)
    return out


def test_bad_input_is_one_line_names_file_and_offset_and_leaves_store_untouched(capsys, tmp_path: Path) -> None:  # fmt: skip
    store = tmp_path / "s"
    raw = BLK.read_bytes()
    n0 = struct.unpack_from("<I", raw, 4)[0]
    (tmp_path / "genesis.dat").write_bytes(raw[: 8 + n0])
    assert run(capsys, "ingest", str(tmp_path / "genesis.dat"), "--store", str(store))[0] == 0
    before = _digest(store)
    expectations = {"truncated": "byte offset", "wrong magic": "magic", "merkle": "merkle"}
    for name, (path, fname) in _bad_inputs(tmp_path).items():
        code, out, err = run(capsys, "ingest", str(path), "--store", str(store))
        assert code == 1, name
        lines = err.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in err, err
        assert fname in lines[0] and "byte offset" in lines[0], lines[0]
        assert expectations[name] in lines[0].lower(), lines[0]
        assert _digest(store) == before, name
    shutil.rmtree(tmp_path / "truncated")


def test_second_writer_is_refused_naming_the_holder(capsys, tmp_path: Path) -> None:
    import os

    from chaintrail.store import ChainStore

    store = ChainStore.open(tmp_path / "s", create=True)
    with store.writer():
        code, _, err = run(capsys, "ingest", str(BLK), "--store", str(tmp_path / "s"))
    assert code == 1 and f"pid {os.getpid()}" in err and err.count("\n") == 1
