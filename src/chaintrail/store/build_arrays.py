"""Build :class:`ChainArrays` from a manifest's Parquet segments (cached per generation)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from chaintrail.store.arrays import ChainArrays
from chaintrail.store.cache import cached_arrays, numpy_column
from chaintrail.store.layout import Manifest

_COLUMNS = {
    # name: (table, column, dtype, null fill)
    "tx_height": ("txs", "height", "i4", -1),
    "tx_in_start": ("txs", "first_in_id", "i8", None),
    "tx_n_in": ("txs", "n_in", "i4", None),
    "tx_out_start": ("txs", "first_out_id", "i8", None),
    "tx_n_out": ("txs", "n_out", "i4", None),
    "tx_coinbase": ("txs", "coinbase", "?", None),
    "tx_version": ("txs", "version", "i4", None),
    "tx_locktime": ("txs", "locktime", "u4", None),
    "tx_fee": ("txs", "fee", "i8", -1),
    "in_tx": ("inputs", "tx_id", "i4", None),
    "in_prev_out": ("inputs", "prev_out_id", "i8", -1),
    "in_value": ("inputs", "value", "i8", -1),
    "in_addr": ("inputs", "address_id", "i4", -1),
    "in_sequence": ("inputs", "sequence", "u4", None),
    "in_witness": ("inputs", "witness", "?", None),
    "out_tx": ("outputs", "tx_id", "i4", None),
    "out_value": ("outputs", "value", "i8", None),
    "out_addr": ("outputs", "address_id", "i4", -1),
    "out_type": ("outputs", "script_type", "u1", None),
    "addr_type": ("addresses", "script_type", "u1", None),
}


def _build(root: Path, m: Manifest) -> dict[str, np.ndarray]:
    cols = {
        name: numpy_column(root, m, table, column, dtype, fill)
        for name, (table, column, dtype, fill) in _COLUMNS.items()
    }
    block_time = numpy_column(root, m, "blocks", "time", "u4")
    block_ntx = numpy_column(root, m, "blocks", "tx_count", "i8")
    cols["tx_time"] = np.repeat(block_time, block_ntx)
    spent_by = np.full(cols["out_tx"].shape[0], -1, np.int64)
    resolved = np.flatnonzero(cols["in_prev_out"] >= 0)
    spent_by[cols["in_prev_out"][resolved]] = resolved
    cols["out_spent_by"] = spent_by
    return cols


def load_chain_arrays(root: Path, m: Manifest) -> ChainArrays:
    """The chain of manifest ``m`` as memory-mapped numpy arrays (built on first use)."""
    arrays = cached_arrays(root, m, "arrays", lambda: _build(root, m))
    return ChainArrays(**{k: arrays[k] for k in ChainArrays.__dataclass_fields__})
