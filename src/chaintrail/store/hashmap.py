"""Open-addressing hash tables in numba over numpy arrays: the address map and the UTXO set.

Keys are 128-bit fingerprints of the real key (the address key's hash payload and script type,
or a txid's first 16 bytes) plus, for the UTXO set, the output index. Both fingerprints are
slices of cryptographic hashes, so a false match has probability ~n/2**128. Linear probing
with backward-shift deletion keeps tables tombstone-free; callers grow a table (``grow_*``)
before inserting past ``MAX_LOAD``. A slot is empty when its id/out-id column is -1.
"""

from __future__ import annotations

import numpy as np
from numba import njit

MAX_LOAD = 0.7
_MIX = np.uint64(0x9E3779B97F4A7C15)
_TYPE_MIX = np.uint64(0xD6E8FEB86659FD93)


@njit(cache=True)
def _le64(row: np.ndarray, start: int) -> np.uint64:
    v = np.uint64(0)
    for b in range(8):
        v |= np.uint64(row[start + b]) << np.uint64(8 * b)
    return v


@njit(cache=True)
def _rotl(x: np.uint64, r: int) -> np.uint64:
    return (x << np.uint64(r)) | (x >> np.uint64(64 - r))


@njit(cache=True)
def fold_address_keys(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n,33) address keys -> two uint64 fingerprints; distinct script types never collide."""
    n = keys.shape[0]
    k0 = np.empty(n, np.uint64)
    k1 = np.empty(n, np.uint64)
    for i in range(n):
        row = keys[i]
        k0[i] = _le64(row, 1) ^ (np.uint64(row[0]) * _TYPE_MIX)
        k1[i] = _le64(row, 9) ^ _rotl(_le64(row, 17), 21) ^ _rotl(_le64(row, 25), 42)
    return k0, k1


def fold_txids(txids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n,32) internal-order txids -> their first two little-endian uint64 words."""
    words = np.ascontiguousarray(txids).view("<u8").reshape(-1, 4)
    return np.ascontiguousarray(words[:, 0]), np.ascontiguousarray(words[:, 1])


@njit(cache=True)
def _home(k0: np.uint64, sub: np.uint32, mask: np.uint64) -> np.int64:
    h = (k0 ^ (np.uint64(sub) * _MIX)) * _MIX
    return np.int64((h >> np.uint64(17)) & mask)


# ---------------------------------------------------------------- address map (key -> id)


def empty_address_table(capacity: int) -> dict[str, np.ndarray]:
    """A new address table with ``capacity`` slots (a power of two)."""
    cap = 1 << max(4, int(capacity - 1).bit_length())
    return {
        "k0": np.zeros(cap, np.uint64),
        "k1": np.zeros(cap, np.uint64),
        "id": np.full(cap, -1, np.int64),
    }


@njit(cache=True)
def addr_lookup(t_k0, t_k1, t_id, k0s, k1s) -> np.ndarray:
    """Ids of the fingerprinted keys, -1 where absent."""
    mask = np.uint64(t_id.shape[0] - 1)
    out = np.full(k0s.shape[0], -1, np.int64)
    for i in range(k0s.shape[0]):
        s = _home(k0s[i], np.uint32(0), mask)
        while t_id[s] != -1:
            if t_k0[s] == k0s[i] and t_k1[s] == k1s[i]:
                out[i] = t_id[s]
                break
            s = (s + 1) & np.int64(mask)
    return out


@njit(cache=True)
def addr_assign(t_k0, t_k1, t_id, k0s, k1s, valid, next_id) -> tuple[np.ndarray, np.ndarray]:
    """Id of each valid key, inserting unseen ones with consecutive ids from ``next_id``.

    Returns (ids, rows of first sightings in input order); ids are -1 where not ``valid``.
    The table must have room for every key (grow first).
    """
    mask = np.uint64(t_id.shape[0] - 1)
    n = k0s.shape[0]
    ids = np.full(n, -1, np.int64)
    first = np.empty(n, np.int64)
    n_first = 0
    for i in range(n):
        if not valid[i]:
            continue
        s = _home(k0s[i], np.uint32(0), mask)
        while True:
            if t_id[s] == -1:
                t_k0[s] = k0s[i]
                t_k1[s] = k1s[i]
                t_id[s] = next_id
                ids[i] = next_id
                next_id += 1
                first[n_first] = i
                n_first += 1
                break
            if t_k0[s] == k0s[i] and t_k1[s] == k1s[i]:
                ids[i] = t_id[s]
                break
            s = (s + 1) & np.int64(mask)
    return ids, first[:n_first]


@njit(cache=True)
def addr_delete(t_k0, t_k1, t_id, k0s, k1s) -> int:
    """Remove the given keys (backward-shift deletion); returns how many were present."""
    mask = np.int64(t_id.shape[0] - 1)
    removed = 0
    for i in range(k0s.shape[0]):
        s = _home(k0s[i], np.uint32(0), np.uint64(mask))
        while t_id[s] != -1:
            if t_k0[s] == k0s[i] and t_k1[s] == k1s[i]:
                break
            s = (s + 1) & mask
        if t_id[s] == -1:
            continue
        removed += 1
        hole = s
        j = s
        while True:
            j = (j + 1) & mask
            if t_id[j] == -1:
                break
            home = _home(t_k0[j], np.uint32(0), np.uint64(mask))
            if (j > hole and (home <= hole or home > j)) or (
                j < hole and home <= hole and home > j
            ):
                t_k0[hole] = t_k0[j]
                t_k1[hole] = t_k1[j]
                t_id[hole] = t_id[j]
                hole = j
        t_id[hole] = -1
    return removed


def grow_address_table(table: dict[str, np.ndarray], n_used: int, n_more: int) -> dict:
    """The table itself if ``n_used + n_more`` fits under MAX_LOAD, else a rehashed larger one."""
    need = n_used + n_more
    if need <= MAX_LOAD * table["id"].shape[0]:
        return table
    new = empty_address_table(int(need / MAX_LOAD * 1.5) + 1)
    used = table["id"] != -1
    k0, k1, ids = table["k0"][used], table["k1"][used], table["id"][used]
    _addr_reinsert(new["k0"], new["k1"], new["id"], k0, k1, ids)
    return new


@njit(cache=True)
def _addr_reinsert(t_k0, t_k1, t_id, k0s, k1s, ids) -> None:
    mask = np.uint64(t_id.shape[0] - 1)
    for i in range(k0s.shape[0]):
        s = _home(k0s[i], np.uint32(0), mask)
        while t_id[s] != -1:
            s = (s + 1) & np.int64(mask)
        t_k0[s] = k0s[i]
        t_k1[s] = k1s[i]
        t_id[s] = ids[i]


# ------------------------------------------------- UTXO set ((txid, vout) -> out, value, addr)


def empty_utxo_table(capacity: int) -> dict[str, np.ndarray]:
    """A new UTXO table with ``capacity`` slots (a power of two)."""
    cap = 1 << max(4, int(capacity - 1).bit_length())
    return {
        "k0": np.zeros(cap, np.uint64),
        "k1": np.zeros(cap, np.uint64),
        "vout": np.zeros(cap, np.uint32),
        "out": np.full(cap, -1, np.int64),
        "value": np.zeros(cap, np.int64),
        "addr": np.zeros(cap, np.int64),
    }


@njit(cache=True)
def _utxo_find(t_k0, t_k1, t_vout, t_out, k0, k1, vout) -> np.int64:
    mask = np.int64(t_out.shape[0] - 1)
    s = _home(k0, vout, np.uint64(mask))
    while t_out[s] != -1:
        if t_k0[s] == k0 and t_k1[s] == k1 and t_vout[s] == vout:
            return s
        s = (s + 1) & mask
    return np.int64(-1)


@njit(cache=True)
def _utxo_put(t_k0, t_k1, t_vout, t_out, t_value, t_addr, k0, k1, vout, out, value, addr) -> int:
    """Insert or overwrite (a duplicate txid, BIP30, replaces the older output); 1 if new."""
    mask = np.int64(t_out.shape[0] - 1)
    s = _home(k0, vout, np.uint64(mask))
    new = 1
    while t_out[s] != -1:
        if t_k0[s] == k0 and t_k1[s] == k1 and t_vout[s] == vout:
            new = 0
            break
        s = (s + 1) & mask
    t_k0[s] = k0
    t_k1[s] = k1
    t_vout[s] = vout
    t_out[s] = out
    t_value[s] = value
    t_addr[s] = addr
    return new


@njit(cache=True)
def _utxo_remove_slot(t_k0, t_k1, t_vout, t_out, t_value, t_addr, s) -> None:
    mask = np.int64(t_out.shape[0] - 1)
    hole = s
    j = s
    while True:
        j = (j + 1) & mask
        if t_out[j] == -1:
            break
        home = _home(t_k0[j], t_vout[j], np.uint64(mask))
        if (j > hole and (home <= hole or home > j)) or (j < hole and home <= hole and home > j):
            t_k0[hole] = t_k0[j]
            t_k1[hole] = t_k1[j]
            t_vout[hole] = t_vout[j]
            t_out[hole] = t_out[j]
            t_value[hole] = t_value[j]
            t_addr[hole] = t_addr[j]
            hole = j
    t_out[hole] = -1


@njit(cache=True)
def utxo_spend_and_create(
    t_k0, t_k1, t_vout, t_out, t_value, t_addr,
    tx_coinbase, tx_in_start, tx_n_in, tx_out_start, tx_n_out, tx_k0, tx_k1,
    in_k0, in_k1, in_vout, out_value, out_addr, out_spendable, out_id_base,
):  # fmt: skip
    """Walk txs in order: spend each input's outpoint, then add the tx's spendable outputs.

    Returns (prev_out, prev_value, prev_addr, n_delta) per input (-1 where unresolved; coinbase
    inputs are left -1) and the net change in entries. Outputs are created after the tx's own
    inputs are spent, so a tx spending an earlier tx of the same batch resolves.
    """
    n_in = in_k0.shape[0]
    prev_out = np.full(n_in, -1, np.int64)
    prev_value = np.full(n_in, -1, np.int64)
    prev_addr = np.full(n_in, -1, np.int64)
    delta = 0
    for t in range(tx_coinbase.shape[0]):
        if not tx_coinbase[t]:
            for j in range(tx_in_start[t], tx_in_start[t] + tx_n_in[t]):
                s = _utxo_find(t_k0, t_k1, t_vout, t_out, in_k0[j], in_k1[j], in_vout[j])
                if s >= 0:
                    prev_out[j] = t_out[s]
                    prev_value[j] = t_value[s]
                    prev_addr[j] = t_addr[s]
                    _utxo_remove_slot(t_k0, t_k1, t_vout, t_out, t_value, t_addr, s)
                    delta -= 1
        for k in range(tx_out_start[t], tx_out_start[t] + tx_n_out[t]):
            if out_spendable[k]:
                vout = np.uint32(k - tx_out_start[t])
                delta += _utxo_put(
                    t_k0, t_k1, t_vout, t_out, t_value, t_addr,
                    tx_k0[t], tx_k1[t], vout, out_id_base + k, out_value[k], out_addr[k],
                )  # fmt: skip
    return prev_out, prev_value, prev_addr, delta


@njit(cache=True)
def utxo_put_many(t_k0, t_k1, t_vout, t_out, t_value, t_addr, k0, k1, vout, out, value, addr):
    """Insert/overwrite entries in order; returns how many were new."""
    new = 0
    for i in range(k0.shape[0]):
        new += _utxo_put(
            t_k0, t_k1, t_vout, t_out, t_value, t_addr,
            k0[i], k1[i], vout[i], out[i], value[i], addr[i],
        )  # fmt: skip
    return new


@njit(cache=True)
def utxo_remove_many(t_k0, t_k1, t_vout, t_out, t_value, t_addr, k0, k1, vout, out) -> int:
    """Remove entries whose key maps to exactly ``out``; returns how many were removed."""
    removed = 0
    for i in range(k0.shape[0]):
        s = _utxo_find(t_k0, t_k1, t_vout, t_out, k0[i], k1[i], vout[i])
        if s >= 0 and t_out[s] == out[i]:
            _utxo_remove_slot(t_k0, t_k1, t_vout, t_out, t_value, t_addr, s)
            removed += 1
    return removed


def grow_utxo_table(table: dict[str, np.ndarray], n_used: int, n_more: int) -> dict:
    """The table itself if ``n_used + n_more`` fits under MAX_LOAD, else a rehashed larger one."""
    need = n_used + n_more
    if need <= MAX_LOAD * table["out"].shape[0]:
        return table
    new = empty_utxo_table(int(need / MAX_LOAD * 1.5) + 1)
    used = table["out"] != -1
    cols = [table[c][used] for c in ("k0", "k1", "vout", "out", "value", "addr")]
    utxo_put_many(*(new[c] for c in ("k0", "k1", "vout", "out", "value", "addr")), *cols)
    return new


def utxo_cols(table: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
    """The table's six arrays in kernel argument order."""
    return tuple(table[c] for c in ("k0", "k1", "vout", "out", "value", "addr"))
