"""The ethereum-etl path reads every export kind and gives the same rows as the JSON-RPC path."""

from __future__ import annotations

import numpy as np
import pytest

from chaintrail.chains.ethereum import etl_rows as er
from chaintrail.chains.ethereum import hexcodec, u256
from chaintrail.chains.ethereum.address import address_column
from chaintrail.chains.ethereum.batch import EthBatch, Var
from chaintrail.chains.ethereum.etl import load_etl
from chaintrail.chains.ethereum.events import decode_events
from chaintrail.chains.ethereum.hexcodec import fixed_to_hex
from chaintrail.chains.ethereum.rpc_files import load_rpc_json

from .conftest import (
    BLOCKS_JOB,
    ETL,
    PARITY,
    RECEIPTS_483920,
    RPC_17173049,
    STREAM,
    TRACE_CASES,
    TRANSFERS_483920,
    WITHDRAWALS,
    as_csv,
    assert_rows_match,
    csv_rows,
    json_rows,
)

ALL_KINDS = (er.block_rows, er.transaction_rows, er.receipt_rows, er.log_rows, er.token_transfer_rows,
             er.trace_rows, er.contract_rows, er.token_rows)  # fmt: skip


def _same_rows(a: object, b: object) -> None:
    for render in ALL_KINDS:
        assert render(a) == render(b), render.__name__  # type: ignore[arg-type]


def test_post_shanghai_blocks_rpc_and_etl_paths_give_identical_rows() -> None:
    rpc = load_rpc_json(RPC_17173049)
    etl = load_etl(STREAM)
    _same_rows(rpc, etl)
    for render in (er.block_rows, er.transaction_rows, er.log_rows, er.token_transfer_rows):
        assert render(rpc, stream=True) == render(etl, stream=True)  # type: ignore[operator]
    assert len(er.token_transfer_rows(etl)) == 291
    assert_rows_match(er.token_transfer_rows(etl, stream=True),
                      json_rows(STREAM / "expected_token_transfers.json"), "item_id")  # fmt: skip


@pytest.mark.parametrize("ext", ["csv", "json"])
def test_the_blocks_export_of_the_same_blocks_reads_the_same(ext: str) -> None:
    etl = load_etl([WITHDRAWALS / f"expected_blocks.{ext}", WITHDRAWALS / f"expected_transactions.{ext}"])
    rpc = load_rpc_json(RPC_17173049)
    assert er.block_rows(etl) == er.block_rows(rpc)
    assert er.transaction_rows(etl) == er.transaction_rows(rpc)
    assert not etl.tx_receipt_has.any()  # the blocks export carries no receipts


def test_block_483920_from_csv_exports_equals_the_rpc_answers() -> None:
    d = BLOCKS_JOB / "block_with_logs"
    etl = load_etl([d / "expected_blocks.csv", d / "expected_transactions.csv",
                    RECEIPTS_483920 / "expected_receipts.csv", RECEIPTS_483920 / "expected_logs.csv",
                    TRANSFERS_483920 / "expected_token_transfers.csv"])  # fmt: skip
    rpc = load_rpc_json([d, RECEIPTS_483920])
    _same_rows(etl, rpc)


@pytest.mark.parametrize("case", ["blocks_with_transactions", "block_without_transactions"])
def test_early_blocks_from_csv_equal_the_rpc_answers(case: str) -> None:
    _same_rows(load_etl(BLOCKS_JOB / case), load_rpc_json(BLOCKS_JOB / case))


@pytest.mark.parametrize("case", TRACE_CASES[:-1])  # the last has no traces to export
def test_traces_csv_equals_parity_trace_block(case: str) -> None:
    etl = load_etl(PARITY / case / "expected_traces.csv")
    rpc = load_rpc_json(sorted((PARITY / case).glob("web3_response.*.json")))
    assert er.trace_rows(etl) == er.trace_rows(rpc)
    assert er.contract_rows(etl) == er.contract_rows(rpc)
    assert etl.tr_status.tolist() == rpc.tr_status.tolist()


def test_transfers_are_decoded_from_logs_as_ethereum_etl_does() -> None:
    # three real logs of block 1452581; the middle one is not a Transfer
    d = ETL / "test_extract_token_transfers_job" / "logs"
    logs = csv_rows(d / "logs.csv")
    b = EthBatch()
    b.log_tx = np.arange(len(logs), dtype=np.int64)
    b.log_index = np.array([int(r["log_index"]) for r in logs], np.int32)
    b.log_address = address_column([r["address"] for r in logs])
    topics = [r["topics"].split(",") for r in logs]
    b.log_n_topics = np.array([len(t) for t in topics], np.int8)
    b.log_topics = np.zeros((len(logs), 4, 32), np.uint8)
    for i, t in enumerate(topics):
        b.log_topics[i, : len(t)] = hexcodec.fixed(t, 32)
    b.log_data = Var(*hexcodec.var_bytes([r["data"] for r in logs]), np.ones(len(logs), bool))
    counts = decode_events(b)
    assert counts.transfers == 2 and counts.odd_transfer_logs == 0
    exp = csv_rows(d / "expected_token_transfers.csv")
    assert fixed_to_hex(b.tt_token) == [e["token_address"] for e in exp]
    assert fixed_to_hex(b.tt_from) == [e["from_address"] for e in exp]
    assert fixed_to_hex(b.tt_to) == [e["to_address"] for e in exp]
    assert u256.to_ints(b.tt_value) == [int(e["value"]) for e in exp]
    assert b.tt_log_index.tolist() == [int(e["log_index"]) for e in exp]


def test_contracts_and_tokens_exports() -> None:
    c = load_etl(ETL / "test_export_contracts_job" / "erc721_contract" / "expected_contracts.json")
    assert_rows_match(er.contract_rows(c), json_rows(ETL / "test_export_contracts_job" / "erc721_contract"
                                                     / "expected_contracts.json"), "address")  # fmt: skip
    for case in ("token_with_alternative_return_type", "token_with_invalid_data"):
        f = ETL / "test_export_tokens_job" / case / "expected_tokens.csv"
        assert as_csv(er.token_rows(load_etl(f))) == csv_rows(f)
