"""In-memory per-address index over ``ChainArrays``: what an address lookup needs, in O(1).

Built once per store with vectorised numpy/numba (no per-row Python) and cached as ``.npy``
files under ``<store>/derived/api/`` stamped with the chain size. Holds, per address id:
totals received/spent, incoming/outgoing tx counts, first/last tx, in/out degree (distinct
addresses it paid / was paid by, GraphSense's address graph), and a CSR list of the txs it
appears in with its signed net value in each (positive = received).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chaintrail.api.services.kernels import address_pair_degrees
from chaintrail.store.arrays import ChainArrays

FORMAT = 1
FIELDS = (
    "received",
    "spent",
    "n_in_tx",
    "n_out_tx",
    "first_tx",
    "last_tx",
    "in_degree",
    "out_degree",
    "recv_usd",
    "spent_usd",
    "csr_start",
    "csr_tx",
    "csr_value",
)


@dataclass
class AddressActivity:
    """Per-address aggregates (arrays indexed by address id) and the address -> txs CSR."""

    received: np.ndarray  # int64 satoshis
    spent: np.ndarray  # int64
    n_in_tx: np.ndarray  # int32 txs paying the address
    n_out_tx: np.ndarray  # int32 txs spending from it
    first_tx: np.ndarray  # int32 tx id, -1 if none
    last_tx: np.ndarray  # int32
    in_degree: np.ndarray  # int32
    out_degree: np.ndarray  # int32
    recv_usd: np.ndarray  # float64, USD at each receipt's day (NaN where no price at all)
    spent_usd: np.ndarray  # float64, USD at each spend's day (NaN where no price at all)
    csr_start: np.ndarray  # int64 (n_addresses + 1)
    csr_tx: np.ndarray  # int32 tx ids, ascending per address
    csr_value: np.ndarray  # int64 signed net value of the address in that tx

    def txs_of(self, addr_id: int) -> tuple[np.ndarray, np.ndarray]:
        """(tx ids, signed net values) of an address, in chain order."""
        lo, hi = int(self.csr_start[addr_id]), int(self.csr_start[addr_id + 1])
        return self.csr_tx[lo:hi], self.csr_value[lo:hi]


def _rows(arrays: ChainArrays) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(addr, tx, signed value) for every output with an address and every resolved input."""
    out_ok = arrays.out_addr >= 0
    in_ok = arrays.in_addr >= 0
    addr = np.concatenate([arrays.out_addr[out_ok], arrays.in_addr[in_ok]]).astype(np.int64)
    tx = np.concatenate([arrays.out_tx[out_ok], arrays.in_tx[in_ok]]).astype(np.int64)
    value = np.concatenate([arrays.out_value[out_ok], -arrays.in_value[in_ok]]).astype(np.int64)
    return addr, tx, value


def _usd_sums(addr: np.ndarray, value: np.ndarray, usd: np.ndarray, n_addr: int) -> np.ndarray:
    """USD per address summed at each row's day; NaN where none of its rows has a price."""
    amount = value / 1e8 * usd
    priced = ~np.isnan(amount)
    sums = np.bincount(addr[priced], weights=amount[priced], minlength=n_addr).astype(np.float64)
    sums[np.bincount(addr[priced], minlength=n_addr) == 0] = np.nan
    return sums


def build_index(arrays: ChainArrays, usd_per_tx: np.ndarray) -> AddressActivity:
    """Compute the index from the chain; ``usd_per_tx`` is each tx's USD rate (NaN if none)."""
    n_addr = arrays.n_addresses
    out_ok = arrays.out_addr >= 0
    in_ok = arrays.in_addr >= 0
    received = np.bincount(
        arrays.out_addr[out_ok], weights=arrays.out_value[out_ok], minlength=n_addr
    )
    spent = np.bincount(arrays.in_addr[in_ok], weights=arrays.in_value[in_ok], minlength=n_addr)
    recv_usd = _usd_sums(
        arrays.out_addr[out_ok], arrays.out_value[out_ok], usd_per_tx[arrays.out_tx[out_ok]], n_addr
    )
    spent_usd = _usd_sums(
        arrays.in_addr[in_ok], arrays.in_value[in_ok], usd_per_tx[arrays.in_tx[in_ok]], n_addr
    )

    addr, tx, value = _rows(arrays)
    key = addr * (arrays.n_txs + 1) + tx
    order = np.argsort(key, kind="stable")
    key, value = key[order], value[order]
    first = np.ones(key.shape[0], dtype=bool)
    first[1:] = key[1:] != key[:-1]
    starts = np.flatnonzero(first)
    net = np.add.reduceat(value, starts) if starts.size else np.zeros(0, np.int64)
    u_addr = (key[starts] // (arrays.n_txs + 1)).astype(np.int64)
    u_tx = (key[starts] % (arrays.n_txs + 1)).astype(np.int32)
    csr_start = np.zeros(n_addr + 1, dtype=np.int64)
    np.cumsum(np.bincount(u_addr, minlength=n_addr), out=csr_start[1:])

    def tx_counts(addr_col: np.ndarray, tx_col: np.ndarray) -> np.ndarray:
        pairs = np.unique(addr_col.astype(np.int64) * (arrays.n_txs + 1) + tx_col)
        return np.bincount(pairs // (arrays.n_txs + 1), minlength=n_addr).astype(np.int32)

    first_tx = np.full(n_addr, -1, dtype=np.int32)
    last_tx = np.full(n_addr, -1, dtype=np.int32)
    has = csr_start[1:] > csr_start[:-1]
    first_tx[has] = u_tx[csr_start[:-1][has]]
    last_tx[has] = u_tx[csr_start[1:][has] - 1]
    in_deg, out_deg = address_pair_degrees(
        arrays.tx_in_start,
        arrays.tx_n_in,
        arrays.tx_out_start,
        arrays.tx_n_out,
        arrays.in_addr,
        arrays.out_addr,
        n_addr,
    )
    return AddressActivity(
        received=received.astype(np.int64),
        spent=spent.astype(np.int64),
        n_in_tx=tx_counts(arrays.out_addr[out_ok], arrays.out_tx[out_ok]),
        n_out_tx=tx_counts(arrays.in_addr[in_ok], arrays.in_tx[in_ok]),
        first_tx=first_tx,
        last_tx=last_tx,
        in_degree=in_deg,
        out_degree=out_deg,
        recv_usd=recv_usd,
        spent_usd=spent_usd,
        csr_start=csr_start,
        csr_tx=u_tx,
        csr_value=net.astype(np.int64),
    )


def load_or_build(cache_dir: Path, stamp: dict, arrays_fn, usd_fn) -> AddressActivity:
    """The cached index if its stamp matches ``stamp``, else a fresh build written atomically."""
    stamp_file = cache_dir / "address_index.json"
    try:
        if json.loads(stamp_file.read_text()) == {**stamp, "format": FORMAT}:
            return AddressActivity(
                **{f: np.load(cache_dir / f"{f}.npy", mmap_mode="r") for f in FIELDS}
            )
    except (OSError, ValueError):
        pass
    arrays = arrays_fn()
    index = build_index(arrays, usd_fn(arrays))
    cache_dir.mkdir(parents=True, exist_ok=True)
    for name in FIELDS:
        fd, tmp = tempfile.mkstemp(dir=cache_dir, suffix=".npy.tmp")
        with os.fdopen(fd, "wb") as fh:
            np.save(fh, getattr(index, name))
        os.replace(tmp, cache_dir / f"{name}.npy")
    fd, tmp = tempfile.mkstemp(dir=cache_dir, suffix=".json.tmp")
    with os.fdopen(fd, "w") as fh:
        json.dump({**stamp, "format": FORMAT}, fh)
    os.replace(tmp, stamp_file)
    return index
