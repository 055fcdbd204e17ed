"""Concurrent writers and crashes against the live server: nothing acknowledged is lost, no
update overwrites another, and the audit chain verifies without a fork."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter

import httpx
from sqlalchemy import text

from chaintrail.hub import audit_verify
from chaintrail.hub.models import AuditEntry, Case, Item

from .conftest import HubEnv, ServerProcess, free_port, postgres_only
from .world import World, build_world

CLIENTS = 8
WRITES = 200


def _setup(env: HubEnv) -> World:
    hub = env.open()
    world = build_world(hub)
    hub.close()
    return world


@postgres_only
def test_eight_clients_two_hundred_mixed_writes_each(hub_env: HubEnv) -> None:
    world = _setup(hub_env)
    srv = ServerProcess(hub_env, free_port())
    srv.start(
        workers=2
    )  # two processes: the chain head is contended across connections and processes
    try:
        h = world.auth("a-owner")
        case_ids = [
            httpx.post(f"{srv.base}/v1/hub/cases", headers=h, json={"title": f"burst {i}"}).json()[
                "id"
            ]
            for i in range(4)
        ]
        items: Counter[int] = Counter()  # acknowledged item creations per case
        patches: Counter[int] = Counter()  # acknowledged status changes per case
        notes: set[str] = set()
        errors: list[str] = []
        lock = threading.Lock()

        def client(n: int) -> None:
            rng = random.Random(n)
            with httpx.Client(base_url=srv.base, headers=h, timeout=60) as c:
                for i in range(WRITES):
                    case = rng.choice(case_ids)
                    roll = rng.random()
                    if roll < 0.6:
                        text_ = f"client {n} write {i}"
                        r = c.post(
                            f"/v1/hub/cases/{case}/items",
                            json={"kind": "note", "payload": {"markdown": text_}},
                        )
                        ok = r.status_code == 201
                        with lock:
                            if ok:
                                items[case] += 1
                                notes.add(text_)
                    elif roll < 0.8:
                        r = c.patch(
                            f"/v1/hub/cases/{case}", json={"status": rng.choice(["open", "active"])}
                        )
                        ok = r.status_code == 200
                        with lock:
                            patches[case] += ok
                    elif roll < 0.9:
                        r = c.post(
                            f"/v1/hub/cases/{case}/attachments",
                            params={"name": f"f{n}-{i}.txt"},
                            content=f"{n}/{i}".encode(),
                        )
                        ok = r.status_code == 201
                        with lock:
                            items[case] += ok
                    else:
                        member = rng.choice(["a-analyst", "a-investigator", "a-supervisor"])
                        r = c.post(f"/v1/hub/cases/{case}/members", json={"members": [member]})
                        ok = r.status_code == 200 and member in r.json()
                    if not ok:
                        with lock:
                            errors.append(f"{r.status_code} {r.text[:200]}")

        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors[:5]
    finally:
        srv.stop()
    hub = hub_env.open()
    try:
        with hub.transaction() as s:
            for case_id in case_ids:
                case = s.get(Case, case_id)
                assert case is not None
                stored = s.execute(
                    text("SELECT count(*) FROM items WHERE case_id = :c"), {"c": case_id}
                ).scalar_one()
                assert (
                    stored == items[case_id] == case.item_count
                )  # no acknowledged write lost, no lost increment
                assert (
                    case.version == 1 + patches[case_id]
                )  # every change counted: none overwrote another
            got = {i.payload for i in s.query(Item).filter(Item.kind == "note")}
            assert all(any(n in p for p in got) for n in notes)
            n_entries = s.query(AuditEntry).count()
            prevs = [p for (p,) in s.execute(text("SELECT prev_hash FROM audit_log"))]
        assert len(prevs) == len(set(prevs)) == n_entries  # no two entries share a parent: no fork
        assert n_entries >= CLIENTS * WRITES
        with hub.engine.connect() as con:
            result = audit_verify.verify(con)
        assert result.ok, result.reason
    finally:
        hub.close()


def test_kill_minus_nine_during_a_write_burst_loses_nothing_acknowledged(hub_env: HubEnv) -> None:
    world = _setup(hub_env)
    srv = ServerProcess(hub_env, free_port())
    srv.start()
    h = world.auth("a-owner")
    case_id = httpx.post(f"{srv.base}/v1/hub/cases", headers=h, json={"title": "crash"}).json()[
        "id"
    ]
    acked: list[int] = []
    lock = threading.Lock()
    stop = threading.Event()

    def writer(n: int) -> None:
        with httpx.Client(base_url=srv.base, headers=h, timeout=10) as c:
            i = 0
            while not stop.is_set() and i < 2000:
                i += 1
                try:
                    r = c.post(
                        f"/v1/hub/cases/{case_id}/items",
                        json={"kind": "note", "payload": {"markdown": f"{n}/{i}"}},
                    )
                except httpx.TransportError:
                    return  # the server is gone
                if r.status_code == 201:
                    with lock:
                        acked.append(r.json()["id"])

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    while len(acked) < 40 and time.monotonic() < deadline:
        time.sleep(0.01)
    srv.kill()  # SIGKILL in the middle of the burst
    stop.set()
    for t in threads:
        t.join()
    assert len(acked) >= 40
    srv.start()
    try:
        with httpx.Client(base_url=srv.base, headers=h, timeout=30) as c:
            case = c.get(f"/v1/hub/cases/{case_id}").json()
            present = {i["id"] for i in case["items"]}
            assert set(acked) <= present
            assert case["item_count"] == len(present)
    finally:
        srv.stop()
    hub = hub_env.open()
    try:
        with hub.engine.connect() as con:
            result = audit_verify.verify(con)
        assert result.ok, result.reason
    finally:
        hub.close()
