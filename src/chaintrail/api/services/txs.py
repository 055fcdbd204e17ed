"""Transaction endpoints: TxUtxo, inputs/outputs (TxValue), spending and spent_in (TxRef).

Coinbase inputs are not stored (GraphSense shows them as an empty list too). Outputs without
an address (OP_RETURN, bare multisig, non-standard) appear only with
``include_nonstandard_io``, with an empty address list.
"""

from __future__ import annotations

import numpy as np

from chaintrail.api.services.chainview import ChainView


def _io(view: ChainView, tid: int, io: str, nonstandard: bool, with_index: bool) -> list[dict]:
    a = view.arrays
    when = int(a.tx_time[tid])
    if io == "inputs":
        lo, n = int(a.tx_in_start[tid]), int(a.tx_n_in[tid])
        addrs, values = a.in_addr[lo : lo + n], a.in_value[lo : lo + n]
    else:
        lo, n = int(a.tx_out_start[tid]), int(a.tx_n_out[tid])
        addrs, values = a.out_addr[lo : lo + n], a.out_value[lo : lo + n]
    texts = view.address_strs(np.maximum(addrs, 0))
    rows = []
    for i, (aid, value) in enumerate(zip(addrs.tolist(), values.tolist(), strict=True)):
        if aid < 0 and not nonstandard:
            continue
        row = {"address": [texts[i]] if aid >= 0 else [], "value": view.value(max(value, 0), when)}
        if with_index:
            row["index"] = i
        rows.append(row)
    return rows


def tx_obj(
    view: ChainView, tid: int, include_io: bool, nonstandard: bool, with_index: bool
) -> dict:
    """The GraphSense TxUtxo object of a tx id."""
    a = view.arrays
    when = int(a.tx_time[tid])
    lo_i, n_i = int(a.tx_in_start[tid]), int(a.tx_n_in[tid])
    lo_o, n_o = int(a.tx_out_start[tid]), int(a.tx_n_out[tid])
    total_in = int(np.maximum(a.in_value[lo_i : lo_i + n_i], 0).sum())
    total_out = int(a.out_value[lo_o : lo_o + n_o].sum())
    out = {
        "tx_type": "utxo",
        "currency": view.currency,
        "tx_hash": view.tx_hash(tid),
        "coinbase": bool(a.tx_coinbase[tid]),
        "height": int(a.tx_height[tid]),
        "no_inputs": n_i,
        "no_outputs": n_o,
        "timestamp": when,
        "total_input": view.value(total_in, when),
        "total_output": view.value(total_out, when),
    }
    if include_io:
        out["inputs"] = _io(view, tid, "inputs", nonstandard, with_index)
        out["outputs"] = _io(view, tid, "outputs", nonstandard, with_index)
    return out


def tx(
    ctx, currency: str, tx_hash: str, include_io: bool, nonstandard: bool, with_index: bool
) -> dict:  # noqa: ANN001
    """GET /{currency}/txs/{tx_hash}."""
    view = ctx.chain(currency)
    return tx_obj(view, view.tx_id(tx_hash), include_io, nonstandard, with_index)


def tx_io(ctx, currency: str, tx_hash: str, io: str, nonstandard: bool, with_index: bool) -> list:  # noqa: ANN001
    """GET /{currency}/txs/{tx_hash}/{inputs|outputs}."""
    view = ctx.chain(currency)
    return _io(view, view.tx_id(tx_hash), io, nonstandard, with_index)


def spending(ctx, currency: str, tx_hash: str, io_index: int | None) -> list:  # noqa: ANN001
    """GET .../spending: for each input (or only ``io_index``), the tx and output it spends."""
    view = ctx.chain(currency)
    tid = view.tx_id(tx_hash)
    a = view.arrays
    lo, n = int(a.tx_in_start[tid]), int(a.tx_n_in[tid])
    refs = []
    for i in range(n) if io_index is None else [io_index] if io_index < n else []:
        prev = int(a.in_prev_out[lo + i])
        if prev < 0:
            continue
        ptx = int(a.out_tx[prev])
        refs.append(
            {
                "input_index": i,
                "output_index": prev - int(a.tx_out_start[ptx]),
                "tx_hash": view.tx_hash(ptx),
            }
        )
    return refs


def spent_in(ctx, currency: str, tx_hash: str, io_index: int | None) -> list:  # noqa: ANN001
    """GET .../spent_in: for each spent output (or only ``io_index``), the spending tx and input."""
    view = ctx.chain(currency)
    tid = view.tx_id(tx_hash)
    a = view.arrays
    lo, n = int(a.tx_out_start[tid]), int(a.tx_n_out[tid])
    refs = []
    for k in range(n) if io_index is None else [io_index] if io_index < n else []:
        inp = int(a.out_spent_by[lo + k])
        if inp < 0:
            continue
        stx = int(a.in_tx[inp])
        refs.append(
            {
                "input_index": inp - int(a.tx_in_start[stx]),
                "output_index": k,
                "tx_hash": view.tx_hash(stx),
            }
        )
    return refs
