"""Issue 10 item 4: long work has a budget and can be stopped.

Traces, exposure, risk, cluster search and neighbor listings stop at their budget (time,
result size) and say so; the API stops work whose client left and shuts down on SIGTERM
without waiting for it; the CLI stops a trace on Ctrl-C and shows what it found; the CLI and
the API accept the same limits. No test asserts how long anything took: budgets here are
either result counts or so small that the first check stops the work, and waits are liveness
bounds far above the real times.
"""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from liveserver import free_port, serving

from chaintrail import budget as budget_module
from chaintrail.api.app import ApiSettings, create_app
from chaintrail.budget import CANCELLED, Budget
from chaintrail.limits import MAX_EXPOSURE_HOPS, MAX_LINK_DEPTH, MAX_TRACE_HOPS
from chaintrail.store import ChainStore

NO_TIME = 1e-9  # a time budget the first check always finds spent


def seed_of(store_dir: Path, kind: str) -> str:
    """The first seed address of a simulated crime scenario."""
    truth = store_dir.parent / "sim" / "truth" / "scenarios.json"
    scenarios = json.loads(truth.read_text())["scenarios"]
    return next(s for s in scenarios if s["kind"] == kind)["seed_addresses"][0]


def client(root: Path, budget: Budget) -> TestClient:
    """The app without keys (every caller an analyst) under ``budget`` for every role."""
    budgets = {"reader": budget, "analyst": budget}
    return TestClient(create_app(ApiSettings(root, auth=False, rate_limit=0, budgets=budgets)))


def biggest_cluster(root: Path) -> int:
    import numpy as np

    from chaintrail.analysis.clustering import load_clusters

    labels = np.asarray(load_clusters(ChainStore.open(root)).labels)
    return int(np.bincount(labels).argmax())


def test_a_trace_cut_at_its_result_budget_says_so_and_loses_no_satoshi(sim_served_dir):
    seed = seed_of(sim_served_dir, "ransomware")
    body = {"address": seed, "model": "haircut", "hops": 15}
    with client(sim_served_dir, Budget(max_results=300)) as c:
        r = c.post("/v1/btc/trace", json=body)
        full = client(sim_served_dir, Budget()).post("/v1/btc/trace", json=body).json()
    assert r.status_code == 200 and r.headers["chaintrail-budget"] == "cut=results"
    cut = r.json()
    assert cut["budget"]["cut"] == "results" and full["budget"] is None
    assert cut["hops_done"] < full["hops_done"]
    stopped = [t for t in cut["terminals"] if "budget" in t["reasons"]]
    assert stopped and not [t for t in full["terminals"] if "budget" in t["reasons"]]
    for result in (cut, full):  # every traced satoshi ended somewhere, went to fees, or was cut
        ended = sum(t["amount"] for t in result["terminals"]) + result["fee"]
        ended += sum(c["value"] for c in result["cut"])
        slack = len(result["terminals"]) + len(result["cut"]) + 1  # per-row rounding
        assert abs(ended - result["traced"]) <= slack, (ended, result["traced"])


def test_a_spent_time_budget_stops_trace_exposure_and_risk_before_their_first_hop(
    sim_served_dir,
):
    seed = seed_of(sim_served_dir, "ransomware")
    with client(sim_served_dir, Budget(seconds=NO_TIME)) as c:
        trace = c.post("/v1/btc/trace", json={"address": seed, "hops": 6}).json()
        exposure = c.get("/v1/btc/exposure", params={"address": seed, "hops": 6}).json()
        risk = c.get(f"/v1/btc/addresses/{seed}/risk", params={"hops": 6})
    assert trace["budget"]["cut"] == "time" and trace["hops_done"] == 0
    assert sum(t["amount"] for t in trace["terminals"]) == trace["traced"]
    assert exposure["budget"]["cut"] == "time"
    assert exposure["received"]["budget_cut"] + exposure["sent"]["budget_cut"] > 0
    assert risk.status_code == 200 and risk.json()["budget"]["cut"] == "time"
    assert risk.headers["chaintrail-budget"].startswith("cut=time")


def test_a_result_row_budget_does_not_cut_exposure_whose_answer_is_a_few_sums(sim_served_dir):
    seed = seed_of(sim_served_dir, "ransomware")
    with client(sim_served_dir, Budget(max_results=10)) as c:
        exposure = c.get("/v1/btc/exposure", params={"address": seed, "hops": 6}).json()
    with client(sim_served_dir, Budget()) as c:
        whole = c.get("/v1/btc/exposure", params={"address": seed, "hops": 6}).json()
    assert exposure["budget"] is None and exposure == whole


def test_neighbor_pages_cut_at_budget_continue_where_they_stopped(sim_served_dir):
    cid = biggest_cluster(sim_served_dir)
    address = ChainStore.open(sim_served_dir).address_strings([cid])[0]
    for path in (f"/api/btc/clusters/{cid}/neighbors", f"/api/btc/addresses/{address}/neighbors"):
        params = {"direction": "in", "pagesize": 100}
        with client(sim_served_dir, Budget()) as c:
            whole = c.get(path, params=params).json()
        with client(sim_served_dir, Budget(max_results=3)) as c:
            rows, page, pages = [], None, 0
            while True:
                r = c.get(path, params={**params, **({"page": page} if page else {})})
                assert r.status_code == 200, r.text
                rows += r.json()["neighbors"]
                page, pages = r.json()["next_page"], pages + 1
                if page is None or len(rows) >= 10:
                    break
        assert len(whole["neighbors"]) > 4 and pages > 1
        assert rows == whole["neighbors"][: len(rows)]


def test_a_cluster_search_stops_at_its_time_budget(sim_served_dir):
    cid = biggest_cluster(sim_served_dir)
    params = {"direction": "out", "key": "addresses", "value": "1nothing", "depth": 7,
              "breadth": 100}  # fmt: skip
    with client(sim_served_dir, Budget(seconds=1.0)) as c:
        r = c.get(f"/api/btc/clusters/{cid}/search", params=params)
    assert r.status_code == 200 and r.json() == []
    assert r.headers["chaintrail-budget"] == "cut=time; limit=1s"


def _search_request(cid: int) -> bytes:
    return (f"GET /api/btc/clusters/{cid}/search?direction=out&key=addresses&value=1nothing"
            f"&depth=7&breadth=100 HTTP/1.1\r\nHost: x\r\n\r\n").encode()  # fmt: skip


def test_work_stops_when_its_client_hangs_up(sim_served_dir):
    cid = biggest_cluster(sim_served_dir)
    budgets = dict.fromkeys(("reader", "analyst"), Budget(seconds=3600))
    app = create_app(ApiSettings(sim_served_dir, auth=False, rate_limit=0, budgets=budgets))
    with serving(app, warm=False) as base:
        before = set(budget_module._running)
        sock = socket.create_connection(("127.0.0.1", int(base.rsplit(":", 1)[1])))
        sock.sendall(_search_request(cid))
        deadline = time.monotonic() + 60
        while not (set(budget_module._running) - before) and time.monotonic() < deadline:
            time.sleep(0.05)
        (meter,) = set(budget_module._running) - before
        time.sleep(0.5)  # the search is under way (it takes minutes without a budget)
        sock.close()
        while meter.cut is None and time.monotonic() < deadline:
            time.sleep(0.05)
    assert meter.cut == CANCELLED


def test_sigterm_stops_a_busy_server_in_seconds(sim_served_dir):
    cid = biggest_cluster(sim_served_dir)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "chaintrail", "serve", "--store", str(sim_served_dir), "--port",
         str(port), "--no-auth", "--budget", "analyst=3600"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            httpx.get(base + "/healthz")
            break
        except httpx.TransportError:
            time.sleep(0.1)
    replies: list[httpx.Response] = []
    search = threading.Thread(target=lambda: replies.append(httpx.get(
        f"{base}/api/btc/clusters/{cid}/search", timeout=600,
        params={"direction": "out", "key": "addresses", "value": "1nothing", "depth": 7,
                "breadth": 100})))  # fmt: skip
    search.start()
    time.sleep(2.0)  # the search is under way (it takes minutes without a budget)
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)  # a liveness bound: without the fix this takes minutes
    finally:
        proc.kill()
        stderr = proc.communicate()[1]
    print(f"SIGTERM to exit: {time.monotonic() - sent:.2f} s")
    search.join(timeout=30)
    assert "Traceback" not in stderr, stderr
    assert replies and replies[0].status_code == 200
    assert replies[0].headers["chaintrail-budget"].startswith("cut=shutdown")


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "chaintrail", *args], capture_output=True,
                          text=True)  # fmt: skip


def test_the_cli_and_the_api_accept_the_same_limits(sim_served_dir):
    seed = seed_of(sim_served_dir, "ransomware")
    store = ["--store", str(sim_served_dir)]
    with client(sim_served_dir, Budget()) as c:
        over = {
            "trace": (c.post("/v1/btc/trace", json={"address": seed, "hops": MAX_TRACE_HOPS + 1}),
                      _cli("trace", seed, "--hops", str(MAX_TRACE_HOPS + 1), *store)),
            "exposure": (c.get("/v1/btc/exposure",
                               params={"address": seed, "hops": MAX_EXPOSURE_HOPS + 1}),
                         _cli("exposure", seed, "--hops", str(MAX_EXPOSURE_HOPS + 1), *store)),
            "risk": (c.get(f"/v1/btc/addresses/{seed}/risk",
                           params={"hops": MAX_EXPOSURE_HOPS + 1}),
                     _cli("risk", seed, "--hops", str(MAX_EXPOSURE_HOPS + 1), *store)),
            "links": (c.get(f"/v1/btc/addresses/{seed}/offchain",
                            params={"depth": MAX_LINK_DEPTH + 1}),
                      _cli("link", "show", seed, "--depth", str(MAX_LINK_DEPTH + 1), *store)),
        }  # fmt: skip
    with client(sim_served_dir, Budget(max_results=100)) as c:  # accepted; kept short
        at_limit = c.post("/v1/btc/trace", json={"address": seed, "hops": MAX_TRACE_HOPS})
    for name, (api, cli) in over.items():
        assert api.status_code == 422, (name, api.text)
        assert cli.returncode == 2 and "Traceback" not in cli.stderr, (name, cli.stderr)
    assert at_limit.status_code == 200
    done = _cli("trace", seed, "--hops", str(MAX_TRACE_HOPS), "--max-results", "100", "--json",
                *store)  # fmt: skip
    assert done.returncode == 0 and "tracing" not in done.stderr  # no progress off a terminal


def test_ctrl_c_stops_a_cli_trace_at_the_next_hop_and_shows_what_was_found(sim_served_dir):
    import fcntl
    import struct
    import termios

    seed = seed_of(sim_served_dir, "ransomware")
    argv = [sys.executable, "-m", "chaintrail", "trace", seed, "--store", str(sim_served_dir),
            "--model", "poison", "--hops", str(MAX_TRACE_HOPS)]  # fmt: skip
    pid, fd = pty.fork()
    if pid == 0:  # the child: the CLI on a 200-column terminal, as an investigator runs it
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
        os.execve(sys.executable, argv, {**os.environ, "COLUMNS": "200"})
    out, interrupted = b"", False
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if not select.select([fd], [], [], 0.1)[0]:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
        if not interrupted and b"tracing forward" in out:  # progress shows: under way
            os.write(fd, b"\x03")
            interrupted = True
    _, status = os.waitpid(pid, 0)
    text = out.decode(errors="replace")
    assert interrupted, text[-2000:]
    assert os.waitstatus_to_exitcode(status) == 130, text[-2000:]
    assert "stopped by Ctrl-C" in text and "terminals" in text and "Traceback" not in text
