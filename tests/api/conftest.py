"""A real store (mainnet blocks 0-438, clustered, real GraphSense packs) and a live server."""

from __future__ import annotations

from pathlib import Path

import pytest
from liveserver import serving

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="session")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Blocks 0-438 ingested by the ingest job, clustered, real tag/actor packs imported."""
    from chaintrail.analysis.clustering import run_clustering
    from chaintrail.intel.importer import import_paths
    from chaintrail.jobs.ingest import ingest_paths
    from chaintrail.store import ChainStore

    root = tmp_path_factory.mktemp("apistore")
    store = ChainStore.open(root, create=True)
    ingest_paths(store, [DATA / "btc" / "blk_mainnet_blocks_0-438.dat"])
    run_clustering(store)
    store.close()
    import_paths(root, [DATA / "api_intel"])
    return root


@pytest.fixture(scope="session")
def keys(store_dir: Path) -> dict[str, str]:
    """One reader and one analyst key."""
    from chaintrail.api.keys import KeyStore

    ks = KeyStore(store_dir)
    return {"reader": ks.create("reader", "tests")[0], "analyst": ks.create("analyst", "tests")[0]}


@pytest.fixture(scope="session")
def server(store_dir: Path, keys: dict[str, str]):
    """uvicorn on a loopback port in a thread, auth on; yields the base URL."""
    from chaintrail.api.app import ApiSettings, create_app

    with serving(create_app(ApiSettings(store_dir, rate_limit=10_000))) as base:
        yield base


@pytest.fixture(scope="session")
def interrupted_store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Blocks 0-438 from an ingest interrupted (Ctrl-C) after its last commit, before any map
    snapshot was written, then clustered: address lookups must fall back to the Parquet rows."""
    from chaintrail.analysis.clustering import run_clustering
    from chaintrail.jobs.ingest import ingest_paths
    from chaintrail.store import ChainStore

    root = tmp_path_factory.mktemp("interrupted")
    store = ChainStore.open(root, create=True)

    def interrupt(done: int, total: int, _txs: int) -> None:
        if done == total:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ingest_paths(store, [DATA / "btc" / "blk_mainnet_blocks_0-438.dat"], batch_blocks=50,
                     progress=interrupt)  # fmt: skip
    store = ChainStore.open(root)
    assert store.manifest.n_blocks == 439 and not list(root.glob("maps/snap-*"))
    run_clustering(store)
    store.close()
    return root


@pytest.fixture(scope="session")
def sim_store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny simulated economy (seed 7: payments, multi-input spends, crime scenarios)
    ingested; not clustered and without intel, so tests can add both. Copy it to change it."""
    from chaintrail.jobs.ingest import ingest_paths
    from chaintrail.sim import simulate
    from chaintrail.store import ChainStore

    out = tmp_path_factory.mktemp("simapi")
    simulate("tiny", 7, out / "sim")
    store = ChainStore.open(out / "store", create=True)
    ingest_paths(store, [out / "sim" / "blocks"])
    store.close()
    return out / "store"


@pytest.fixture(scope="session")
def sim_served_dir(sim_store_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the tiny simulated store, clustered and with the simulator's service TagPack
    (exchanges, the scam address ...) imported: what an investigator serves. The simulator's
    truth is beside it in ``../sim/truth``."""
    import shutil

    from chaintrail.analysis.clustering import run_clustering
    from chaintrail.intel.importer import import_paths
    from chaintrail.store import ChainStore

    root = tmp_path_factory.mktemp("simserved") / "store"
    shutil.copytree(sim_store_dir, root)
    shutil.copytree(sim_store_dir.parent / "sim" / "truth", root.parent / "sim" / "truth")
    run_clustering(ChainStore.open(root))
    import_paths(root, [root.parent / "sim" / "truth" / "services.tagpack.yaml"])
    return root
