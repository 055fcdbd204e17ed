"""The hub: case reads over HTTP, audit appends, audit verification, on SQLite and PostgreSQL.

* case read: ``GET /v1/hub/cases/{id}`` (20 items, each read audited) from one keep-alive client
  against ``uvicorn`` on loopback; baseline in the same run: ``GET /healthz`` (HTTP and auth, no
  database);
* audit append: entries/s with one transaction per entry (8 threads, as concurrent requests
  would), and 100 entries per transaction; baseline: the same rows INSERTed without the chain;
* audit verify: entries/s over a chain of ``--entries``; baseline: fetching the same rows.

PostgreSQL runs in a schema of its own in ``--pg`` (a libpq DSN), dropped afterwards.

    python bench/bench_hub.py [--pg "host=127.0.0.1 dbname=test user=postgres"] [--entries 500000]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import text

from chaintrail.hub import audit, audit_verify, cases, directory
from chaintrail.hub.db import Hub, open_hub
from chaintrail.hub.setup import init_hub, local_principal

ROOT = Path(__file__).resolve().parents[1]


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of values, in ms."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def case_reads(store: Path, url: str | None, n: int) -> dict[str, float]:
    """p50/p99 of case reads and of /healthz over HTTP."""
    hub = open_hub(store, url)
    who = local_principal(hub)
    with hub.transaction() as s:
        case = cases.create_case(s, who, "bench case", "AMBER")
        for i in range(20):
            cases.add_item(s, who, case.id, "note", {"markdown": f"finding {i}\n" * 20})
        key = directory.new_key_for(s, None, "local")[0]
    hub.close()
    port = 18000 + os.getpid() % 1000
    settings = {
        "store_dir": str(store),
        "auth": True,
        "host": "127.0.0.1",
        "rate_limit": 0,
        "cors_origins": [],
        "hub_db": url,
    }
    env = {**os.environ, "CHAINTRAIL_API_SETTINGS": json.dumps(settings)}
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "chaintrail.api.server:app_from_env", "--factory",
                             "--port", str(port), "--log-level", "warning"], env=env)  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                httpx.get(base + "/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        out: dict[str, float] = {}
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}) as c:
            for name, path in (("healthz", "/healthz"), ("case", f"/v1/hub/cases/{case.id}")):
                for _ in range(50):
                    c.get(path)  # warm
                lat = []
                t0 = time.perf_counter()
                for _ in range(n):
                    t = time.perf_counter()
                    r = c.get(path)
                    lat.append(time.perf_counter() - t)
                    assert r.status_code == 200, r.text
                out[f"{name}_rps"] = n / (time.perf_counter() - t0)
                out[f"{name}_p50"] = pct(lat, 0.5)
                out[f"{name}_p99"] = pct(lat, 0.99)
        return out
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def appends(hub: Hub, seconds: float, threads: int = 8) -> dict[str, float]:
    """Audit appends/s: one per transaction from ``threads`` threads, 100 per transaction; and
    the same rows inserted without the chain."""
    who = local_principal(hub)
    out: dict[str, float] = {}
    with hub.engine.begin() as con:
        con.execute(
            text(
                "CREATE TABLE IF NOT EXISTS bench_plain (seq BIGINT, ts VARCHAR(32), action VARCHAR(64), detail TEXT, hash VARCHAR(64))"
            )
        )

    def run(kind: str, per_tx: int) -> float:
        count = [0]
        lock = threading.Lock()
        deadline = time.perf_counter() + seconds

        def worker() -> None:
            n = 0
            while time.perf_counter() < deadline:
                with hub.transaction() as s:
                    for _ in range(per_tx):
                        if kind in (
                            "chain",
                            "read",
                        ):  # a write's entry, or a read's (see audit.append)
                            audit.append(s, who, "bench.append", "case", 1, case_id=1, marking="AMBER",
                                         detail={"i": n}, read=kind == "read")  # fmt: skip
                        else:
                            s.execute(text("INSERT INTO bench_plain VALUES (:n, :t, 'bench.append', :d, :h)"),
                                      {"n": n, "t": audit.timestamp(), "d": json.dumps({"i": n}), "h": "0" * 64})  # fmt: skip
                n += per_tx
            with lock:
                count[0] += n

        t0 = time.perf_counter()
        pool = [threading.Thread(target=worker) for _ in range(threads if per_tx == 1 else 1)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        return count[0] / (time.perf_counter() - t0)

    out["plain_1"] = run("plain", 1)
    out["chain_1"] = run("chain", 1)
    out["read_1"] = run("read", 1)
    out["plain_100"] = run("plain", 100)
    out["chain_100"] = run("chain", 100)
    return out


def verify_rate(hub: Hub, entries: int) -> dict[str, float]:
    """Fill the chain to ``entries`` (rows computed here, inserted in bulk) and time verify."""
    with hub.engine.begin() as con:
        seq, prev = con.execute(text("SELECT seq, hash FROM audit_head WHERE id = 1")).one()
        rows = []
        ts = audit.timestamp()
        for i in range(seq + 1, entries + 1):
            body = (i, ts, 1, "local", 1, "case.read", "case", str(i % 977), i % 977, "AMBER", uuid.uuid4().hex,
                    json.dumps({"items": [i % 13, i % 17]}, separators=(",", ":")), prev)  # fmt: skip
            prev = hashlib.sha256(audit.canonical(body)).hexdigest()
            rows.append({**dict(zip(audit.COLUMNS, body, strict=True)), "hash": prev})
            if len(rows) == 20_000 or i == entries:
                con.execute(text(f"INSERT INTO audit_log ({', '.join(audit.COLUMNS)}, hash) VALUES "
                                 f"({', '.join(':' + c for c in audit.COLUMNS)}, :hash)"), rows)  # fmt: skip
                rows = []
        con.execute(
            text("UPDATE audit_head SET seq = :s, hash = :h WHERE id = 1"),
            {"s": entries, "h": prev},
        )
    with hub.engine.connect() as con:
        t0 = time.perf_counter()
        n = sum(1 for _ in audit_verify._rows(con, 1, None))
        fetch = n / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        serial = audit_verify.verify(con)
        serial_rate = serial.entries / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    result = audit_verify.verify_url(
        hub.url
    )  # what `chaintrail audit verify` runs: one process per core
    rate = result.entries / (time.perf_counter() - t0)
    assert result.ok and serial.ok, result.reason
    return {
        "entries": float(result.entries),
        "fetch_rate": fetch,
        "verify_rate": rate,
        "serial_rate": serial_rate,
    }


def run_backend(name: str, url: str | None, args: argparse.Namespace) -> None:
    store = Path(tempfile.mkdtemp(prefix=f"bench-hub-{name}-"))
    init_hub(store, url)
    r = case_reads(store, url, args.reads)
    print(f"[{name}] case read over HTTP ({args.reads} sequential, 20 items, audited): {r['case_rps']:.0f} req/s, "
          f"p50 {r['case_p50']:.2f} ms, p99 {r['case_p99']:.2f} ms | baseline /healthz: {r['healthz_rps']:.0f} req/s, "
          f"p50 {r['healthz_p50']:.2f} ms, p99 {r['healthz_p99']:.2f} ms", flush=True)  # fmt: skip
    hub = open_hub(store, url)
    try:
        a = appends(hub, args.seconds)
        print(f"[{name}] audit append, 1 per transaction x 8 threads: {a['chain_1']:.0f}/s, entries of reads "
              f"{a['read_1']:.0f}/s "
              f"(baseline plain insert: {a['plain_1']:.0f}/s); 100 per transaction: {a['chain_100']:.0f}/s "
              f"(baseline {a['plain_100']:.0f}/s)", flush=True)  # fmt: skip
        v = verify_rate(hub, args.entries)
        print(f"[{name}] audit verify over {v['entries']:.0f} entries: {v['verify_rate']:.0f} entries/s "
              f"(one process: {v['serial_rate']:.0f}/s; baseline: fetching the rows in one process "
              f"{v['fetch_rate']:.0f} rows/s)", flush=True)  # fmt: skip
    finally:
        hub.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pg", default="host=127.0.0.1 port=5432 dbname=test user=postgres")
    ap.add_argument("--entries", type=int, default=500_000)
    ap.add_argument("--reads", type=int, default=2000)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--only", choices=("sqlite", "postgresql"))
    args = ap.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    if args.only != "postgresql":
        run_backend("sqlite", None, args)
    if args.only != "sqlite":
        schema = f"bench_hub_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(args.pg, autocommit=True) as con:
            con.execute(f"CREATE SCHEMA {schema}")
        parts = dict(p.split("=", 1) for p in args.pg.split())
        url = (f"postgresql+psycopg://{parts.get('user', 'postgres')}@{parts.get('host', '127.0.0.1')}:{parts.get('port', '5432')}/"
               f"{parts.get('dbname', 'test')}?options=-csearch_path%3D{schema}")  # fmt: skip
        try:
            run_backend("postgresql", url, args)
        finally:
            with psycopg.connect(args.pg, autocommit=True) as con:
                con.execute(f"DROP SCHEMA {schema} CASCADE")


if __name__ == "__main__":
    main()
