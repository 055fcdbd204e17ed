"""The cluster table: per cluster its size, money in and out, activity span and script mix.

``total_received`` sums every output paying a member address, ``total_sent`` every resolved
input spending from one; ``balance = total_received - total_sent`` (integer satoshis).
``first_seen``/``last_seen`` are block times (unix seconds) of the first and last tx that pays
or spends a member. The script-type mix counts member addresses per shown type.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from chaintrail.chains.model import ScriptType
from chaintrail.errors import NotFoundError
from chaintrail.kernels import kernel
from chaintrail.store.arrays import ChainArrays

MIX_TYPES = (
    ScriptType.P2PKH,
    ScriptType.P2SH,
    ScriptType.P2WPKH,
    ScriptType.P2WSH,
    ScriptType.P2TR,
)
MIX_COLUMNS = tuple(f"n_{t.label}" for t in MIX_TYPES) + ("n_other",)


@kernel()
def _flows(labels, out_addr, out_value, out_tx, in_addr, in_value, in_tx, tx_time, n):
    """Received, sent, first and last seen time per cluster id (indexes ``0..n-1``)."""
    recv = np.zeros(n, np.int64)
    sent = np.zeros(n, np.int64)
    first = np.full(n, np.iinfo(np.int64).max, np.int64)
    last = np.full(n, -1, np.int64)
    for o in range(out_addr.shape[0]):
        a = out_addr[o]
        if a < 0 or a >= labels.shape[0]:
            continue
        c = labels[a]
        recv[c] += out_value[o]
        t = np.int64(tx_time[out_tx[o]])
        first[c] = min(first[c], t)
        last[c] = max(last[c], t)
    for i in range(in_addr.shape[0]):
        a = in_addr[i]
        if a < 0 or a >= labels.shape[0] or in_value[i] < 0:
            continue
        c = labels[a]
        sent[c] += in_value[i]
        t = np.int64(tx_time[in_tx[i]])
        first[c] = min(first[c], t)
        last[c] = max(last[c], t)
    return recv, sent, first, last


def _type_mix(labels: np.ndarray, addr_type: np.ndarray, ids: np.ndarray) -> dict[str, np.ndarray]:
    n = labels.shape[0]
    kinds = np.asarray(addr_type[:n])
    mix: dict[str, np.ndarray] = {}
    covered = np.zeros(n, dtype=bool)
    for t, col in zip(MIX_TYPES, MIX_COLUMNS, strict=False):
        mask = kinds == int(t)
        covered |= mask
        mix[col] = np.bincount(labels[mask], minlength=n)[ids].astype(np.int64)
    mix["n_other"] = np.bincount(labels[~covered], minlength=n)[ids].astype(np.int64)
    return mix


def cluster_table(arrays: ChainArrays, labels: np.ndarray) -> pa.Table:
    """One row per cluster (ordered by cluster id) with size, flows, times and script mix."""
    labels = np.asarray(labels)
    n = labels.shape[0]
    recv, sent, first, last = _flows(
        labels,
        np.asarray(arrays.out_addr),
        np.asarray(arrays.out_value),
        np.asarray(arrays.out_tx),
        np.asarray(arrays.in_addr),
        np.asarray(arrays.in_value),
        np.asarray(arrays.in_tx),
        np.asarray(arrays.tx_time),
        n,
    )
    ids = np.flatnonzero(labels == np.arange(n))
    size = np.bincount(labels, minlength=n)[ids]
    seen = last[ids] >= 0
    cols: dict[str, pa.Array | np.ndarray] = {
        "cluster_id": ids.astype(np.int64),
        "size": size.astype(np.int64),
        "total_received": recv[ids],
        "total_sent": sent[ids],
        "balance": recv[ids] - sent[ids],
        "first_seen": pa.array(np.where(seen, first[ids], 0), mask=~seen),
        "last_seen": pa.array(np.where(seen, last[ids], 0), mask=~seen),
    }
    cols.update(_type_mix(labels, np.asarray(arrays.addr_type), ids))
    return pa.table(cols)


def cluster_row(table: pa.Table, cluster_id: int) -> dict[str, int | None]:
    """The table row of one cluster as a dict; NotFoundError if no cluster has that id."""
    ids = table.column("cluster_id").to_numpy()
    pos = int(np.searchsorted(ids, cluster_id))
    if pos >= ids.shape[0] or ids[pos] != cluster_id:
        raise NotFoundError(
            f"cluster {cluster_id}: no such cluster (a cluster id is the smallest address id "
            "of its cluster; see 'chaintrail address ADDR --json')"
        )
    return {name: table.column(name)[pos].as_py() for name in table.column_names}


def members(labels: np.ndarray, cluster_id: int, limit: int | None = None) -> np.ndarray:
    """Address ids in a cluster, ascending (the first ``limit`` if given)."""
    found = np.flatnonzero(np.asarray(labels) == cluster_id)
    return found if limit is None else found[:limit]
