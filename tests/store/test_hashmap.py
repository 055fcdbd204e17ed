"""The numba hash tables against Python dicts under random inserts, overwrites and deletes."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from chaintrail.store import hashmap as hm
from chaintrail.store.addressmap import AddressMap


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_utxo_table_matches_a_dict(seed: int) -> None:
    rng = np.random.default_rng(seed)
    table, ref = hm.empty_utxo_table(16), {}
    for _ in range(20):
        n = int(rng.integers(1, 200))
        k0 = rng.integers(0, 40, n).astype(np.uint64)  # few distinct keys: collisions, overwrites
        # same first word, different check bits: distinct outpoints that must not be confused
        k1 = (rng.integers(0, 2, n).astype(np.uint64) << np.uint64(60)) | np.uint64(5)
        vout = rng.integers(0, 3, n).astype(np.uint32)
        out = rng.integers(0, 10**9, n)
        addr = np.where(out % 5 == 0, -1, out % 1000)
        table = hm.grow_utxo_table(table, len(ref), n)
        hm.utxo_put_many(*hm.utxo_cols(table), k0, k1, vout, out, out * 2, addr)
        for a, b, c, d in zip(k0.tolist(), k1.tolist(), vout.tolist(), out.tolist(), strict=True):
            ref[(a, b >> 51, c)] = d
        keys = list(ref)
        pick = [keys[i] for i in rng.choice(len(keys), min(len(keys), int(rng.integers(0, 60))), replace=False)]  # fmt: skip
        removed = hm.utxo_remove_many(
            *hm.utxo_cols(table),
            np.array([k[0] for k in pick], np.uint64),
            np.array([k[1] << 51 for k in pick], np.uint64),
            np.array([k[2] for k in pick], np.uint32), np.array([ref[k] for k in pick], np.int64),
        )  # fmt: skip
        assert removed == len(pick)
        for k in pick:
            del ref[k]
        e = hm.utxo_entries(table)
        got = dict(zip(zip(e["k0"].tolist(), e["chk"].tolist(), e["vout"].tolist(), strict=True), e["out"].tolist(), strict=True))  # fmt: skip
        assert got == ref
        assert (e["value"] == e["out"] * 2).all()
        assert (e["addr"] == np.where(e["out"] % 5 == 0, -1, e["out"] % 1000)).all()


def test_utxo_table_packs_full_values_and_large_ids() -> None:
    table = hm.empty_utxo_table(16)
    big_out, max_money = (1 << 40) - 1, 21_000_000 * 100_000_000
    hm.utxo_put_many(
        *hm.utxo_cols(table), np.array([7], np.uint64), np.array([2**63 + 9], np.uint64),
        np.array([444_000], np.uint32), np.array([big_out]), np.array([max_money]),
        np.array([2**32 - 2]),
    )  # fmt: skip
    prev_out, prev_value, prev_addr, delta = hm.utxo_spend_and_create(
        *hm.utxo_cols(table), np.array([False]), np.array([0]), np.array([1]), np.array([0]),
        np.array([0]), np.zeros(1, np.uint64), np.zeros(1, np.uint64),
        np.array([7], np.uint64), np.array([2**63 + 9], np.uint64), np.array([444_000], np.uint32),
        np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.bool_), np.int64(0),
    )  # fmt: skip
    assert (prev_out[0], prev_value[0], prev_addr[0], delta) == (big_out, max_money, 2**32 - 2, -1)


def test_address_map_assigns_first_seen_ids_verifies_keys_and_deletes() -> None:
    rng = np.random.default_rng(7)
    keys = rng.integers(0, 256, (3000, 33)).astype(np.uint8)
    keys[:, 0] = rng.integers(1, 7, 3000)
    keys[10, 1:] = keys[11, 1:]  # same payload, different script type: distinct addresses
    keys[10, 0], keys[11, 0] = 2, 4
    keys[1500:] = keys[:1500]  # every key seen twice
    m = AddressMap()
    ids, first = m.assign(keys, np.ones(3000, bool))
    assert ids[:1500].tolist() == list(range(1500)) and (ids[1500:] == ids[:1500]).all()
    assert first.tolist() == list(range(1500)) and m.n == 1500
    assert m.table["slot"].nbytes == 8 * m.table["slot"].shape[0]
    assert sorted(hm.address_slot_ids(m.table).tolist()) == list(range(1500))
    m.truncate(700)
    assert m.lookup(keys[:1500]).tolist() == list(range(700)) + [-1] * 800


def test_address_map_fingerprint_collision_is_resolved_by_the_key() -> None:
    keys = np.zeros((2, 33), np.uint8)
    keys[:, 0], keys[0, 5], keys[1, 5] = 2, 1, 2
    t = hm.empty_address_table(16)["slot"]
    clash = hm.address_fingerprints(keys[1:])
    # id 0 holds keys[0] but is filed under keys[1]'s fingerprint (a fingerprint collision)
    hm._addr_rehash(t, clash & ~np.uint64(0xFFFFFFFF))
    tail = np.zeros((4, 33), np.uint8)
    args = (t, keys[:1], 1, tail)
    assert hm.addr_lookup(*args, clash, keys[1:]).tolist() == [-1]  # the key check rejects it
    assert hm.addr_lookup(*args, clash, keys[:1]).tolist() == [0]
    ids, first = hm.addr_assign(*args, clash, keys[1:], np.ones(1, bool), np.int64(1))
    assert ids.tolist() == [1] and first.tolist() == [0] and (tail[0] == keys[1]).all()
    assert hm.addr_lookup(*args, np.repeat(clash, 2), keys).tolist() == [0, 1]
    assert hm.addr_delete(*args, clash, keys[:1]) == 1
    assert hm.addr_lookup(*args, np.repeat(clash, 2), keys).tolist() == [-1, 1]
