"""Issue 10 C and 2: a running server follows the store: new blocks, a new clustering run, and
tags and links written by the CLI are answered by every endpoint without a restart."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
from liveserver import serving

from chaintrail.analysis.clustering import cluster_arrays
from chaintrail.api.app import ApiSettings, create_app
from chaintrail.store import ChainStore

DATA = Path(__file__).resolve().parents[1] / "data"
BLK = DATA / "btc" / "blk_mainnet_blocks_0-438.dat"


def chaintrail(*args: str) -> str:
    """Run the real CLI in its own process (as an investigator would, beside the server)."""
    proc = subprocess.run(
        [sys.executable, "-m", "chaintrail", *args], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def blk_prefix(src: Path, n_blocks: int, dst: Path) -> Path:
    """The first ``n_blocks`` records of a blk file (magic, little-endian size, block)."""
    data = src.read_bytes()
    pos = 0
    for _ in range(n_blocks):
        pos += 8 + int.from_bytes(data[pos + 4 : pos + 8], "little")
    dst.write_bytes(data[:pos])
    return dst


def wait_for(check, seconds: float = 120.0) -> bool:  # noqa: ANN001
    """Poll ``check()`` until it is true (False if it never became true)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def test_a_running_server_serves_blocks_ingested_after_it_started(tmp_path: Path) -> None:
    root = tmp_path / "store"
    chaintrail("ingest", str(blk_prefix(BLK, 200, tmp_path / "first200.dat")), "--store", str(root))
    app = create_app(ApiSettings(root, auth=False, rate_limit=0))
    with serving(app) as base, httpx.Client(base_url=base, timeout=60) as c:
        assert c.get("/api/stats").json()["currencies"][0]["no_blocks"] == 200
        assert c.get("/api/btc/blocks/300").status_code == 404
        chaintrail("ingest", str(BLK), "--store", str(root))
        grown = ChainStore.open(root)
        block_300 = grown.block(300)
        arrays = grown.arrays()  # the address block 300's coinbase paid, first seen there
        address = grown.address_strings(
            [int(arrays.out_addr[arrays.tx_out_start[block_300["first_tx_id"]]])]
        )[0]

        def caught_up() -> bool:
            return c.get("/api/stats").json()["currencies"][0]["no_blocks"] == 439

        assert wait_for(caught_up), "the server still serves the old generation"
        r = c.get("/api/btc/blocks/300")
        assert r.status_code == 200 and r.json()["block_hash"] == block_300["hash"]
        assert c.get(f"/api/btc/addresses/{address}").status_code == 200


def test_cluster_tag_and_link_writes_reach_every_endpoint_at_once(
    sim_store_dir: Path, tmp_path: Path
) -> None:
    root = tmp_path / "store"
    shutil.copytree(sim_store_dir, root)
    store = ChainStore.open(root)
    labels = np.asarray(cluster_arrays(store.arrays()).labels)
    sizes = np.bincount(labels)
    cid = int(np.argmax(np.where(sizes < 50, sizes, 0)))  # a cluster of several addresses
    members = np.flatnonzero(labels == cid)
    target = store.address_strings([int(members[0])])[0]
    store.close()
    assert members.size >= 2
    app = create_app(ApiSettings(root, auth=False, rate_limit=0))
    with serving(app) as base, httpx.Client(base_url=base, timeout=120) as c:
        risk = f"/v1/btc/addresses/{target}/risk"
        assert c.get(f"/api/btc/addresses/{target}/cluster").json()["no_addresses"] == 1
        assert c.get(risk).json()["score"] == 0
        trace = {"address": target, "hops": 2}
        assert c.post("/v1/btc/trace", json=trace).status_code == 200

        chaintrail("cluster", "--store", str(root))
        got = c.get(f"/api/btc/addresses/{target}/cluster").json()
        assert (got["cluster"], got["no_addresses"]) == (cid, members.size)

        chaintrail("tags", "add", target, "--label", "case 17 ransom wallet", "--abuse",
                   "ransomware", "--store", str(root))  # fmt: skip
        assert c.get(risk).json()["score"] == 10
        tags = c.get(f"/api/btc/addresses/{target}/tags").json()["address_tags"]
        assert [t["label"] for t in tags] == ["case 17 ransom wallet"]
        assert c.get(f"/api/btc/clusters/{cid}").json()["no_address_tags"] == 1
        nodes = c.post("/v1/btc/trace", json=trace).json()["nodes"]
        assert {"id": target, "label": "case 17 ransom wallet"}.items() <= next(
            n for n in nodes if n["id"] == target
        ).items()

        chaintrail("link", "add", target, "email:ransom@example.org", "--store", str(root))
        found = c.get(f"/v1/btc/addresses/{target}/offchain").json()["entities"]
        assert "email:ransom@example.org" in [e["id"] for e in found]
