"""ChainStore lookups, ChainArrays and the writer lock on a real 0-438 store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from chaintrail.errors import AddressError, NotFoundError, StoreError
from chaintrail.jobs.ingest import ingest_paths
from chaintrail.store import ChainStore

BLK = Path(__file__).resolve().parents[1] / "data" / "btc" / "blk_mainnet_blocks_0-438.dat"


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> ChainStore:
    s = ChainStore.open(tmp_path_factory.mktemp("store") / "s", create=True)
    ingest_paths(s, [BLK], batch_blocks=150)
    return s


def test_open_missing_store_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no chaintrail store"):
        ChainStore.open(tmp_path / "nope")


def test_txid_and_address_lookups_round_trip(store: ChainStore) -> None:
    con = store.con()
    txids = [
        r[0] for r in con.execute("SELECT lower(hex(txid)) FROM txs ORDER BY tx_id").fetchall()
    ]
    assert [store.tx_id(t) for t in txids] == list(range(len(txids)))
    assert store.txids_hex(np.arange(len(txids))) == txids
    addrs = [
        r[0] for r in con.execute("SELECT address FROM addresses ORDER BY address_id").fetchall()
    ]
    assert store.address_ids(addrs).tolist() == list(range(len(addrs)))
    assert store.address_strings(list(range(len(addrs))) + [-1]) == addrs + [None]
    assert store.address_ids(["1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"]).tolist() == [-1]
    with pytest.raises(NotFoundError):
        store.tx_id("ab" * 32)
    with pytest.raises(AddressError):
        store.address_id("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb")


def test_chain_arrays_agree_with_the_tables(store: ChainStore) -> None:
    a = store.arrays()
    con = store.con()
    assert (a.n_txs, a.n_inputs, a.n_outputs, a.n_addresses) == (446, 7, 451, 446)
    assert a.out_value.sum() == con.execute("SELECT sum(value) FROM outputs").fetchone()[0]
    spends = con.execute("SELECT out_id, in_id FROM spends ORDER BY in_id").fetchall()
    assert [(int(o), int(a.out_spent_by[o])) for o, _ in spends] == spends
    assert (a.in_value == a.out_value[a.in_prev_out]).all()
    assert (a.in_addr == a.out_addr[a.in_prev_out]).all()
    assert a.tx_coinbase.sum() == 439 and (a.tx_fee[a.tx_coinbase] == 0).all()
    assert a.tx_time[0] == 1231006505  # genesis timestamp
    # arrays are cached per generation and memory-mapped
    assert isinstance(store.arrays().out_value, np.memmap)


def test_generation_and_derived_dir(store: ChainStore) -> None:
    assert store.generation == 3  # 439 blocks in batches of 150
    d = store.derived_dir("clusters")
    assert d.is_dir() and d.parent.name == "derived"


def test_address_stats_view_matches_address_info(store: ChainStore) -> None:
    row = (
        store.con()
        .execute(
            "SELECT balance, total_received, total_sent, tx_count, last_seen_height FROM address_stats "
            "WHERE address = '12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S'"
        )
        .fetchone()
    )
    info = store.address("12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S")
    assert row == (info["balance"], info["total_received"], info["total_sent"], info["tx_count"], info["last_seen_height"])  # fmt: skip
    assert info["total_sent"] > 0 and info["balance"] == info["total_received"] - info["total_sent"]
