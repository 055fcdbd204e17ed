"""Attribution arrays over a real chain store (mainnet blocks 0-438) and off-chain addresses."""

from __future__ import annotations

import numpy as np
import pytest

from chaintrail.intel.attribution import (
    CATEGORIES,
    SERVICE_CATEGORIES,
    add_tag,
    exposure_group,
    load_attribution,
)
from chaintrail.intel.importer import import_paths

from .conftest import BLK, PACKS

SATOSHI = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"  # genesis coinbase address
BLOCK1 = "12c6DSiU4Rq3P4ZxziKxzrL5LmMBrzjrJX"  # block 1 coinbase address


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    from chaintrail.jobs.ingest import ingest_paths
    from chaintrail.store import ChainStore

    root = tmp_path_factory.mktemp("chain") / "store"
    cs = ChainStore.open(root, create=True)
    ingest_paths(cs, [BLK])
    cs.refresh()
    return cs


def test_best_tag_per_address_and_offchain_tags(chain, tmp_path) -> None:
    store = tmp_path
    import_paths(store, [PACKS / "ransomware.yaml"])
    add_tag(store, SATOSHI, "Satoshi", "user", confidence="ownership")
    add_tag(
        store,
        BLOCK1,
        "Test exchange",
        "exchange",
        confidence="service_data",
        is_cluster_definer=True,
    )
    add_tag(store, BLOCK1, "Extortion wallet", abuse="sextortion", confidence="web_crawl")
    attr = load_attribution(store, chain)
    sat, b1 = (int(x) for x in chain.address_ids([SATOSHI, BLOCK1]))
    assert attr.addr_category.shape == (chain.arrays().n_addresses,)
    assert attr.label_of(sat) == "Satoshi" and attr.category_of(sat) == "user"
    # abuse beats entity even at lower confidence
    assert attr.category_of(b1) == "sextortion" and attr.label_of(b1) == "Extortion wallet"
    assert int((attr.addr_category >= 0).sum()) == 2
    assert attr.n_tagged_offchain == 60  # ransomware seeds are not in blocks 0-438
    assert attr.tags_for_address("1Lud76Q98VRHCUiyK7XUs7AgFofrqXeP78")[0]["label"] == "7ev3n"
    # listed best first by the same rule as the label (abuse first), so the first tag is the label
    assert [t["label"] for t in attr.tags_for_address(BLOCK1)] == [
        "Extortion wallet",
        "Test exchange",
    ]
    assert not attr.service_mask()[b1]
    codes, names = attr.exposure_codes()
    assert names[codes[sat]] == "user" and codes[0 if sat else 1] >= 0


def test_service_mask_groups_and_cluster_propagation(chain, tmp_path) -> None:
    add_tag(tmp_path, BLOCK1, "Test exchange", "exchange", is_cluster_definer=True)
    attr = load_attribution(tmp_path, chain)
    b1 = int(chain.address_ids([BLOCK1])[0])
    assert attr.service_mask()[b1] and attr.service_mask().sum() == 1
    groups, names = attr.group_codes()
    assert names[groups[b1]] == "exchange"
    cluster_of = np.arange(chain.arrays().n_addresses)
    other = (b1 + 1) % cluster_of.size
    cluster_of[other] = cluster_of[b1]
    assert attr.with_clusters(cluster_of).label_of(other) == "Test exchange"
    assert attr.label_of(other) is None


def test_vocabularies() -> None:
    assert len(CATEGORIES) == 93 and {"exchange", "mixing_service", "market"} <= SERVICE_CATEGORIES
    assert (
        exposure_group("sanction") == "sanctions" and exposure_group("ransomware") == "ransomware"
    )
    assert exposure_group("sextortion") == "scam" and exposure_group("defi_dex") == "defi"


def test_without_chain_store(tmp_path) -> None:
    import_paths(tmp_path, [PACKS / "demo.yaml"])
    attr = load_attribution(tmp_path)
    assert attr.addr_category.size == 0
    assert (
        attr.tags_for_addresses(["1K1rgZ1dz9w7dsR1HGS1drmzfUHMtqx1Tc"])[
            "1K1rgZ1dz9w7dsR1HGS1drmzfUHMtqx1Tc"
        ][0]["actor"]
        == "internet_archive"
    )
