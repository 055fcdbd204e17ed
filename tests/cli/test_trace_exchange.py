"""Exports an investigator hands on: transactions in STIX/MISP exports, traces as a STIX report
and a MISP event, and the trace format chosen from the ``--out`` file name (never JSON in a
``.graphml`` file). Real mainnet blocks 0-438."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import pytest
from pymisp import MISPEvent

from chaintrail.intel.stix import validate_stix

from .clirun import BLOCKS, cli_store, run

SATOSHI_BLOCK9 = "12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S"
HAL_FINNEY = "1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm3"
FIRST_PAYMENT = "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16"  # block 170


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return cli_store(tmp_path_factory.mktemp("trace-exchange") / "store", ["ingest", str(BLOCKS)], ["cluster"],
                     ["tags", "add", HAL_FINNEY, "--label", "Hal Finney", "--category", "user"])  # fmt: skip


def _objects(path: Path) -> list[dict]:
    return json.loads(path.read_text())["objects"]


def test_stix_export_of_a_transaction_holds_the_transaction(capsys, store: Path, tmp_path: Path) -> None:
    out = tmp_path / "tx.json"
    code, stdout, err = run(capsys, "export", "stix", "--tx", FIRST_PAYMENT, "--out", str(out),
                            "--store", str(store), "--json")  # fmt: skip
    assert code == 0, err
    assert json.loads(stdout)["transactions"] == 1
    text = out.read_text()
    assert validate_stix(text) == []
    objs = {o["id"]: o for o in _objects(out)}
    (tx,) = [o for o in objs.values() if o["type"] == "cryptocurrency-transaction"]
    assert tx["value"] == FIRST_PAYMENT and tx["symbol"] == "BTC"
    assert tx["execution_time"] == "2009-01-12T03:30:25Z"
    paid = {objs[o["address_ref"]]["value"]: o["amount"] for o in tx["output"]}
    assert paid == {HAL_FINNEY: 10 * 10**8, SATOSHI_BLOCK9: 40 * 10**8}


def test_misp_export_of_a_transaction_holds_the_transaction(capsys, store: Path, tmp_path: Path) -> None:
    out = tmp_path / "tx.misp.json"
    code, stdout, err = run(capsys, "export", "misp", "--tx", FIRST_PAYMENT, "--out", str(out),
                            "--store", str(store), "--json")  # fmt: skip
    assert code == 0, err
    assert json.loads(stdout)["transactions"] == 1
    ev = MISPEvent()
    ev.load(out.read_text())
    (tx,) = [o for o in ev.objects if o.name == "btc-transaction"]
    attrs = {(a.object_relation, a.value) for a in tx.attributes}
    assert ("transaction-number", FIRST_PAYMENT) in attrs and ("btc-address", HAL_FINNEY) in attrs


def test_a_tag_csv_reports_only_what_it_holds(capsys, store: Path, tmp_path: Path) -> None:
    out = tmp_path / "tags.csv"
    code, stdout, err = run(capsys, "export", "csv", "--tx", FIRST_PAYMENT, "--out", str(out),
                            "--store", str(store), "--json")  # fmt: skip
    assert code == 0, err
    res = json.loads(stdout)
    assert res["tags"] == 0 and "transactions" not in res  # the CSV holds tags, nothing else
    assert out.read_text().count("\n") == 1  # the header


def _trace(capsys, store: Path, *extra: str) -> tuple[int, str, str]:
    return run(capsys, "trace", SATOSHI_BLOCK9, "--hops", "3", "--store", str(store), *extra)


def test_a_trace_exports_as_a_valid_stix_report(capsys, store: Path, tmp_path: Path) -> None:
    code, stdout, err = _trace(capsys, store, "--json")
    plain = json.loads(stdout)
    out = tmp_path / "case.stix.json"
    code, _, err = _trace(capsys, store, "--out", str(out))  # the name says STIX
    assert code == 0, err
    text = out.read_text()
    assert validate_stix(text) == []
    objs = {o["id"]: o for o in json.loads(text)["objects"]}
    (report,) = [o for o in objs.values() if o["type"] == "report"]
    assert SATOSHI_BLOCK9 in report["name"]
    in_report = [objs[r] for r in report["object_refs"]]
    wallets = {o["value"]: o for o in in_report if o["type"] == "cryptocurrency-wallet"}
    txs = {o["value"] for o in in_report if o["type"] == "cryptocurrency-transaction"}
    assert set(wallets) == {n["id"] for n in plain["nodes"]}
    assert txs == {t for e in plain["edges"] for t in e["txids"]} and FIRST_PAYMENT in txs
    ext = "extension-definition--7b0e6f9c-3f0e-4a51-8d7e-2f4c1b9a6d25"
    hal = wallets[HAL_FINNEY]["extensions"][ext]
    assert hal["label"] == "Hal Finney" and hal["terminal_amount"] == 10 * 10**8
    transfers = [o for o in in_report if o["type"] == "relationship"]
    assert len(transfers) == len(plain["edges"])
    to_hal = next(o for o in transfers if o["target_ref"] == wallets[HAL_FINNEY]["id"])
    assert to_hal["extensions"][ext]["amount"] == 10 * 10**8
    assert to_hal["extensions"][ext]["txids"] == [FIRST_PAYMENT]


def test_a_trace_exports_as_a_misp_event_pymisp_loads(capsys, store: Path, tmp_path: Path) -> None:
    code, stdout, err = _trace(capsys, store, "--json")
    plain = json.loads(stdout)
    out = tmp_path / "case.json"
    code, _, err = _trace(capsys, store, "--format", "misp", "--out", str(out))
    assert code == 0, err
    ev = MISPEvent()
    ev.load(out.read_text())
    assert SATOSHI_BLOCK9 in ev.info
    addresses = {a.value for o in ev.objects if o.name == "coin-address"
                 for a in o.attributes if a.object_relation == "address"}  # fmt: skip
    txs = {a.value for o in ev.objects if o.name == "btc-transaction"
           for a in o.attributes if a.object_relation == "transaction-number"}  # fmt: skip
    assert addresses == {n["id"] for n in plain["nodes"]}
    assert txs == {t for e in plain["edges"] for t in e["txids"]}
    hal = next(o for o in ev.objects if o.name == "coin-address"
               and any(a.value == HAL_FINNEY for a in o.attributes))  # fmt: skip
    assert "Hal Finney" in {a.value for a in hal.attributes if a.object_relation == "text"}
    refs = [r for o in ev.objects for r in o.references]
    assert len(refs) == len(plain["edges"])
    assert any(r.referenced_uuid == hal.uuid for r in refs)


def test_a_trace_from_a_transaction_reports_that_transaction(capsys, store: Path, tmp_path: Path) -> None:
    out = tmp_path / "case.stix.json"
    code, _, err = run(capsys, "trace", FIRST_PAYMENT, "--hops", "2", "--out", str(out), "--store", str(store))
    assert code == 0, err
    objs = {o["id"]: o for o in _objects(out)}
    (report,) = [o for o in objs.values() if o["type"] == "report"]
    txs = {objs[r]["value"] for r in report["object_refs"] if r.startswith("cryptocurrency-transaction--")}
    assert FIRST_PAYMENT in txs


@pytest.mark.parametrize("name", ["case.graphml", "case.gexf", "case.csv", "case.json"])
def test_the_out_file_name_chooses_the_format(capsys, store: Path, tmp_path: Path, name: str) -> None:
    out = tmp_path / name
    code, _, err = _trace(capsys, store, "--out", str(out))
    assert code == 0, err
    if name.endswith(".graphml"):
        assert nx.read_graphml(out).has_node(HAL_FINNEY)
    elif name.endswith(".gexf"):
        assert nx.read_gexf(out).has_node(HAL_FINNEY)
    elif name.endswith(".csv"):
        assert out.read_text().startswith("record,source,target,amount")
    else:
        assert {"nodes", "edges", "terminals"} <= set(json.loads(out.read_text()))


def test_a_name_that_says_no_format_or_another_format_is_refused(
    capsys, store: Path, tmp_path: Path
) -> None:
    code, _, err = _trace(capsys, store, "--out", str(tmp_path / "case.txt"))
    assert code == 2 and "Traceback" not in err
    assert "cannot tell the export format from the file name" in err and "--format" in err
    code, _, err = _trace(capsys, store, "--format", "json", "--out", str(tmp_path / "case.graphml"))
    assert code == 2 and "names a graphml file but --format is json" in err
    assert list(tmp_path.iterdir()) == []
