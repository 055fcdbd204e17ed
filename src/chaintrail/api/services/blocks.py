"""Block endpoints: Block, BlockAtDate and Rates (fiat rates at a block's time)."""

from __future__ import annotations

import numpy as np

from chaintrail.api.services.addresses import parse_when


def block(ctx, currency: str, height: int) -> dict:  # noqa: ANN001
    """GET /{currency}/blocks/{height}."""
    view = ctx.chain(currency)
    row = view.block_row(height)
    return {
        "block_hash": view.block_hashes[row].tobytes().hex(),
        "currency": currency,
        "height": height,
        "no_txs": int(view.block_ntx[row]),
        "timestamp": int(view.block_time[row]),
    }


def block_by_date(ctx, currency: str, date: str) -> dict:  # noqa: ANN001
    """GET /{currency}/block_by_date/{date}: last block at/before the date, first block after.

    A bare date means the end of that UTC day."""
    view = ctx.chain(currency)
    when = parse_when(date, "date", end=True)
    times = np.maximum.accumulate(view.block_time) if view.block_time.size else view.block_time
    idx = int(np.searchsorted(times, when, side="right"))
    out: dict = {
        "before_block": None,
        "before_timestamp": None,
        "after_block": None,
        "after_timestamp": None,
    }
    if idx > 0:
        out["before_block"] = int(view.block_height[idx - 1])
        out["before_timestamp"] = int(view.block_time[idx - 1])
    if idx < view.block_height.shape[0]:
        out["after_block"] = int(view.block_height[idx])
        out["after_timestamp"] = int(view.block_time[idx])
    return out


def rates(ctx, currency: str, height: int) -> dict:  # noqa: ANN001
    """GET /{currency}/rates/{height}: USD close of the block's UTC day ([] outside 2013-2025)."""
    view = ctx.chain(currency)
    row = view.block_row(height)
    return {"height": height, "rates": view.rates.rates_at(int(view.block_time[row]))}
