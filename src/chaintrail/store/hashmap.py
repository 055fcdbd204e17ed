"""Lean open-addressing hash tables in numba: the address map and the UTXO set.

Both are Robin Hood tables (linear probing; an entry never sits farther from its home slot
than the one it would displace), so lookups of absent keys stop early and the load factor
can reach ``MAX_LOAD = 0.9``; deletion shifts the following entries back (no tombstones).
Capacities are arbitrary (home slot = high 32 bits of a 64-bit hash times the capacity).

* Address map, 8 B/slot: one uint64, the high 32 bits of the key's 64-bit hash (they also
  give the home slot) above a uint32 id (``EMPTY64`` = free). A fingerprint match is
  confirmed against the key itself, read by id from the flat key arrays (``kb`` rows
  ``0..nb-1``, e.g. a memory-mapped file, then ``kt`` for later ids), so lookups are exact;
  a needless key read happens ~once per 2**32 probes. One array: one cache miss per probe.
* UTXO set, 28 B/slot: ``k0`` (txid bytes 0-7), ``ov`` (out id in the low 40 bits, vout in
  the high 24; ``EMPTY64`` = free), ``vc`` (value in the low 51 bits, 13 check bits from txid
  bytes 8-15 above), ``addr`` (uint32 address id, ``EMPTY32`` = none). A false match needs
  77 bits of two txids to collide at the same vout: ~1e-6 over the whole chain's inputs.

Callers grow a table (``grow_*``) before inserting past ``MAX_LOAD``.
"""

from __future__ import annotations

import numpy as np

from chaintrail.kernels import helper, kernel

MAX_LOAD = 0.9
GROWTH = 1.3  # a grown table starts at load MAX_LOAD / GROWTH
EMPTY32 = np.uint32(0xFFFFFFFF)
EMPTY64 = np.uint64(0xFFFFFFFFFFFFFFFF)
OUT_BITS = 40
VALUE_BITS = 51
_OUT_MASK = np.uint64((1 << OUT_BITS) - 1)
_VALUE_MASK = np.uint64((1 << VALUE_BITS) - 1)
_ID_MASK = np.uint64(0xFFFFFFFF)
_MIX = np.uint64(0x9E3779B97F4A7C15)
_TYPE_MIX = np.uint64(0xD6E8FEB86659FD93)


@helper
def _le64(row: np.ndarray, start: int) -> np.uint64:
    v = np.uint64(0)
    for b in range(8):
        v |= np.uint64(row[start + b]) << np.uint64(8 * b)
    return v


@helper
def _slot(h: np.uint64, cap: int) -> np.int64:
    return np.int64(((h >> np.uint64(32)) * np.uint64(cap)) >> np.uint64(32))


@kernel(nogil=True)
def address_fingerprints(keys: np.ndarray) -> np.ndarray:
    """(n,33) address keys -> uint64 fingerprints (payload words and script type mixed)."""
    n = keys.shape[0]
    fp = np.empty(n, np.uint64)
    for i in range(n):
        row = keys[i]
        h = _le64(row, 1) ^ (np.uint64(row[0]) * _TYPE_MIX)
        for w in range(9, 33, 8):
            h = (h ^ (h >> np.uint64(29))) * _MIX ^ _le64(row, w)
        fp[i] = (h ^ (h >> np.uint64(32))) * _MIX
    return fp


def fold_txids(txids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n,32) internal-order txids -> their first two little-endian uint64 words."""
    words = np.ascontiguousarray(txids).view("<u8").reshape(-1, 4)
    return np.ascontiguousarray(words[:, 0]), np.ascontiguousarray(words[:, 1])


# ---------------------------------------------------------------- address map (key -> id)


def empty_address_table(capacity: int) -> dict[str, np.ndarray]:
    """A new address table with ``capacity`` slots (one uint64 each: fingerprint << 32 | id)."""
    cap = max(16, int(capacity))
    return {"slot": np.full(cap, EMPTY64, np.uint64)}


@helper
def _key_eq(kb, nb, kt, ident, keys, i) -> bool:  # type: ignore[no-untyped-def]
    if ident < nb:
        for j in range(33):
            if kb[ident, j] != keys[i, j]:
                return False
    else:
        r = ident - nb
        for j in range(33):
            if kt[r, j] != keys[i, j]:
                return False
    return True


@helper
def _ahome(v, cap):  # type: ignore[no-untyped-def]
    """Home slot of a stored slot value (or of ``fp << 32``): from its fingerprint bits."""
    return np.int64(((v >> np.uint64(32)) * np.uint64(cap)) >> np.uint64(32))


@helper
def _addr_find(t, kb, nb, kt, fp, keys, i) -> np.int64:  # type: ignore[no-untyped-def]
    """Slot holding ``keys[i]``, or ``-(slot + 1)`` where the probe stopped (absent)."""
    cap = t.shape[0]
    hi = fp >> np.uint64(32)
    s = _ahome(fp, cap)
    d = 0
    while True:
        v = t[s]
        if v == EMPTY64:
            return -(s + 1)
        sd = s - _ahome(v, cap)
        if sd < 0:
            sd += cap
        if sd < d:
            return -(s + 1)
        if (v >> np.uint64(32)) == hi and _key_eq(kb, nb, kt, np.int64(v & _ID_MASK), keys, i):
            return s
        s += 1
        if s == cap:
            s = 0
        d += 1


@helper
def _addr_place(t, s, v) -> None:  # type: ignore[no-untyped-def]
    """Robin Hood insert of slot value ``v`` starting at slot ``s`` (where the probe stopped)."""
    cap = t.shape[0]
    d = s - _ahome(v, cap)
    if d < 0:
        d += cap
    while t[s] != EMPTY64:
        sd = s - _ahome(t[s], cap)
        if sd < 0:
            sd += cap
        if sd < d:
            v, t[s] = t[s], v
            d = sd
        s += 1
        if s == cap:
            s = 0
        d += 1
    t[s] = v


@kernel(nogil=True)
def addr_lookup(t, kb, nb, kt, fps, keys) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Ids of the keys (``fps`` their fingerprints), -1 where absent."""
    out = np.full(fps.shape[0], -1, np.int64)
    for i in range(fps.shape[0]):
        s = _addr_find(t, kb, nb, kt, fps[i], keys, i)
        if s >= 0:
            out[i] = np.int64(t[s] & _ID_MASK)
    return out


@kernel(nogil=True)
def addr_assign(t, kb, nb, kt, fps, keys, valid, next_id):  # type: ignore[no-untyped-def]
    """Id of each valid key, inserting unseen ones with consecutive ids from ``next_id``
    (their keys are written to ``kt[id - nb]``: size it first).

    Returns (ids, rows of first sightings in input order); ids are -1 where not ``valid``.
    The table must have room for every key (grow first).
    """
    n = fps.shape[0]
    ids = np.full(n, -1, np.int64)
    first = np.empty(n, np.int64)
    n_first = 0
    for i in range(n):
        if not valid[i]:
            continue
        s = _addr_find(t, kb, nb, kt, fps[i], keys, i)
        if s >= 0:
            ids[i] = np.int64(t[s] & _ID_MASK)
            continue
        for j in range(33):
            kt[next_id - nb, j] = keys[i, j]
        v = (fps[i] & ~_ID_MASK) | np.uint64(next_id)
        _addr_place(t, -s - 1, v)
        ids[i] = next_id
        next_id += 1
        first[n_first] = i
        n_first += 1
    return ids, first[:n_first]


@kernel(nogil=True)
def addr_delete(t, kb, nb, kt, fps, keys) -> int:  # type: ignore[no-untyped-def]
    """Remove the given keys (backward-shift deletion); returns how many were present."""
    cap = t.shape[0]
    removed = 0
    for i in range(fps.shape[0]):
        s = _addr_find(t, kb, nb, kt, fps[i], keys, i)
        if s < 0:
            continue
        removed += 1
        while True:
            j = s + 1 if s + 1 < cap else 0
            if t[j] == EMPTY64 or _ahome(t[j], cap) == j:
                break
            t[s] = t[j]
            s = j
        t[s] = EMPTY64
    return removed


@kernel(nogil=True)
def _addr_rehash(t, values) -> None:  # type: ignore[no-untyped-def]
    cap = t.shape[0]
    for i in range(values.shape[0]):
        _addr_place(t, _ahome(values[i], cap), values[i])


def grow_address_table(table: dict[str, np.ndarray], n_used: int, n_more: int) -> dict:
    """The table itself if ``n_used + n_more`` fits under MAX_LOAD, else a rehashed larger one."""
    need = n_used + n_more
    if need <= MAX_LOAD * table["slot"].shape[0]:
        return table
    new = empty_address_table(int(need / MAX_LOAD * GROWTH) + 1)
    _addr_rehash(new["slot"], table["slot"][table["slot"] != EMPTY64])
    return new


def address_slot_ids(table: dict[str, np.ndarray]) -> np.ndarray:
    """Ids stored in the table (any order)."""
    t = table["slot"]
    return (t[t != EMPTY64] & _ID_MASK).astype(np.int64)


# ----------------------------------------- UTXO set ((txid, vout) -> out id, value, address id)


def empty_utxo_table(capacity: int) -> dict[str, np.ndarray]:
    """A new UTXO table with ``capacity`` slots."""
    cap = max(16, int(capacity))
    return {
        "k0": np.zeros(cap, np.uint64),
        "ov": np.full(cap, EMPTY64, np.uint64),
        "vc": np.zeros(cap, np.uint64),
        "addr": np.zeros(cap, np.uint32),
    }


UTXO_COLUMNS = ("k0", "ov", "vc", "addr")


def utxo_cols(table: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
    """The table's four arrays in kernel argument order."""
    return tuple(table[c] for c in UTXO_COLUMNS)


@helper
def _uhome(k0, vout, cap):  # type: ignore[no-untyped-def]
    return _slot((k0 ^ (np.uint64(vout) * _MIX)) * _MIX, cap)


@helper
def _chk(k1):  # type: ignore[no-untyped-def]
    return k1 >> np.uint64(VALUE_BITS)


@helper
def _uhome_of(t_k0, t_ov, s, cap):  # type: ignore[no-untyped-def]
    return _uhome(t_k0[s], np.uint32(t_ov[s] >> np.uint64(OUT_BITS)), cap)


@helper
def _utxo_find(t_k0, t_ov, t_vc, k0, chk, vout) -> np.int64:  # type: ignore[no-untyped-def]
    """Slot of (txid, vout), or ``-(slot + 1)`` where the probe stopped (absent)."""
    cap = t_ov.shape[0]
    s = _uhome(k0, vout, cap)
    d = 0
    while True:
        if t_ov[s] == EMPTY64:
            return -(s + 1)
        sd = s - _uhome_of(t_k0, t_ov, s, cap)
        if sd < 0:
            sd += cap
        if sd < d:
            return -(s + 1)
        if (
            t_k0[s] == k0
            and (t_ov[s] >> np.uint64(OUT_BITS)) == np.uint64(vout)
            and (t_vc[s] >> np.uint64(VALUE_BITS)) == chk
        ):
            return s
        s += 1
        if s == cap:
            s = 0
        d += 1


@helper
def _utxo_place(t_k0, t_ov, t_vc, t_addr, s, k0, ov, vc, addr) -> None:  # type: ignore[no-untyped-def]
    cap = t_ov.shape[0]
    d = s - _uhome(k0, np.uint32(ov >> np.uint64(OUT_BITS)), cap)
    if d < 0:
        d += cap
    while t_ov[s] != EMPTY64:
        sd = s - _uhome_of(t_k0, t_ov, s, cap)
        if sd < 0:
            sd += cap
        if sd < d:
            k0, t_k0[s] = t_k0[s], k0
            ov, t_ov[s] = t_ov[s], ov
            vc, t_vc[s] = t_vc[s], vc
            addr, t_addr[s] = t_addr[s], addr
            d = sd
        s += 1
        if s == cap:
            s = 0
        d += 1
    t_k0[s] = k0
    t_ov[s] = ov
    t_vc[s] = vc
    t_addr[s] = addr


@helper
def _utxo_put(t_k0, t_ov, t_vc, t_addr, k0, k1, vout, out, value, addr) -> int:  # type: ignore[no-untyped-def]
    """Insert or overwrite (a duplicate txid, BIP30, replaces the older output); 1 if new."""
    chk = _chk(k1)
    ov = (np.uint64(vout) << np.uint64(OUT_BITS)) | (np.uint64(out) & _OUT_MASK)
    vc = (chk << np.uint64(VALUE_BITS)) | (np.uint64(value) & _VALUE_MASK)
    a = EMPTY32 if addr < 0 else np.uint32(addr)
    s = _utxo_find(t_k0, t_ov, t_vc, k0, chk, vout)
    if s >= 0:
        t_ov[s] = ov
        t_vc[s] = vc
        t_addr[s] = a
        return 0
    _utxo_place(t_k0, t_ov, t_vc, t_addr, -s - 1, k0, ov, vc, a)
    return 1


@helper
def _utxo_remove_slot(t_k0, t_ov, t_vc, t_addr, s) -> None:  # type: ignore[no-untyped-def]
    cap = t_ov.shape[0]
    while True:
        j = s + 1 if s + 1 < cap else 0
        if t_ov[j] == EMPTY64 or _uhome_of(t_k0, t_ov, j, cap) == j:
            break
        t_k0[s] = t_k0[j]
        t_ov[s] = t_ov[j]
        t_vc[s] = t_vc[j]
        t_addr[s] = t_addr[j]
        s = j
    t_ov[s] = EMPTY64


@kernel(nogil=True)
def utxo_spend_and_create(
    t_k0, t_ov, t_vc, t_addr,
    tx_coinbase, tx_in_start, tx_n_in, tx_out_start, tx_n_out, tx_k0, tx_k1,
    in_k0, in_k1, in_vout, out_value, out_addr, out_spendable, out_id_base,
):  # type: ignore[no-untyped-def]  # fmt: skip
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
                s = _utxo_find(t_k0, t_ov, t_vc, in_k0[j], _chk(in_k1[j]), in_vout[j])
                if s >= 0:
                    prev_out[j] = np.int64(t_ov[s] & _OUT_MASK)
                    prev_value[j] = np.int64(t_vc[s] & _VALUE_MASK)
                    prev_addr[j] = -1 if t_addr[s] == EMPTY32 else np.int64(t_addr[s])
                    _utxo_remove_slot(t_k0, t_ov, t_vc, t_addr, s)
                    delta -= 1
        for k in range(tx_out_start[t], tx_out_start[t] + tx_n_out[t]):
            if out_spendable[k]:
                vout = np.uint32(k - tx_out_start[t])
                delta += _utxo_put(
                    t_k0, t_ov, t_vc, t_addr, tx_k0[t], tx_k1[t], vout,
                    out_id_base + k, out_value[k], out_addr[k],
                )  # fmt: skip
    return prev_out, prev_value, prev_addr, delta


@kernel(nogil=True)
def utxo_put_many(t_k0, t_ov, t_vc, t_addr, k0, k1, vout, out, value, addr):  # type: ignore[no-untyped-def]
    """Insert/overwrite entries in order; returns how many were new."""
    new = 0
    for i in range(k0.shape[0]):
        new += _utxo_put(t_k0, t_ov, t_vc, t_addr, k0[i], k1[i], vout[i], out[i], value[i], addr[i])
    return new


@kernel(nogil=True)
def utxo_remove_many(t_k0, t_ov, t_vc, t_addr, k0, k1, vout, out) -> int:  # type: ignore[no-untyped-def]
    """Remove entries whose key maps to exactly ``out``; returns how many were removed."""
    removed = 0
    for i in range(k0.shape[0]):
        s = _utxo_find(t_k0, t_ov, t_vc, k0[i], _chk(k1[i]), vout[i])
        if s >= 0 and np.int64(t_ov[s] & _OUT_MASK) == out[i]:
            _utxo_remove_slot(t_k0, t_ov, t_vc, t_addr, s)
            removed += 1
    return removed


@kernel(nogil=True)
def _utxo_rehash(t_k0, t_ov, t_vc, t_addr, k0, ov, vc, addr) -> None:  # type: ignore[no-untyped-def]
    cap = t_ov.shape[0]
    for i in range(k0.shape[0]):
        s = _uhome(k0[i], np.uint32(ov[i] >> np.uint64(OUT_BITS)), cap)
        _utxo_place(t_k0, t_ov, t_vc, t_addr, s, k0[i], ov[i], vc[i], addr[i])


def grow_utxo_table(table: dict[str, np.ndarray], n_used: int, n_more: int) -> dict:
    """The table itself if ``n_used + n_more`` fits under MAX_LOAD, else a rehashed larger one."""
    need = n_used + n_more
    if need <= MAX_LOAD * table["ov"].shape[0]:
        return table
    new = empty_utxo_table(int(need / MAX_LOAD * GROWTH) + 1)
    used = table["ov"] != EMPTY64
    _utxo_rehash(*utxo_cols(new), *(table[c][used] for c in UTXO_COLUMNS))
    return new


def utxo_entries(table: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The used entries unpacked: k0, chk (13 check bits), vout, out, value, addr (-1 none)."""
    used = table["ov"] != EMPTY64
    ov, vc, addr = table["ov"][used], table["vc"][used], table["addr"][used]
    return {
        "k0": table["k0"][used],
        "chk": vc >> np.uint64(VALUE_BITS),
        "vout": (ov >> np.uint64(OUT_BITS)).astype(np.int64),
        "out": (ov & _OUT_MASK).astype(np.int64),
        "value": (vc & _VALUE_MASK).astype(np.int64),
        "addr": np.where(addr == EMPTY32, -1, addr.astype(np.int64)),
    }
