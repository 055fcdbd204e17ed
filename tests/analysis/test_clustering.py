"""Clustering over ChainArrays: incremental equals full, CoinJoins never merge, change merges
are guarded, and the persisted state round-trips."""

from __future__ import annotations

import numpy as np
import pytest
from chainbuild import Tx, build, coinbase, prefix, random_chain

from chaintrail.analysis.cluster_state import load_state, save_state
from chaintrail.analysis.clustering import cluster_arrays
from chaintrail.analysis.clusters_table import cluster_row, cluster_table, members

CHANGE = "multi-input,change:fresh_address"


@pytest.mark.parametrize("heuristics", ["multi-input", CHANGE])
def test_incremental_run_equals_full_run(heuristics: str) -> None:
    chain = random_chain(11, n_txs=600)
    # the absorb guard judges cluster sizes as known when a tx is processed: off here
    full = cluster_arrays(chain, heuristics, absorb_ratio=0)
    state = None
    for cut in (100, 350, 351, 600):
        state = cluster_arrays(prefix(chain, cut), heuristics, state, absorb_ratio=0)
        assert state.meta["last_tx"] == cut
    assert state.meta["first_new_tx"] == 351  # the last step really was incremental
    # fresh_address only looks backwards, so even its change merges come out the same
    assert np.array_equal(state.labels, full.labels)


def test_coinjoin_inputs_are_not_merged_but_ordinary_inputs_are() -> None:
    funding = [coinbase(i, 100_000_000) for i in range(6)]
    cj = Tx(ins=[(i, 0) for i in range(4)], outs=[(10 + i, 90_000_000) for i in range(4)])
    normal = Tx(ins=[(4, 0), (5, 0)], outs=[(20, 150_000_000), (21, 49_000_000)])
    state = cluster_arrays(build(funding + [cj, normal]), "multi-input")
    labels = state.labels
    assert len({int(labels[a]) for a in range(4)}) == 4
    assert labels[5] == labels[4] == 4
    assert state.verdict[6] != 0 and state.verdict[7] == 0


def test_change_merge_joins_change_address_to_the_spender() -> None:
    txs = [coinbase(0), coinbase(1), Tx(ins=[(0, 0)], outs=[(1, 10 * 10**8), (2, 39 * 10**8)])]
    state = cluster_arrays(build(txs), CHANGE)
    assert state.labels[2] == 0 and state.labels[1] == 1
    assert state.meta["counts"]["change_merges"] == 1
    assert cluster_arrays(build(txs), "multi-input").labels[2] == 2


def test_change_merge_between_large_clusters_is_refused_and_logged() -> None:
    txs = [coinbase(i) for i in range(6)]
    txs.append(Tx(ins=[(0, 0), (1, 0), (2, 0)], outs=[(0, 150 * 10**8)]))  # A = {0,1,2}
    txs.append(Tx(ins=[(3, 0), (4, 0), (5, 0)], outs=[(3, 150 * 10**8)]))  # B = {3,4,5}
    # A pays 149 BTC away; the 0.5 BTC output (smaller than every input) goes to B's address 3
    txs.append(coinbase(2))
    txs.append(Tx(ins=[(6, 0), (8, 0)], outs=[(30, 199 * 10**8), (3, 5 * 10**7)]))
    optimal = "multi-input,change:optimal_change"
    state = cluster_arrays(build(txs), optimal, guard_size=3)
    assert state.meta["counts"]["change_merges"] == 0
    assert state.refused.to_pylist() == [
        {
            "tx_id": 9,
            "size_input_cluster": 3,
            "size_change_cluster": 3,
            "reason": "both clusters already large",
        }
    ]
    assert state.labels[3] == 3
    relaxed = cluster_arrays(build(txs), optimal, guard_size=4)
    assert relaxed.meta["counts"]["change_merges"] == 1 and relaxed.labels[3] == 0


def test_changed_heuristics_force_a_full_recompute() -> None:
    chain = random_chain(5)
    first = cluster_arrays(prefix(chain, 200), "multi-input")
    second = cluster_arrays(chain, CHANGE, first)
    assert second.meta["first_new_tx"] == 0


def test_reorg_forces_a_full_recompute() -> None:
    chain = random_chain(5)
    state = cluster_arrays(chain, "multi-input")
    shorter = prefix(chain, 300)
    again = cluster_arrays(shorter, "multi-input", state)
    assert again.meta["first_new_tx"] == 0 and again.meta["last_tx"] == 300


def test_state_round_trips_and_table_sums_flows(tmp_path) -> None:
    chain = random_chain(8)
    state = cluster_arrays(chain, CHANGE)
    state.table = cluster_table(chain, state.labels)
    save_state(tmp_path, state)
    save_state(tmp_path, state)  # a second save removes the first run's files
    loaded = load_state(tmp_path)
    assert np.array_equal(loaded.labels, state.labels)
    assert len(list(tmp_path.glob("labels.*.npy"))) == 1
    table = state.table
    assert int(np.sum(table.column("size").to_numpy())) == chain.n_addresses
    received = int(chain.out_value[chain.out_addr >= 0].sum())
    assert int(np.sum(table.column("total_received").to_numpy())) == received
    cid = int(state.labels[int(chain.in_addr[0])])
    row = cluster_row(table, cid)
    mem = members(state.labels, cid)
    paid = np.isin(chain.out_addr, mem)
    assert row["total_received"] == int(chain.out_value[paid].sum())
    assert row["balance"] == row["total_received"] - row["total_sent"]
    assert row["size"] == mem.size
