"""Labels, categories and risk agree on every surface (issue 10, item 6).

On a simulated chain with real multi-address clusters: a cluster tagged as a whole
(``tags add cluster:ID --cluster-definer``), a cluster defined by one member's tag, and an
abuse-only tag. ``address``, ``cluster-info``, ``risk``, ``exposure``, trace terminals and the
API (``/v1`` risk, exposure, trace) must all say the same label and category for each member.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from chaintrail.cli import main
from chaintrail.store import ChainStore

SEED = "7"


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    try:
        main([*args, "--json"])
    except SystemExit as exc:
        assert not exc.code, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def _run(*args: str) -> None:
    try:
        main(list(args))
    except SystemExit as exc:
        assert not exc.code


class Case:
    """The store and the subjects of the test."""

    store: Path
    cluster_tagged: int  # tagged with tags add cluster:ID --cluster-definer
    member_tagged: int  # defined by one member's --cluster-definer tag
    definer: str  # that member
    abuse_only: str  # an address with an abuse-only tag of its own
    members: dict[int, list[str]]
    payee: dict[int, str]  # an address outside each cluster that a member paid
    payment: dict[int, str]  # the txid of that payment


def _pick(st: ChainStore) -> tuple[list[int], dict[int, list[int]], dict[int, tuple[int, int]]]:
    """Clusters of 3+ members that paid an outside address, with members and one (payee, tx)."""
    from chaintrail.analysis.clustering import load_clusters

    labels = np.asarray(load_clusters(st).labels)
    ch = st.arrays()
    sizes = np.bincount(labels)
    chosen: list[int] = []
    payee: dict[int, tuple[int, int]] = {}
    for cid in np.flatnonzero(sizes >= 3).tolist():
        members = np.flatnonzero(labels == cid)
        spends = np.flatnonzero(np.isin(ch.in_addr, members))
        for t in np.unique(ch.in_tx[spends]).tolist():
            s, n = int(ch.tx_out_start[t]), int(ch.tx_n_out[t])
            outs = [a for a in ch.out_addr[s : s + n].tolist() if a >= 0 and labels[a] != cid]
            if outs and np.all(labels[ch.in_addr[ch.tx_in_start[t] : ch.tx_in_start[t] + ch.tx_n_in[t]]] == cid):
                payee[cid] = (outs[0], t)
                chosen.append(cid)
                break
        if len(chosen) == 3:
            break
    assert len(chosen) == 3, "the tiny simulation has clusters that paid outside addresses"
    return chosen, {c: np.flatnonzero(labels == c).tolist() for c in chosen}, payee


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Case:
    root = tmp_path_factory.mktemp("agree")
    _run("simulate", "--preset", "tiny", "--seed", SEED, "--out", str(root / "sim"))
    store = root / "store"
    _run("ingest", str(root / "sim" / "blocks"), "--store", str(store))
    _run("cluster", "--store", str(store))
    st = ChainStore.open(store)
    chosen, members, payee = _pick(st)
    c = Case()
    c.store = store
    c.cluster_tagged, c.member_tagged, other = chosen
    c.members = {cid: [a for a in st.address_strings(np.array(ids)) if a] for cid, ids in members.items()}
    c.payee = {cid: st.address_strings(np.array([a]))[0] for cid, (a, _) in payee.items()}
    c.payment = {cid: st.txids_hex(np.array([t]))[0] for cid, (_, t) in payee.items()}
    c.definer = c.members[c.member_tagged][0]
    c.abuse_only = c.members[other][0]
    _run("tags", "add", f"cluster:{c.cluster_tagged}", "--label", "Locky ransom", "--abuse",
         "ransomware", "--cluster-definer", "--store", str(store))  # fmt: skip
    _run("tags", "add", c.definer, "--label", "Ryuk wallet", "--abuse", "ransomware",
         "--cluster-definer", "--store", str(store))  # fmt: skip
    _run("tags", "add", c.abuse_only, "--label", "Scam wallet", "--abuse", "scam", "--store", str(store))
    return c


def _expected(case: Case) -> dict[str, tuple[str, str]]:
    """(label, category) every surface must show, per address."""
    want = {a: ("Locky ransom", "ransomware") for a in case.members[case.cluster_tagged]}
    want |= {a: ("Ryuk wallet", "ransomware") for a in case.members[case.member_tagged]}
    want[case.abuse_only] = ("Scam wallet", "scam")
    return want


def test_address_and_tx_show_the_resolved_label_and_category(capsys, case: Case) -> None:
    want = _expected(case)
    for addr, (label, category) in want.items():
        info = _cli(capsys, "address", addr, "--store", str(case.store))
        assert (info["label"], info["category"]) == (label, category), addr
        assert info["tags"] and info["tags"][0]["label"] == label  # the tag behind the label is shown
    for cid in (case.cluster_tagged, case.member_tagged):
        tx = _cli(capsys, "tx", case.payment[cid], "--store", str(case.store))
        assert tx["inputs"] and all((i["label"], i["category"]) == want[i["address"]] for i in tx["inputs"])


def test_cluster_info_names_the_cluster_as_its_members_do(capsys, case: Case) -> None:
    for cid, label in ((case.cluster_tagged, "Locky ransom"), (case.member_tagged, "Ryuk wallet")):
        info = _cli(capsys, "cluster-info", str(cid), "--store", str(case.store))
        assert (info["label"], info["category"]) == (label, "ransomware")
    info = _cli(capsys, "address", case.abuse_only, "--store", str(case.store))
    cinfo = _cli(capsys, "cluster-info", str(info["cluster_id"]), "--store", str(case.store))
    scam = next(x for x in cinfo["labels"] if x["label"] == "Scam wallet")
    assert scam["category"] == "scam"  # an abuse-only tag has a category


def test_risk_agrees_with_the_label(capsys, case: Case) -> None:
    for addr, (_, category) in _expected(case).items():
        risk = _cli(capsys, "risk", addr, "--hops", "1", "--store", str(case.store))
        assert risk["score"] >= 9, addr
        assert risk["reasons"][0]["rule"].startswith("SELF_") and risk["reasons"][0]["category"] == category


def _terminal_labels(result: dict[str, Any], members: list[str]) -> set[tuple[str, str]]:
    return {(t["label"], t["category"]) for t in result["terminals"] if t["address"] in members}


def test_exposure_and_trace_terminals_agree(capsys, case: Case) -> None:
    for cid, label in ((case.cluster_tagged, "Locky ransom"), (case.member_tagged, "Ryuk wallet")):
        payee = case.payee[cid]
        exp = _cli(capsys, "exposure", payee, "--hops", "1", "--store", str(case.store))
        assert "ransomware" in {c["category"] for c in exp["received"]["by_category"]}
        res = _cli(capsys, "trace", payee, "--direction", "backward", "--hops", "1", "--store", str(case.store))
        assert _terminal_labels(res, case.members[cid]) == {(label, "ransomware")}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_api_agrees_with_the_cli(capsys, case: Case) -> None:
    import uvicorn

    from chaintrail.api.app import ApiSettings, create_app

    app = create_app(ApiSettings(case.store, auth=False, rate_limit=10_000))
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz").status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.05)
    try:
        for addr, (_, category) in _expected(case).items():
            r = httpx.get(f"{base}/v1/btc/addresses/{addr}/risk", params={"hops": 1}, timeout=60)
            assert r.status_code == 200, r.text
            assert r.json()["score"] >= 9 and r.json()["reasons"][0]["category"] == category, addr
        for cid, label in ((case.cluster_tagged, "Locky ransom"), (case.member_tagged, "Ryuk wallet")):
            payee = case.payee[cid]
            r = httpx.get(f"{base}/v1/btc/exposure", params={"address": payee, "hops": 1}, timeout=60)
            assert "ransomware" in {c["category"] for c in r.json()["received"]["by_category"]}
            body = {"address": payee, "direction": "backward", "hops": 1}
            r = httpx.post(f"{base}/v1/btc/trace", json=body, timeout=60)
            assert _terminal_labels(r.json(), case.members[cid]) == {(label, "ransomware")}
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


def test_lookups_read_member_tags_or_all_definers_alike(case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    from chaintrail.intel import attribution_lookup as lookup

    st = ChainStore.open(case.store)
    addresses = list(_expected(case))
    both = []
    for few in (10**9, 0):  # read every cluster-defining tag / only those on the members
        monkeypatch.setattr(lookup, "FEW_DEFINERS", few)
        found = lookup.address_attribution(case.store, st, addresses)
        both.append({a: (f["label"], f["category"]) if f else None for a, f in found.items()})
    assert both[0] == both[1] == _expected(case)
