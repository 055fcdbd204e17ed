"""The real graphsense-python client drives every endpoint of the spec's table against a live
server over real mainnet blocks; numbers match what ``chaintrail ... --json`` prints."""

from __future__ import annotations

import json
import subprocess
import sys

import graphsense
import pytest
from graphsense.exceptions import ApiException, NotFoundException

SATOSHI_ADDR = "12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S"  # paid the first bitcoin payment
HAL_ADDR = "1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm3"  # received it (block 170)
FIRST_PAYMENT = "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16"


@pytest.fixture(scope="module")
def client(server, keys):
    cfg = graphsense.Configuration(host=server + "/api")
    cfg.api_key["api_key"] = keys["analyst"]
    return graphsense.ApiClient(cfg)


def cli_json(store_dir, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "chaintrail", *args, "--store", str(store_dir), "--json"],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


def test_address_and_its_subresources_match_the_cli(client, store_dir):
    api = graphsense.AddressesApi(client)
    addr = api.get_address("btc", SATOSHI_ADDR)
    cli = cli_json(store_dir, "address", SATOSHI_ADDR)
    assert addr.balance.value == cli["balance"]
    assert addr.total_received.value == cli["total_received"]
    assert addr.total_spent.value == cli["total_sent"]
    assert addr.first_tx.height == cli["first_seen_height"]
    assert addr.last_tx.height == cli["last_seen_height"]
    assert addr.entity == addr.cluster
    assert addr.balance.fiat_values == []  # 2009: before the first shipped price

    txs = api.list_address_txs("btc", SATOSHI_ADDR, pagesize=4)
    seen = [t.actual_instance.tx_hash for t in txs.address_txs]
    nxt = api.list_address_txs("btc", SATOSHI_ADDR, pagesize=4, page=txs.next_page)
    seen += [t.actual_instance.tx_hash for t in nxt.address_txs]
    assert len(seen) == len(set(seen)) == cli["tx_count"]
    assert FIRST_PAYMENT in seen

    out = api.list_address_neighbors("btc", SATOSHI_ADDR, "out", include_labels=True)
    hal = next(n for n in out.neighbors if n.address.address == HAL_ADDR)
    assert hal.value.value == 10 * 10**8 and hal.no_txs == 1
    back = api.list_address_neighbors("btc", HAL_ADDR, "in")
    assert [n.address.address for n in back.neighbors] == [SATOSHI_ADDR]

    links = api.list_address_links("btc", SATOSHI_ADDR, HAL_ADDR)
    assert [link.actual_instance.tx_hash for link in links.links] == [FIRST_PAYMENT]
    assert links.links[0].actual_instance.output_value.value == 10 * 10**8

    cluster = api.get_address_cluster("btc", SATOSHI_ADDR).to_dict()
    assert cluster["cluster"] == addr.cluster and cluster["no_addresses"] >= 1
    assert api.get_address_entity("btc", SATOSHI_ADDR).to_dict()["entity"] == addr.cluster
    assert api.list_tags_by_address("btc", SATOSHI_ADDR).address_tags == []
    assert api.get_tag_summary_by_address("btc", SATOSHI_ADDR).tag_count == 0


def test_clusters_and_deprecated_entities(client):
    addr = graphsense.AddressesApi(client).get_address("btc", SATOSHI_ADDR)
    cid = addr.cluster
    for api, get, addrs, nbrs, links, tags, txs, search in (
        (
            graphsense.ClustersApi(client),
            "get_cluster",
            "list_cluster_addresses",
            "list_cluster_neighbors",
            "list_cluster_links",
            "list_address_tags_by_cluster",
            "list_cluster_txs",
            "search_cluster_neighbors",
        ),
        (
            graphsense.EntitiesApi(client),
            "get_entity",
            "list_entity_addresses",
            "list_entity_neighbors",
            "list_entity_links",
            "list_address_tags_by_entity",
            "list_entity_txs",
            "search_entity_neighbors",
        ),
    ):
        assert getattr(api, get)("btc", cid).to_dict()["root_address"] == SATOSHI_ADDR
        members = [a.address for a in getattr(api, addrs)("btc", cid).addresses]
        assert SATOSHI_ADDR in members
        out = getattr(api, nbrs)("btc", cid, "out")
        hal_cluster = graphsense.AddressesApi(client).get_address("btc", HAL_ADDR).cluster
        assert hal_cluster in [n.cluster.to_dict()["cluster"] for n in out.neighbors]
        assert (
            getattr(api, links)("btc", cid, hal_cluster).links[0].actual_instance.tx_hash
            == FIRST_PAYMENT
        )
        assert getattr(api, tags)("btc", cid).address_tags == []
        assert FIRST_PAYMENT in [
            t.actual_instance.tx_hash
            for t in getattr(api, txs)("btc", cid, pagesize=50).address_txs
        ]
        found = getattr(api, search)("btc", cid, "out", "addresses", HAL_ADDR, 2, 10)
        assert found[0].matching_addresses[0].address == HAL_ADDR


def test_tx_endpoints_match_the_cli(client, store_dir):
    api = graphsense.TxsApi(client)
    cli = cli_json(store_dir, "tx", FIRST_PAYMENT)
    tx = api.get_tx("btc", FIRST_PAYMENT, include_io=True, include_io_index=True).actual_instance
    assert tx.height == cli["height"] and tx.coinbase is False
    assert [o.value.value for o in tx.outputs] == [o["value"] for o in cli["outputs"]]
    assert [o.address for o in tx.outputs] == [[o["address"]] for o in cli["outputs"]]
    assert tx.total_input.value == sum(i["value"] for i in cli["inputs"])
    ins = api.get_tx_io("btc", FIRST_PAYMENT, "inputs")
    assert [i.address for i in ins] == [[SATOSHI_ADDR]]
    spending = api.get_spending_txs("btc", FIRST_PAYMENT)
    assert spending[0].tx_hash == cli["inputs"][0]["prev_txid"]
    spent_in = api.get_spent_in_txs("btc", FIRST_PAYMENT)
    assert [(r.output_index, r.tx_hash) for r in spent_in] == [
        (o["index"], o["spent_by_txid"]) for o in cli["outputs"] if o["spent_by_txid"]
    ]


def test_blocks_rates_and_general(client, store_dir):
    blocks = graphsense.BlocksApi(client)
    cli = cli_json(store_dir, "block", "170")
    block = blocks.get_block("btc", 170)
    assert (block.block_hash, block.no_txs, block.timestamp) == (
        cli["hash"],
        cli["tx_count"],
        cli["time"],
    )
    around = blocks.get_block_by_date("btc", "2009-01-12")
    assert around.before_timestamp <= 1231804799 < around.after_timestamp
    assert around.after_block == around.before_block + 1
    rates = graphsense.RatesApi(client).get_exchange_rates("btc", 170)
    assert rates.height == 170 and rates.rates == []
    stats = graphsense.GeneralApi(client).get_statistics()
    btc = stats.currencies[0]
    cli_stats = cli_json(store_dir, "stats")
    assert (btc.no_blocks, btc.no_txs, btc.no_addresses) == (
        cli_stats["blocks"],
        cli_stats["txs"],
        cli_stats["addresses"],
    )
    found = graphsense.GeneralApi(client).search(SATOSHI_ADDR)
    assert found.currencies[0].addresses == [SATOSHI_ADDR]
    assert graphsense.GeneralApi(client).search("binan").labels == ["binance.com"]


def test_tags_actors_taxonomies_and_report(client):
    api = graphsense.TagsApi(client)
    tags = api.list_address_tags("binance.com")
    assert [(t.address, t.actor, t.category) for t in tags.address_tags] == [
        ("1NDyJtNTjmwk5xPNhjgAMu4HDHigtobu1s", "binance", "exchange")
    ]
    assert tags.address_tags[0].confidence_level == 50  # service_data
    actor = api.get_actor("binance")
    assert actor.label == "Binance" and "MT" in [j.id for j in actor.jurisdictions]
    assert [t.label for t in api.get_actor_tags("binance").address_tags] == ["binance.com"]
    assert {t.taxonomy for t in api.list_taxonomies()} >= {"concept"}
    concepts = {c.id for c in api.list_concepts("concept")}
    assert {"exchange", "ransomware", "mixing_service"} <= concepts
    report = api.report_tag(
        graphsense.UserReportedTag(address=HAL_ADDR, network="btc", label="hal finney")
    )
    assert len(report.id) == 32


def test_errors_reach_the_client_as_exceptions(client):
    with pytest.raises(NotFoundException):
        graphsense.ClustersApi(client).get_cluster("btc", 10**9)
    with pytest.raises(NotFoundException):
        graphsense.AddressesApi(client).get_address("ltc", SATOSHI_ADDR)
    with pytest.raises(ApiException) as err:
        graphsense.AddressesApi(client).get_address("btc", "1NotAnAddress")
    assert err.value.status == 400
