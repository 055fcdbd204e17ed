"""Pairwise scores by contingency counts agree with brute-force pair counting."""

from __future__ import annotations

import itertools

import numpy as np

from chaintrail.analysis.cluster_metrics import cross_entity_merges, pairwise_scores


def test_pairwise_scores_match_brute_force() -> None:
    rng = np.random.default_rng(1)
    pred = rng.integers(0, 15, 120)
    true = rng.integers(0, 10, 120)
    true[:5] = -1  # unknown owners are ignored
    scores = pairwise_scores(pred, true)
    idx = [i for i in range(120) if true[i] >= 0]
    both = sum(
        1 for i, j in itertools.combinations(idx, 2) if pred[i] == pred[j] and true[i] == true[j]
    )
    p_pairs = sum(1 for i, j in itertools.combinations(idx, 2) if pred[i] == pred[j])
    t_pairs = sum(1 for i, j in itertools.combinations(idx, 2) if true[i] == true[j])
    assert scores["precision"] == both / p_pairs
    assert scores["recall"] == both / t_pairs


def test_split_impure_and_largest() -> None:
    pred = np.array([0, 0, 0, 1, 2, 2])
    true = np.array([7, 7, 8, 8, 9, 9])
    s = pairwise_scores(pred, true)
    assert s["entities_split"] == 1  # entity 8 is in clusters 0 and 1
    assert s["impure_clusters"] == 1  # cluster 0 holds entities 7 and 8
    assert s["largest_cluster"] == 3
    assert s["precision"] == 2 / 4 and s["recall"] == 2 / 3


def test_cross_entity_merges_counts_mixed_clusters() -> None:
    in_addr = np.array([0, 1, 2, 3], np.int32)
    labels = np.array([0, 0, 2, 3])
    entity = np.array([5, 6, 5, 6])
    tx_in_start = np.array([0, 2], np.int64)
    tx_n_in = np.array([2, 2], np.int32)
    assert cross_entity_merges(np.array([0, 1]), tx_in_start, tx_n_in, in_addr, labels, entity) == 1


def test_multi_input_on_the_tiny_simulated_chain_is_precise_and_coinjoin_safe(tmp_path) -> None:
    import pyarrow.parquet as pq
    from typer.testing import CliRunner

    from chaintrail.analysis.clustering import cluster_arrays, plain_arrays
    from chaintrail.analysis.coinjoin import MERGE_BLOCKING
    from chaintrail.cli import app
    from chaintrail.sim.run import simulate
    from chaintrail.store import ChainStore

    simulate("tiny", 7, tmp_path / "chain")
    result = CliRunner().invoke(
        app, ["ingest", str(tmp_path / "chain" / "blocks"), "--store", str(tmp_path / "store")]
    )
    assert result.exit_code == 0, result.output
    store = ChainStore.open(tmp_path / "store")
    arrays = plain_arrays(store.arrays())
    truth = pq.read_table(tmp_path / "chain" / "truth" / "addresses.parquet")
    ids = store.address_ids(truth.column("address").to_pylist())
    entity = np.full(arrays.n_addresses, -1, np.int64)
    entity[ids[ids >= 0]] = truth.column("entity_id").to_numpy()[ids >= 0]
    txs = pq.read_table(tmp_path / "chain" / "truth" / "txs.parquet")
    tx_index = {h: i for i, h in enumerate(store.txids_hex(np.arange(arrays.n_txs)))}
    kinds = txs.column("kind").to_pylist()
    mixes = np.array(
        [
            tx_index[h]
            for h, k in zip(txs.column("txid").to_pylist(), kinds, strict=True)
            if k in ("coinjoin_wasabi", "coinjoin_whirlpool_mix", "coinjoin_joinmarket")
        ]
    )
    assert mixes.size > 20

    state = cluster_arrays(arrays, "multi-input")
    assert np.all(state.verdict[mixes] & MERGE_BLOCKING)  # every CoinJoin detected
    assert (
        cross_entity_merges(
            mixes, arrays.tx_in_start, arrays.tx_n_in, arrays.in_addr, state.labels, entity
        )
        == 0
    )
    scores = pairwise_scores(state.labels, entity)
    assert scores["precision"] >= 0.995
    assert scores["recall"] > 0.05  # it does merge: multi-input finds real co-ownership
