"""Build small ChainArrays by hand for kernel tests: txs spend earlier txs' outputs."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from chaintrail.chains.model import ScriptType
from chaintrail.store.arrays import ChainArrays


@dataclass
class Tx:
    """One transaction: inputs spend ``(tx index, vout)``; outputs are ``(address, value)``
    with address -1 for no address (an OP_RETURN when ``value`` is 0)."""

    ins: list[tuple[int, int]] = field(default_factory=list)
    outs: list[tuple[int, int]] = field(default_factory=list)
    version: int = 2
    locktime: int = 0
    sequence: int = 0xFFFFFFFF
    witness: bool = True


def coinbase(addr: int, value: int = 50_0000_0000) -> Tx:
    """A coinbase paying ``addr``."""
    return Tx(ins=[], outs=[(addr, value)])


def build(txs: list[Tx], addr_types: dict[int, ScriptType] | None = None) -> ChainArrays:
    """ChainArrays for ``txs`` in order; addresses default to P2WPKH."""
    addr_types = addr_types or {}
    out_rows: list[tuple[int, int, int]] = []  # (tx, addr, value)
    in_rows: list[tuple[int, int]] = []  # (tx, prev out id)
    tx_in_start, tx_n_in, tx_out_start, tx_n_out = [], [], [], []
    out_index: dict[tuple[int, int], int] = {}
    for t, tx in enumerate(txs):
        tx_in_start.append(len(in_rows))
        tx_n_in.append(len(tx.ins))
        for prev in tx.ins:
            in_rows.append((t, out_index[prev]))
        tx_out_start.append(len(out_rows))
        tx_n_out.append(len(tx.outs))
        for v, (addr, value) in enumerate(tx.outs):
            out_index[(t, v)] = len(out_rows)
            out_rows.append((t, addr, value))
    n_addr = 1 + max([a for _, a, _ in out_rows] + [-1])
    out_addr = np.array([a for _, a, _ in out_rows], np.int32)
    out_value = np.array([v for _, _, v in out_rows], np.int64)
    out_type = np.array(
        [
            int(addr_types.get(a, ScriptType.P2WPKH)) if a >= 0 else int(ScriptType.NULLDATA)
            for _, a, _ in out_rows
        ],
        np.uint8,
    )
    in_prev = np.array([p for _, p in in_rows], np.int64)
    spent_by = np.full(len(out_rows), -1, np.int64)
    spent_by[in_prev] = np.arange(len(in_rows))
    in_tx = np.array([t for t, _ in in_rows], np.int32)
    return ChainArrays(
        tx_height=np.arange(len(txs), dtype=np.int32),
        tx_time=np.arange(len(txs), dtype=np.uint32) * 600 + 1_500_000_000,
        tx_in_start=np.array(tx_in_start, np.int64),
        tx_n_in=np.array(tx_n_in, np.int32),
        tx_out_start=np.array(tx_out_start, np.int64),
        tx_n_out=np.array(tx_n_out, np.int32),
        tx_coinbase=np.array([not tx.ins for tx in txs], bool),
        tx_version=np.array([tx.version for tx in txs], np.int32),
        tx_locktime=np.array([tx.locktime for tx in txs], np.uint32),
        tx_fee=np.full(len(txs), -1, np.int64),
        in_tx=in_tx,
        in_prev_out=in_prev,
        in_value=out_value[in_prev] if len(in_rows) else np.zeros(0, np.int64),
        in_addr=out_addr[in_prev] if len(in_rows) else np.zeros(0, np.int32),
        in_sequence=np.array([txs[t].sequence for t, _ in in_rows], np.uint32),
        in_witness=np.array([txs[t].witness for t, _ in in_rows], bool),
        out_tx=np.array([t for t, _, _ in out_rows], np.int32),
        out_value=out_value,
        out_addr=out_addr,
        out_type=out_type,
        out_spent_by=spent_by,
        addr_type=np.array(
            [int(addr_types.get(a, ScriptType.P2WPKH)) for a in range(n_addr)], np.uint8
        ),
    )


def prefix(arrays: ChainArrays, n_txs: int) -> ChainArrays:
    """The chain as it was after its first ``n_txs`` txs (later spends undone)."""
    n_in = int(arrays.tx_in_start[n_txs]) if n_txs < arrays.n_txs else arrays.n_inputs
    n_out = int(arrays.tx_out_start[n_txs]) if n_txs < arrays.n_txs else arrays.n_outputs
    out_addr = arrays.out_addr[:n_out]
    n_addr = int(out_addr.max()) + 1 if n_out else 0
    spent_by = arrays.out_spent_by[:n_out].copy()
    spent_by[spent_by >= n_in] = -1
    return ChainArrays(
        **{
            name: getattr(arrays, name)[:n_txs]
            for name in (
                "tx_height tx_time tx_in_start tx_n_in tx_out_start tx_n_out tx_coinbase "
                "tx_version tx_locktime tx_fee"
            ).split()
        },
        **{
            name: getattr(arrays, name)[:n_in]
            for name in "in_tx in_prev_out in_value in_addr in_sequence in_witness".split()
        },
        out_tx=arrays.out_tx[:n_out],
        out_value=arrays.out_value[:n_out],
        out_addr=out_addr,
        out_type=arrays.out_type[:n_out],
        out_spent_by=spent_by,
        addr_type=arrays.addr_type[:n_addr],
    )


def random_chain(seed: int, n_txs: int = 400, n_addr: int = 300) -> ChainArrays:
    """A random but valid chain: coinbases then txs spending random unspent outputs."""
    rng = np.random.default_rng(seed)
    txs: list[Tx] = []
    unspent: list[tuple[int, int]] = []
    for t in range(n_txs):
        if t < 20 or rng.random() < 0.1 or len(unspent) < 4:
            txs.append(coinbase(int(rng.integers(n_addr))))
            unspent.append((t, 0))
            continue
        k = int(rng.integers(1, 4))
        picks = sorted(rng.choice(len(unspent), size=k, replace=False), reverse=True)
        ins = [unspent.pop(int(i)) for i in picks]
        n_out = int(rng.integers(1, 4))
        outs = [(int(rng.integers(n_addr)), int(rng.integers(1_000, 10**8))) for _ in range(n_out)]
        txs.append(Tx(ins=ins, outs=outs))
        unspent.extend((t, v) for v in range(n_out))
    return build(txs)
