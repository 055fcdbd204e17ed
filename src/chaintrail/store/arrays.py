"""ChainArrays: the whole chain as dense numpy id arrays, what analysis kernels scan.

Produced by :meth:`chaintrail.store.ChainStore.arrays` (memory-mapped where possible).
Ids are dense and in chain order: ``tx_id`` 0..n_txs-1, ``in_id`` 0..n_inputs-1,
``out_id`` 0..n_outputs-1, ``address_id`` 0..n_addresses-1. ``-1`` means "none"
(no address, unresolved input, unspent output).

Transactions' inputs are the contiguous id range ``tx_in_start[t] : tx_in_start[t]+tx_n_in[t]``
(same for outputs), so a tx -> inputs/outputs walk needs no join, and
``in_tx``/``out_tx`` give the reverse direction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class ChainArrays:
    """Every column analysis needs, as numpy arrays indexed by dense id."""

    # transactions
    tx_height: np.ndarray  # int32
    tx_time: np.ndarray  # uint32 block time, unix seconds
    tx_in_start: np.ndarray  # int64
    tx_n_in: np.ndarray  # int32 (a coinbase tx has 0 stored inputs)
    tx_out_start: np.ndarray  # int64
    tx_n_out: np.ndarray  # int32
    tx_coinbase: np.ndarray  # bool
    tx_version: np.ndarray  # int32
    tx_locktime: np.ndarray  # uint32
    tx_fee: np.ndarray  # int64, -1 when unknown
    # inputs
    in_tx: np.ndarray  # int32 tx id
    in_prev_out: np.ndarray  # int64 out id spent, -1 if unresolved
    in_value: np.ndarray  # int64, -1 if unresolved
    in_addr: np.ndarray  # int32 address id, -1 if none/unresolved
    in_sequence: np.ndarray  # uint32
    in_witness: np.ndarray  # bool
    # outputs
    out_tx: np.ndarray  # int32 tx id
    out_value: np.ndarray  # int64
    out_addr: np.ndarray  # int32 address id, -1 if none
    out_type: np.ndarray  # uint8 ScriptType
    out_spent_by: np.ndarray  # int64 in id, -1 if unspent
    # addresses
    addr_type: np.ndarray  # uint8 ScriptType the address is shown as

    @property
    def n_txs(self) -> int:
        """Number of transactions."""
        return int(self.tx_height.shape[0])

    @property
    def n_inputs(self) -> int:
        """Number of stored inputs (coinbase inputs are not stored)."""
        return int(self.in_tx.shape[0])

    @property
    def n_outputs(self) -> int:
        """Number of outputs."""
        return int(self.out_tx.shape[0])

    @property
    def n_addresses(self) -> int:
        """Number of distinct addresses."""
        return int(self.addr_type.shape[0])
