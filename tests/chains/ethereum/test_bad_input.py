"""Bad input is one error line naming the file, block, transaction or log and what was expected."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from chaintrail.chains.ethereum.etl import load_etl
from chaintrail.chains.ethereum.rpc_files import load_rpc_json
from chaintrail.errors import DecodeError, InputError, ValidationError

from .conftest import BLOCKS_JOB, GETH, PARITY, RECEIPTS_483920, RPC_17173049, STREAM

BLOCK = BLOCKS_JOB / "block_with_logs" / "web3_response.eth_getBlockByNumber_0x76250_true.json"
RECEIPT = RECEIPTS_483920 / (
    "web3_response.eth_getTransactionReceipt_"
    "0x04cbcb236043d8fb7839e07bbc7f5eed692fb2ca55d897f1101eac3e3ad4fab8.json"
)


def _edit(src: Path, dst_dir: Path, change: Any) -> Path:
    doc = json.loads(src.read_text())
    change(doc["result"])
    dst = dst_dir / src.name
    dst.write_text(json.dumps(doc))
    return dst


def _with_receipts(tmp_path: Path) -> None:
    shutil.copy(BLOCK, tmp_path / BLOCK.name)
    for f in RECEIPTS_483920.glob("web3_response.*.json"):
        shutil.copy(f, tmp_path / f.name)


def _one_line(err: pytest.ExceptionInfo[Exception], *parts: str) -> None:
    msg = str(err.value)
    assert "\n" not in msg
    for p in parts:
        assert p in msg, f"{p!r} not in {msg!r}"


def test_an_unknown_block_field_names_it_and_the_table_to_add_it_to(tmp_path: Path) -> None:
    f = _edit(BLOCK, tmp_path, lambda r: r["transactions"][2].update(blobs="0x00"))
    with pytest.raises(ValidationError) as err:
        load_rpc_json(f)
    _one_line(err, str(f), "'blobs'", "transactions[2]", "IGNORED_TX_FIELDS", "rpc_fields.py")
    f = _edit(BLOCK, tmp_path, lambda r: r.update(verkleRoot="0x00"))
    with pytest.raises(ValidationError) as err:
        load_rpc_json(f)
    _one_line(err, "'verkleRoot' at top level", "IGNORED_BLOCK_FIELDS")


def test_a_block_saved_without_full_transactions_says_how_to_save_it(tmp_path: Path) -> None:
    f = _edit(BLOCK, tmp_path, lambda r: r.update(transactions=[t["hash"] for t in r["transactions"]]))
    with pytest.raises(ValidationError) as err:
        load_rpc_json(f)
    _one_line(err, "transactions are hashes only", "with true")


def test_a_malformed_value_names_block_tx_and_field(tmp_path: Path) -> None:
    f = _edit(BLOCK, tmp_path, lambda r: r["transactions"][3].update(value="0xzz"))
    with pytest.raises(ValidationError) as err:
        load_rpc_json(f)
    _one_line(err, "block 483920 tx 3 (0x05287a56", "value", "expected a hex quantity", "'0xzz'")


def test_a_checksum_invalid_address_is_refused(tmp_path: Path) -> None:
    bad = "0x1B63142628311395ceafeea5667e7c9026c862CA"  # mixed case, not the EIP-55 form
    f = _edit(BLOCK, tmp_path, lambda r: r["transactions"][0].update({"from": bad}))
    with pytest.raises(ValidationError) as err:
        load_rpc_json(f)
    _one_line(err, "block 483920 tx 0", "from", "EIP-55", bad)


def test_a_log_that_does_not_decode_names_block_tx_and_log(tmp_path: Path) -> None:
    _with_receipts(tmp_path)

    def short_topic(r: dict[str, Any]) -> None:
        r["logs"][0]["topics"][1] = "0x1b63142628311395ceafeea5667e7c9026c862ca"  # 20 bytes, not 32

    _edit(RECEIPT, tmp_path, short_topic)
    with pytest.raises(ValidationError) as err:
        load_rpc_json(tmp_path)
    _one_line(err, "block 483920 tx 0", "log 0 topics", "expected 0x + 64 hex digits")


def test_a_log_with_five_topics_is_refused(tmp_path: Path) -> None:
    _with_receipts(tmp_path)
    _edit(RECEIPT, tmp_path, lambda r: r["logs"][0]["topics"].extend(["0x" + "00" * 32] * 2))
    with pytest.raises(ValidationError) as err:
        load_rpc_json(tmp_path)
    _one_line(err, "log 0 topics", "5 topics; a log has at most 4")


def test_a_receipt_that_does_not_fit_or_a_missing_receipt(tmp_path: Path) -> None:
    _with_receipts(tmp_path)
    _edit(RECEIPT, tmp_path, lambda r: r.update(transactionIndex="0x1"))
    with pytest.raises(ValidationError) as err:
        load_rpc_json(tmp_path)
    _one_line(err, "block 483920 tx 0", "receipt transactionIndex", "is 1, the transaction's is 0")
    (tmp_path / RECEIPT.name).unlink()
    with pytest.raises(ValidationError) as err:
        load_rpc_json(tmp_path)
    _one_line(err, "block 483920: receipts for 3 of 4 transactions; missing 0x04cbcb23", "eth_getBlockReceipts")


def test_receipts_that_do_not_match_the_block(tmp_path: Path) -> None:
    for f in RPC_17173049.glob("*.json"):
        shutil.copy(f, tmp_path)
    f = next(tmp_path.glob("eth_getBlockReceipts_0x1060a39.json"))
    doc = json.loads(f.read_text())
    k = next(i for i, r in enumerate(doc["result"]) if r["logs"])
    doc["result"][k]["logs"][0]["transactionHash"] = doc["result"][k + 1]["transactionHash"]
    f.write_text(json.dumps(doc))
    with pytest.raises(ValidationError) as err:
        load_rpc_json(tmp_path)
    _one_line(err, f"block 17173049 tx {k}", "log 0 transactionHash", "another transaction")


def test_an_rpc_error_answer_and_a_missing_block(tmp_path: Path) -> None:
    (tmp_path / "err.json").write_text('{"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"header not found"}}')
    with pytest.raises(InputError) as err:
        load_rpc_json(tmp_path / "err.json")
    _one_line(err, "err.json", "saved RPC error answer", "header not found")
    (tmp_path / "err.json").write_text('{"jsonrpc":"2.0","id":1,"result":null}')
    with pytest.raises(InputError, match="no result"):
        load_rpc_json(tmp_path / "err.json")
    (tmp_path / "err.json").write_text('{"jsonrpc":"2.0","id":1,"result":{"number":"0x1"')
    with pytest.raises(DecodeError, match="not readable JSON"):
        load_rpc_json(tmp_path / "err.json")


def test_geth_traces_that_do_not_fit_the_block(tmp_path: Path) -> None:
    # the block 483920 with the 2-transaction trace answer of block 1000895 named as its own
    shutil.copy(BLOCK, tmp_path / BLOCK.name)
    src = next((GETH / "block_with_error").glob("web3_response.*.json"))
    shutil.copy(src, tmp_path / "web3_response.debug_traceBlockByNumber_0x76250.json")
    with pytest.raises(ValidationError) as err:
        load_rpc_json(tmp_path)
    _one_line(err, "block 483920 traces", "2 transaction traces for 4 transactions")


def test_an_unknown_trace_type_names_it(tmp_path: Path) -> None:
    src = next((PARITY / "block_with_create").glob("web3_response.*.json"))
    f = _edit(src, tmp_path, lambda r: r[1].update(type="create3"))
    with pytest.raises(ValidationError) as err:
        load_rpc_json(f)
    _one_line(err, "block 1000690 traces", "unknown trace type 'create3'")


def test_etl_unknown_column_bad_cell_and_inconsistent_rows(tmp_path: Path) -> None:
    src = STREAM / "expected_transactions.json"
    lines = src.read_text().splitlines()
    blocks = tmp_path / "blocks.json"
    shutil.copy(STREAM / "expected_blocks.json", blocks)

    def write(rows: list[dict[str, Any]]) -> Path:
        f = tmp_path / "transactions.json"
        f.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
        return f

    rows = [json.loads(x) for x in lines]
    rows[7]["chain_id"] = 1
    write(rows)
    with pytest.raises(ValidationError) as err:
        load_etl(tmp_path)
    _one_line(err, "transactions.json", "unknown transactions column(s) ['chain_id']", "etl_fields.py")
    rows = [json.loads(x) for x in lines]
    rows[7]["from_address"] = "0xnothex"
    write(rows)
    with pytest.raises(ValidationError) as err:
        load_etl(tmp_path)
    _one_line(err, "transactions.json", "line 8 from_address", "expected 0x + 40 hex digits")
    rows = [json.loads(x) for x in lines]
    del rows[10]
    write(rows)
    with pytest.raises(ValidationError) as err:
        load_etl(tmp_path)
    _one_line(err, "blocks.json", "transaction_count", "says 116, the transactions export has 115")


def test_etl_trace_status_that_contradicts_the_errors(tmp_path: Path) -> None:
    text = (PARITY / "block_with_error" / "expected_traces.csv").read_text()
    f = tmp_path / "traces.csv"
    f.write_text(text.replace(",Out of gas,0,", ",Out of gas,1,"))
    with pytest.raises(ValidationError) as err:
        load_etl(f)
    _one_line(err, "traces.csv", "line 2 status", "says 1")
