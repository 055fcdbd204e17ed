"""Issue 10 B: analysts writing off-chain links while others read tags, over real HTTP.

Every write must answer 200 and be visible to its writer's next read; every tag read must
equal the serial answer; nothing may answer 5xx ("Can't open a connection to same database
file with a different configuration" was a 503 for 98 of 125 writes).
"""

from __future__ import annotations

import random
import shutil
import threading
from collections import Counter
from pathlib import Path

import httpx
from liveserver import serving

from chaintrail.api.app import ApiSettings, create_app
from chaintrail.store import ChainStore

WRITERS = 4
READERS = 4
WRITES_PER_WRITER = 15
READS_PER_READER = 50


def test_concurrent_link_writes_and_tag_reads(store_dir: Path, tmp_path: Path) -> None:
    root = tmp_path / "store"
    shutil.copytree(store_dir, root)
    store = ChainStore.open(root)
    addresses = [a for a in store.address_strings(list(range(1, 200, 7))) if a]
    store.close()
    tag_paths = [f"/api/btc/addresses/{a}/tags" for a in addresses] + [
        "/api/tags?label=binance",
        "/api/tags/actors/binance",
        "/api/tags/actors/binance/tags",
    ]
    app = create_app(ApiSettings(root, auth=False, rate_limit=0))
    counts: Counter = Counter()
    lock = threading.Lock()

    def tally(key: str) -> None:
        with lock:
            counts[key] += 1

    with serving(app, warm=False) as base:
        with httpx.Client(base_url=base, timeout=120) as c:
            expected = {p: (c.get(p).status_code, c.get(p).text) for p in tag_paths}
        assert all(status == 200 for status, _ in expected.values())

        def writer(w: int) -> None:
            address = addresses[w]
            written: set[str] = set()
            with httpx.Client(base_url=base, timeout=120) as c:
                for i in range(WRITES_PER_WRITER):
                    ref = f"email:w{w}-{i}@example.org"
                    r = c.post(
                        f"/v1/btc/addresses/{address}/offchain",
                        json={"ref": ref, "relation": "paid-by", "evidence": f"case {w}/{i}"},
                    )
                    if r.status_code != 200:
                        tally(f"write {r.status_code}")
                        continue
                    written.add(ref.removeprefix("email:"))
                    r = c.get(f"/v1/btc/addresses/{address}/offchain")
                    if r.status_code != 200:
                        tally(f"read-back {r.status_code}")
                        continue
                    seen = {e["value"] for e in r.json()["entities"] if e["kind"] == "email"}
                    tally("write ok" if seen == written else "read-back wrong")

        def reader(seed: int) -> None:
            rnd = random.Random(seed)
            with httpx.Client(base_url=base, timeout=120) as c:
                for _ in range(READS_PER_READER):
                    path = rnd.choice(tag_paths)
                    r = c.get(path)
                    if r.status_code >= 500:
                        tally(f"read {r.status_code}")
                    else:
                        tally("read ok" if (r.status_code, r.text) == expected[path] else "wrong")

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
        threads += [threading.Thread(target=reader, args=(r,)) for r in range(READERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    print(f"intel mixed read/write: {dict(counts)}")
    assert counts == {
        "write ok": WRITERS * WRITES_PER_WRITER,
        "read ok": READERS * READS_PER_READER,
    }, dict(counts)
