"""Issue 10 A: many clients at once get exactly the answers one client gets alone.

A real uvicorn server, real HTTP clients in threads. Every reply of the concurrent run is
compared with the reply to the same request in a serial run first, on a healthy store and on
one left by an interrupted ingest (no map snapshot: address lookups go to the Parquet rows).
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from pathlib import Path

import httpx
import pytest
from liveserver import serving

from chaintrail.api.app import ApiSettings, create_app
from chaintrail.store import ChainStore

THREADS = 8
REQUESTS_PER_THREAD = 60


def request_paths(store_dir: Path) -> list[str]:
    """Address, cluster, txs, tags, neighbors, risk and tx requests over spread-out ids."""
    store = ChainStore.open(store_dir)
    n_addr, n_txs = store.manifest.n_addresses, store.manifest.n_txs
    addresses = store.address_strings(list(range(0, n_addr, max(1, n_addr // 24))))
    txids = store.txids_hex(list(range(0, n_txs, max(1, n_txs // 12))))
    store.close()
    paths = []
    for a in addresses:
        paths += [
            f"/api/btc/addresses/{a}",
            f"/api/btc/addresses/{a}/cluster",
            f"/api/btc/addresses/{a}/txs",
            f"/api/btc/addresses/{a}/tags",
            f"/api/btc/addresses/{a}/neighbors?direction=out",
            f"/v1/btc/addresses/{a}/risk",
        ]
    for t in txids:
        paths += [f"/api/btc/txs/{t}", f"/v1/btc/txs/{t}/heuristics"]
    return paths


def hammer(base: str, paths: list[str], expected: dict[str, tuple[int, str]]) -> Counter:
    """THREADS clients sending random requests; counts right, wrong and 5xx replies."""
    counts: Counter = Counter()
    lock = threading.Lock()

    def client(seed: int) -> None:
        rnd = random.Random(seed)
        with httpx.Client(base_url=base, timeout=120) as c:
            for _ in range(REQUESTS_PER_THREAD):
                path = rnd.choice(paths)
                try:
                    r = c.get(path)
                    got = (r.status_code, r.text)
                except httpx.TransportError:
                    got = (599, "connection failed")
                with lock:
                    if got[0] >= 500:
                        counts["5xx"] += 1
                    elif got != expected[path]:
                        counts["wrong"] += 1
                    else:
                        counts["right"] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return counts


@pytest.mark.parametrize("which", ["healthy", "interrupted"])
def test_concurrent_replies_equal_serial_replies(which, store_dir, interrupted_store_dir):
    root = store_dir if which == "healthy" else interrupted_store_dir
    paths = request_paths(root)
    app = create_app(ApiSettings(root, auth=False, rate_limit=0))
    with serving(app, warm=False) as base:
        with httpx.Client(base_url=base, timeout=120) as c:
            expected = {p: (c.get(p).status_code, c.get(p).text) for p in paths}
        assert all(status < 500 for status, _ in expected.values())
        assert sum(status == 200 for status, _ in expected.values()) > len(paths) * 0.9
        counts = hammer(base, paths, expected)
    print(f"{which}: {dict(counts)} over {len(paths)} distinct requests")
    assert counts["right"] == THREADS * REQUESTS_PER_THREAD, dict(counts)
