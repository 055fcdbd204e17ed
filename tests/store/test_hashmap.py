"""The numba hash tables against Python dicts under random inserts, overwrites and deletes."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from chaintrail.store import hashmap as hm


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_utxo_table_matches_a_dict(seed: int) -> None:
    rng = np.random.default_rng(seed)
    table, ref = hm.empty_utxo_table(16), {}
    for _ in range(20):
        n = int(rng.integers(1, 200))
        k0 = rng.integers(0, 40, n).astype(np.uint64)  # few distinct keys: collisions, overwrites
        k1 = k0 * np.uint64(7)
        vout = rng.integers(0, 3, n).astype(np.uint32)
        out = rng.integers(0, 10**9, n)
        table = hm.grow_utxo_table(table, len(ref), n)
        hm.utxo_put_many(*hm.utxo_cols(table), k0, k1, vout, out, out * 2, out * 3)
        for a, b, c, d in zip(k0.tolist(), k1.tolist(), vout.tolist(), out.tolist(), strict=True):
            ref[(a, b, c)] = d
        keys = list(ref)
        pick = [keys[i] for i in rng.choice(len(keys), min(len(keys), int(rng.integers(0, 60))), replace=False)]  # fmt: skip
        removed = hm.utxo_remove_many(
            *hm.utxo_cols(table),
            np.array([k[0] for k in pick], np.uint64), np.array([k[1] for k in pick], np.uint64),
            np.array([k[2] for k in pick], np.uint32), np.array([ref[k] for k in pick], np.int64),
        )  # fmt: skip
        assert removed == len(pick)
        for k in pick:
            del ref[k]
        used = table["out"] != -1
        got = dict(zip(zip(table["k0"][used].tolist(), table["k1"][used].tolist(), table["vout"][used].tolist(), strict=True), table["out"][used].tolist(), strict=True))  # fmt: skip
        assert got == ref
        assert (table["value"][used] == table["out"][used] * 2).all()


def test_address_map_assigns_first_seen_ids_and_deletes() -> None:
    rng = np.random.default_rng(7)
    keys = rng.integers(0, 256, (3000, 33)).astype(np.uint8)
    keys[:, 0] = rng.integers(1, 7, 3000)
    keys[10, 1:] = keys[11, 1:]  # same payload, different script type: distinct addresses
    keys[10, 0], keys[11, 0] = 2, 4
    keys[1500:] = keys[:1500]  # every key seen twice
    k0, k1 = hm.fold_address_keys(keys)
    t = hm.grow_address_table(hm.empty_address_table(16), 0, 3000)
    ids, first = hm.addr_assign(t["k0"], t["k1"], t["id"], k0, k1, np.ones(3000, bool), np.int64(0))
    assert ids[:1500].tolist() == list(range(1500)) and (ids[1500:] == ids[:1500]).all()
    assert first.tolist() == list(range(1500))
    hm.addr_delete(t["k0"], t["k1"], t["id"], k0[700:1500], k1[700:1500])
    found = hm.addr_lookup(t["k0"], t["k1"], t["id"], k0[:1500], k1[:1500])
    assert found.tolist() == list(range(700)) + [-1] * 800
