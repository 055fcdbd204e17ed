"""Multi-input clustering with the collaborative-transaction filter on the tiny chain of every
variant: no CoinJoin of any kind merges strangers; only PayJoins can, and the filter keeps
most of them out (the rest are indistinguishable from ordinary payments: ACCURACY.md)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from typer.testing import CliRunner

from chaintrail.analysis.clustering import cluster_arrays, plain_arrays
from chaintrail.analysis.coinjoin import MERGE_BLOCKING, MIXES
from chaintrail.cli import app
from chaintrail.sim.behaviour import VARIANTS
from chaintrail.store import ChainStore


def _ingested(chain, tmp_path_factory):  # type: ignore[no-untyped-def]
    store = tmp_path_factory.mktemp("store")
    result = CliRunner().invoke(
        app, ["ingest", str(chain.result.out_dir / "blocks"), "--store", str(store)]
    )
    assert result.exit_code == 0, result.output
    return ChainStore.open(store)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_multi_input_merges_strangers_only_at_payjoins(variant, variant_chain, tmp_path_factory):
    chain = variant_chain(variant)
    store = _ingested(chain, tmp_path_factory)
    arrays = plain_arrays(store.arrays())
    ids = store.address_ids(chain.addresses["address"])
    entity = np.full(arrays.n_addresses, -1, np.int64)
    entity[ids] = chain.addresses["entity_id"]
    index = {h: i for i, h in enumerate(store.txids_hex(np.arange(arrays.n_txs)))}
    kind = np.empty(arrays.n_txs, dtype=object)
    for h, k in zip(chain.txs["txid"], chain.txs["kind"], strict=True):
        kind[index[h]] = k
    state = cluster_arrays(arrays, "multi-input")
    verdict = np.asarray(state.verdict)
    mixes = np.isin(kind, ["coinjoin_wasabi", "coinjoin_wabisabi", "coinjoin_whirlpool_mix",
                           "coinjoin_joinmarket"])  # fmt: skip
    assert np.all(verdict[mixes] & MIXES), variant  # every CoinJoin recognised
    glue: Counter = Counter()
    for t in np.flatnonzero((arrays.tx_n_in >= 2) & ((verdict & MERGE_BLOCKING) == 0)).tolist():
        s = int(arrays.tx_in_start[t])
        owners = entity[arrays.in_addr[s : s + int(arrays.tx_n_in[t])]]
        if (owners != owners[0]).any():
            glue[kind[t]] += 1
    assert set(glue) <= {"payjoin"}, (variant, glue)
    payjoins = int(np.count_nonzero(kind == "payjoin"))
    if payjoins:
        blocked = int(np.count_nonzero(verdict[kind == "payjoin"] & MERGE_BLOCKING))
        assert blocked + glue["payjoin"] == payjoins
        assert glue["payjoin"] < 0.5 * payjoins, (variant, glue["payjoin"], payjoins)
    else:
        assert not glue
