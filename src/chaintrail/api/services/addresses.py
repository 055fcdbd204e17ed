"""Address endpoints: the Address object, its txs, neighbors and links (GraphSense shapes).

Edge values of neighbors/links are estimates (see ``kernels``): an output's value split over
the spending addresses in proportion to what they put in. Fiat values of sums are summed at
each transaction's day; a balance is priced at the chain tip's day.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np

from chaintrail.api.paging import decode_token, encode_token, page_window, scope_of
from chaintrail.api.params import PageArgs, RangeArgs
from chaintrail.api.services.chainview import ChainView
from chaintrail.api.services.kernels import neighbor_flows
from chaintrail.api.services.tags import labels_of_addresses
from chaintrail.budget import Meter
from chaintrail.errors import ValidationError


def usd_list(usd: float) -> list[dict]:
    """``fiat_values`` for a USD amount (``[]`` when there was no price)."""
    return [] if math.isnan(usd) else [{"code": "usd", "value": round(float(usd), 2)}]


def address_obj(view: ChainView, aid: int, text: str | None = None) -> dict:
    """The GraphSense Address object of an address id (all ints, no DuckDB)."""
    ix = view.index
    received, spent = int(ix.received[aid]), int(ix.spent[aid])
    cid = view.cluster_of(aid)
    return {
        "currency": view.currency,
        "address": text if text is not None else view.address_str(aid),
        "entity": cid,
        "cluster": cid,
        "balance": view.value(received - spent),
        "total_received": {"value": received, "fiat_values": usd_list(ix.recv_usd[aid])},
        "total_spent": {"value": spent, "fiat_values": usd_list(ix.spent_usd[aid])},
        "first_tx": view.tx_stamp(int(ix.first_tx[aid])),
        "last_tx": view.tx_stamp(int(ix.last_tx[aid])),
        "in_degree": int(ix.in_degree[aid]),
        "out_degree": int(ix.out_degree[aid]),
        "no_incoming_txs": int(ix.n_in_tx[aid]),
        "no_outgoing_txs": int(ix.n_out_tx[aid]),
    }


def address(ctx, currency: str, text: str) -> dict:  # noqa: ANN001
    """GET /{currency}/addresses/{address}."""
    view = ctx.chain(currency)
    return address_obj(view, view.address_id(text), text)


def parse_when(text: str | None, field: str, end: bool) -> int | None:
    """Unix seconds of an ISO date/datetime (a bare date's end is its last second)."""
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValidationError(
            f"{text[:40]!r}: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ", field=field
        ) from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    bare_date = len(text) == 10
    return int(when.timestamp()) + (86_399 if end and bare_date else 0)


def tx_filter(view: ChainView, tids: np.ndarray, rng: RangeArgs) -> np.ndarray:
    """Mask of txs inside the height/date window."""
    a = view.arrays
    keep = np.ones(tids.shape[0], dtype=bool)
    heights, times = a.tx_height[tids], a.tx_time[tids]
    if rng.min_height is not None:
        keep &= heights >= rng.min_height
    if rng.max_height is not None:
        keep &= heights <= rng.max_height
    lo = parse_when(rng.min_date, "min_date", end=False)
    hi = parse_when(rng.max_date, "max_date", end=True)
    if lo is not None:
        keep &= times >= lo
    if hi is not None:
        keep &= times <= hi
    return keep


def tx_rows(
    view: ChainView,
    tids: np.ndarray,
    values: np.ndarray,
    rng: RangeArgs,
    direction: str | None,
    *scope_key: object,
) -> dict:
    """A page of AddressTxs over (tx id, signed value) rows: kept to ``direction`` (``in``:
    value > 0, ``out``: < 0), filtered by ``rng`` and ordered; page tokens are bound to
    ``scope_key`` and every query parameter."""
    if direction is not None:
        keep = values > 0 if direction == "in" else values < 0
        tids, values = tids[keep], values[keep]
    scope = scope_of(
        *scope_key, direction, rng.min_height, rng.max_height, rng.min_date, rng.max_date, rng.order
    )
    keep = tx_filter(view, tids, rng)
    tids, values = tids[keep], values[keep]
    if rng.order == "desc":
        tids, values = tids[::-1], values[::-1]
    start, stop, nxt = page_window(
        tids.shape[0], decode_token(rng.page, scope), rng.pagesize, scope
    )
    a = view.arrays
    rows = [
        {
            "tx_type": "utxo",
            "tx_hash": view.tx_hash(t),
            "currency": view.currency,
            "coinbase": bool(a.tx_coinbase[t]),
            "height": int(a.tx_height[t]),
            "timestamp": int(a.tx_time[t]),
            "value": view.value(v, int(a.tx_time[t])),
        }
        for t, v in zip(tids[start:stop].tolist(), values[start:stop].tolist(), strict=True)
    ]
    return {"address_txs": rows, "next_page": nxt}


def address_txs(ctx, currency: str, text: str, direction: str | None, rng: RangeArgs) -> dict:  # noqa: ANN001
    """GET /{currency}/addresses/{address}/txs (value < 0: the address spent)."""
    view = ctx.chain(currency)
    aid = view.address_id(text)
    tids, values = view.index.txs_of(aid)
    return tx_rows(
        view, np.asarray(tids), np.asarray(values), rng, direction, "address_txs", currency, aid
    )


def flows(
    view: ChainView, aid: int, outgoing: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Aggregated neighbors of an address: (ids, value, no_txs, usd) sorted by value desc."""
    a = view.arrays
    tids, _ = view.index.txs_of(aid)
    nb, tx_col, val = neighbor_flows(
        aid,
        np.asarray(tids, np.int64),
        outgoing,
        a.tx_in_start,
        a.tx_n_in,
        a.tx_out_start,
        a.tx_n_out,
        a.in_addr,
        a.in_value,
        a.out_addr,
        a.out_value,
    )
    ids, inverse = np.unique(nb, return_inverse=True)
    value = np.bincount(inverse, weights=val, minlength=ids.shape[0]).astype(np.int64)
    count = np.bincount(inverse, minlength=ids.shape[0]).astype(np.int64)
    usd_rows = val / 1e8 * view.tx_usd[tx_col]
    priced = ~np.isnan(usd_rows)
    usd = np.bincount(inverse[priced], weights=usd_rows[priced], minlength=ids.shape[0]).astype(
        float
    )
    usd[np.bincount(inverse[priced], minlength=ids.shape[0]) == 0] = np.nan
    order = np.lexsort((ids, -value))
    return ids[order], value[order], count[order], usd[order]


def neighbors(
    ctx, currency: str, text: str, direction: str, include_labels: bool, pg: PageArgs,  # noqa: ANN001
    meter: Meter,
) -> dict:  # fmt: skip
    """GET /{currency}/addresses/{address}/neighbors (a page cut short by the work budget
    ends early; its ``next_page`` continues where it stopped)."""
    view = ctx.chain(currency)
    aid = view.address_id(text)
    ids, value, count, usd = flows(view, aid, outgoing=direction == "out")
    scope = scope_of("address_neighbors", currency, aid, direction)
    start, stop, nxt = page_window(ids.shape[0], decode_token(pg.page, scope), pg.pagesize, scope)
    page_ids = ids[start:stop]
    texts = view.address_strs(page_ids)
    labels = labels_of_addresses(ctx, currency, texts) if include_labels else {}
    out = []
    for i, (nid, addr_text) in enumerate(zip(page_ids.tolist(), texts, strict=True)):
        if not meter.ok(i):
            nxt = encode_token(scope, start + i)
            break
        row = {
            "value": {"value": int(value[start + i]), "fiat_values": usd_list(usd[start + i])},
            "no_txs": int(count[start + i]),
            "address": address_obj(view, nid, addr_text),
        }
        if include_labels:
            row["labels"] = labels.get(addr_text, [])
        out.append(row)
    return {"neighbors": out, "next_page": nxt}


def link_rows(
    view: ChainView, src: np.ndarray, dst: np.ndarray, rng: RangeArgs, scope: str
) -> dict:
    """Links: txs where an address of ``src`` spends and an address of ``dst`` receives."""
    a = view.arrays
    cand = np.intersect1d(
        np.concatenate([view.index.txs_of(int(s))[0] for s in src])
        if src.size
        else np.zeros(0, np.int64),
        np.concatenate([view.index.txs_of(int(d))[0] for d in dst])
        if dst.size
        else np.zeros(0, np.int64),
    )
    cand = cand[tx_filter(view, cand, rng)]
    rows = []
    for t in cand.tolist():
        ins = slice(int(a.tx_in_start[t]), int(a.tx_in_start[t] + a.tx_n_in[t]))
        outs = slice(int(a.tx_out_start[t]), int(a.tx_out_start[t] + a.tx_n_out[t]))
        in_value = int(a.in_value[ins][np.isin(a.in_addr[ins], src)].sum())
        out_value = int(a.out_value[outs][np.isin(a.out_addr[outs], dst)].sum())
        if in_value > 0 and out_value > 0:
            rows.append((t, in_value, out_value))
    if rng.order == "desc":
        rows.reverse()
    start, stop, nxt = page_window(len(rows), decode_token(rng.page, scope), rng.pagesize, scope)
    links = []
    for t, in_value, out_value in rows[start:stop]:
        when = int(a.tx_time[t])
        links.append(
            {
                "tx_type": "utxo",
                "tx_hash": view.tx_hash(t),
                "currency": view.currency,
                "height": int(a.tx_height[t]),
                "timestamp": when,
                "input_value": view.value(in_value, when),
                "output_value": view.value(out_value, when),
            }
        )
    return {"links": links, "next_page": nxt}


def links(ctx, currency: str, text: str, neighbor: str, rng: RangeArgs) -> dict:  # noqa: ANN001
    """GET /{currency}/addresses/{address}/links?neighbor=..."""
    view = ctx.chain(currency)
    aid, nid = view.address_id(text), view.address_id(neighbor)
    scope = scope_of(
        "address_links",
        currency,
        aid,
        nid,
        rng.min_height,
        rng.max_height,
        rng.min_date,
        rng.max_date,
        rng.order,
    )
    return link_rows(view, np.array([aid]), np.array([nid]), rng, scope)
