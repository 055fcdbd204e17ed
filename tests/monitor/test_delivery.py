"""Delivery: kill -9 of the follower and the webhook receiver at random moments loses nothing;
HMAC signatures; NATS JetStream on the real server; SSE resume by Last-Event-ID."""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import uvicorn
from sqlalchemy import func, select

from chaintrail.api.app import ApiSettings, create_app
from chaintrail.hub.models import Alert, Delivery
from chaintrail.hub.monitor.delivery import Deliverer, RetryPolicy, sign, verify
from chaintrail.hub.monitor.inbox import add_channel
from chaintrail.hub.monitor.runner import Monitor
from chaintrail.hub.service import perform
from chaintrail.hub.setup import local_principal
from chaintrail.jobs.follow import Follower
from chaintrail.store import ChainStore

from .conftest import SimChain, Watched
from .test_follow_e2e import _rules

HERE = Path(__file__).parent


def _port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_signature_verifies_and_refuses_tampering_and_replays() -> None:
    body = b'{"id": 1}'
    header = sign("s3cret", 1_700_000_000, body)
    assert verify("s3cret", header, body, now=1_700_000_010)
    assert not verify("s3cret", header, body + b" ", now=1_700_000_010)
    assert not verify("other", header, body, now=1_700_000_010)
    assert not verify("s3cret", header, body, now=1_700_000_000 + 3600)  # too old: a replay


def _sqlite_only(fn):  # type: ignore[no-untyped-def]
    fn.hub_backends = ("sqlite",)
    return fn


@_sqlite_only
def test_kill_9_of_follower_and_receiver_loses_no_alert(node, watched: Watched, sim_chain: SimChain,
                                                        tmp_path: Path, db_url: str | None) -> None:
    rnd = random.Random(14)
    _rules(watched, sim_chain)
    port = _port()
    who = local_principal(watched.hub)
    _, secret = perform(watched.hub, who, add_channel, "webhook", f"http://127.0.0.1:{port}/hook")
    got = tmp_path / "received.txt"
    env = {**os.environ, "PYTHONPATH": str(HERE.parent) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    follow_cmd = [sys.executable, "-m", "chaintrail", "follow", "--store", str(watched.store), "--rpc", node.url,
                  "--rpc-user", "sim", "--rpc-password", "sim", "--poll", "0.1", "--retry-base", "0.1",
                  "--max-attempts", "1000", "--cluster-every", "0"]  # fmt: skip
    recv_cmd = [sys.executable, str(HERE / "receiver.py"), str(port), str(secret), str(got)]
    follower = subprocess.Popen(follow_cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    receiver = subprocess.Popen(recv_cmd, env=env)
    try:
        kills = {"follower": 0, "receiver": 0}
        while node.height < 140:
            node.advance(rnd.randint(1, 3) if node.height < 138 else 1)
            time.sleep(rnd.uniform(0.3, 2.5))
            victim = rnd.choice(["follower", "receiver", None])
            if victim == "follower":
                follower.kill()
                follower.wait()
                follower = subprocess.Popen(follow_cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            elif victim == "receiver":
                receiver.kill()
                receiver.wait()
                time.sleep(rnd.uniform(0, 1.0))
                receiver = subprocess.Popen(recv_cmd, env=env)
            if victim:
                kills[victim] += 1
        assert min(kills.values()) >= 2, kills
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with watched.hub.transaction() as s:
                processed = s.scalar(select(func.max(Alert.height)))
                open_ = s.scalar(select(func.count()).select_from(Delivery).where(Delivery.state != "delivered"))
            if open_ == 0 and processed is not None and processed >= 137:
                break
            time.sleep(0.5)
    finally:
        follower.kill()
        receiver.kill()
        follower.wait()
        receiver.wait()
    with watched.hub.transaction() as s:
        alerts = {a.id: a.key for a in s.scalars(select(Alert))}
    lines = [ln.split() for ln in got.read_text().splitlines()]
    received = {}
    for key, alert_id, _ in lines:
        assert received.setdefault(int(alert_id), key) == key  # a duplicate carries the same key
    assert len(alerts) > 10 and set(received) == set(alerts)  # every alert delivered at least once
    assert all(received[i] == k for i, k in alerts.items())


@_sqlite_only
def test_nats_jetstream_gets_each_alert_with_its_key(node, watched: Watched, sim_chain: SimChain,
                                                     db_url: str | None) -> None:
    import nats

    tag = uuid.uuid4().hex[:10]
    subject, stream = f"chaintrail.test{tag}", f"CT_TEST_{tag}"
    who = local_principal(watched.hub)
    perform(watched.hub, who, add_channel, "nats", f"nats://127.0.0.1:4222/{subject}?stream={stream}")
    follower = Follower(ChainStore.open(watched.store, create=True), rpc_url=node.url, auth={"user": "sim", "password": "sim"})
    try:
        follower.sync()
        _rules(watched, sim_chain)
        monitor = Monitor(watched.hub, follower)
        node.advance(130 - node.height)
        monitor.apply_sync(follower.sync())
    finally:
        follower.close()
    deliverer = Deliverer(watched.hub, RetryPolicy(max_attempts=3, base=0.1))
    try:
        assert deliverer.run_once() == monitor.stats.alerts > 0
    finally:
        deliverer.close()

    async def consume() -> list[tuple[str, str]]:
        nc = await nats.connect("nats://127.0.0.1:4222")
        try:
            js = nc.jetstream()
            sub = await js.pull_subscribe(f"{subject}.>", durable=f"t{tag}", stream=stream)
            msgs = await sub.fetch(monitor.stats.alerts, timeout=10)
            for m in msgs:
                await m.ack()
            return [(m.headers["Nats-Msg-Id"], m.subject) for m in msgs]
        finally:
            await js.delete_stream(stream)
            await nc.close()

    got = asyncio.run(consume())
    with watched.hub.transaction() as s:
        keys = {a.key: a for a in s.scalars(select(Alert))}
    assert {k for k, _ in got} == set(keys)
    assert all(subj == f"{subject}.{keys[k].severity}.{keys[k].event}" for k, subj in got)


@_sqlite_only
def test_sse_stream_resumes_after_last_event_id(node, watched: Watched, sim_chain: SimChain,
                                                db_url: str | None) -> None:
    follower = Follower(ChainStore.open(watched.store, create=True), rpc_url=node.url, auth={"user": "sim", "password": "sim"})
    try:
        follower.sync()
        _rules(watched, sim_chain)
        monitor = Monitor(watched.hub, follower)
        node.advance(130 - node.height)
        monitor.apply_sync(follower.sync())
    finally:
        follower.close()
    app = create_app(ApiSettings(store_dir=watched.store, auth=False, rate_limit=0))
    port = _port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    while not srv.started:
        time.sleep(0.05)
    try:
        base = f"http://127.0.0.1:{port}/v1/alerts"
        every = httpx.get(base, params={"limit": 1000}).json()
        assert len(every) == monitor.stats.alerts > 3

        def read(n: int, headers: dict[str, str]) -> list[int]:
            ids: list[int] = []
            with httpx.stream("GET", base + "/stream", headers=headers, timeout=10) as resp:
                assert resp.headers["content-type"].startswith("text/event-stream")
                for line in resp.iter_lines():
                    if line.startswith("id: "):
                        ids.append(int(line[4:]))
                        if len(ids) == n:
                            break
            return ids

        first = read(3, {})
        rest = read(len(every) - 3, {"Last-Event-ID": str(first[-1])})
        assert first + rest == [a["id"] for a in every]
        acked = httpx.post(f"{base}/{first[0]}/ack").json()
        assert acked["acked"] and httpx.get(base, params={"unacked": True}).json()[0]["id"] == first[1]
    finally:
        srv.should_exit = True
        thread.join(10)


@_sqlite_only
def test_serve_on_the_followed_store_sees_each_committed_block(node, watched: Watched, sim_chain: SimChain,
                                                              db_url: str | None) -> None:
    follower = Follower(ChainStore.open(watched.store, create=True), rpc_url=node.url, auth={"user": "sim", "password": "sim"})
    app = create_app(ApiSettings(store_dir=watched.store, auth=False, rate_limit=0))
    port = _port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    try:
        follower.sync()
        thread.start()
        while not srv.started:
            time.sleep(0.05)
        stats = f"http://127.0.0.1:{port}/api/stats"
        assert httpx.get(stats).status_code == 200
        for _ in range(3):
            node.advance()
            follower.sync()  # the follower holds the writer lock all along
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                body = httpx.get(stats).json()
                if body["currencies"][0]["no_blocks"] == node.height + 1:
                    break
                time.sleep(0.2)
            else:
                raise AssertionError(f"serve never showed height {node.height}: {body}")
    finally:
        follower.close()
        srv.should_exit = True
        thread.join(10)
