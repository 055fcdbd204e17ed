"""Cluster endpoints: the Cluster object, its addresses, neighbors, links, txs and search.

A cluster's id is the smallest address id in it (see ``analysis.clustering``); an address the
clustering has not seen is its own singleton cluster. Cluster edges aggregate the address
edges of all members, dropping edges inside the cluster.
"""

from __future__ import annotations

import numpy as np

from chaintrail.api.paging import decode_token, encode_token, page_window, scope_of
from chaintrail.api.params import PageArgs, RangeArgs
from chaintrail.api.services.addresses import address_obj, flows, link_rows, tx_rows, usd_list
from chaintrail.api.services.chainview import ChainView
from chaintrail.api.services.tags import address_tag_rows, labels_of_addresses
from chaintrail.budget import Meter
from chaintrail.errors import BudgetError, UsageError

MAX_MEMBERS_SCANNED = 20_000  # cluster-level scans over more members are refused, not slow


def _cluster_txs(view: ChainView, members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Net value of the cluster per tx (ascending tx id)."""
    parts = [view.index.txs_of(int(m)) for m in members]
    tids = np.concatenate([p[0] for p in parts]).astype(np.int64)
    vals = np.concatenate([p[1] for p in parts]).astype(np.int64)
    uniq, inverse = np.unique(tids, return_inverse=True)
    return uniq, np.bincount(inverse, weights=vals, minlength=uniq.shape[0]).astype(np.int64)


def cluster_obj(ctx, view: ChainView, cid: int) -> dict:  # noqa: ANN001
    """The GraphSense Cluster object of a cluster id."""
    members = view.members(cid)
    _, sums = view.clusters()
    ix = view.index
    received, spent = int(sums["received"][cid]), int(sums["spent"][cid])
    firsts = ix.first_tx[members]
    firsts = firsts[firsts >= 0]
    lasts = ix.last_tx[members]
    sample = members[:MAX_MEMBERS_SCANNED]
    tids, vals = _cluster_txs(view, sample)
    nbrs_in = np.unique(
        np.concatenate(
            [flows(view, int(m), False)[0] for m in sample[:200]] or [np.zeros(0, np.int64)]
        )
    )
    nbrs_out = np.unique(
        np.concatenate(
            [flows(view, int(m), True)[0] for m in sample[:200]] or [np.zeros(0, np.int64)]
        )
    )
    labels = view.clusters()[0]
    n_tags = len(address_tag_rows(ctx, view.currency, view.address_strs(sample)))
    return {
        "currency": view.currency,
        "entity": cid,
        "cluster": cid,
        "root_address": view.address_str(cid),
        "balance": view.value(received - spent),
        "total_received": {"value": received, "fiat_values": _usd_total(ix.recv_usd[members])},
        "total_spent": {"value": spent, "fiat_values": _usd_total(ix.spent_usd[members])},
        "first_tx": view.tx_stamp(int(firsts.min()) if firsts.size else -1) or _none_stamp(),
        "last_tx": view.tx_stamp(int(lasts.max()) if lasts.size else -1) or _none_stamp(),
        "in_degree": int(np.unique(labels[nbrs_in][labels[nbrs_in] != cid]).shape[0]),
        "out_degree": int(np.unique(labels[nbrs_out][labels[nbrs_out] != cid]).shape[0]),
        "no_addresses": int(members.shape[0]),
        "no_incoming_txs": int((vals > 0).sum()) if tids.size else 0,
        "no_outgoing_txs": int((vals < 0).sum()) if tids.size else 0,
        "no_address_tags": n_tags,
    }


def _usd_total(usd: np.ndarray) -> list[dict]:
    """fiat_values of summed per-address USD (NaN = no price for any of them)."""
    return usd_list(float("nan") if np.isnan(usd).all() else float(np.nansum(usd)))


def _none_stamp() -> dict:
    return {"height": 0, "timestamp": 0, "tx_hash": ""}


def cluster(ctx, currency: str, cid: int) -> dict:  # noqa: ANN001
    """GET /{currency}/clusters/{cluster}."""
    return cluster_obj(ctx, ctx.chain(currency), cid)


def address_cluster(ctx, currency: str, text: str) -> dict:  # noqa: ANN001
    """GET /{currency}/addresses/{address}/cluster: the cluster object of an address."""
    view = ctx.chain(currency)
    return cluster_obj(ctx, view, view.cluster_of(view.address_id(text)))


def cluster_addresses(ctx, currency: str, cid: int, pg: PageArgs) -> dict:  # noqa: ANN001
    """GET /{currency}/clusters/{cluster}/addresses."""
    view = ctx.chain(currency)
    members = view.members(cid)
    scope = scope_of("cluster_addresses", cid)
    start, stop, nxt = page_window(
        members.shape[0], decode_token(pg.page, scope), pg.pagesize, scope
    )
    page = members[start:stop]
    texts = view.address_strs(page)
    return {
        "addresses": [
            address_obj(view, int(a), t) for a, t in zip(page.tolist(), texts, strict=True)
        ],
        "next_page": nxt,
    }


def _big(view: ChainView, cid: int) -> np.ndarray:
    members = view.members(cid)
    if members.shape[0] > MAX_MEMBERS_SCANNED:
        raise UsageError(
            f"cluster {cid} has {members.shape[0]} addresses; edge listings scan at most "
            f"{MAX_MEMBERS_SCANNED} (use /v1 exposure for big clusters)"
        )
    return members


def cluster_neighbors(
    ctx, currency: str, cid: int, direction: str, include_labels: bool, pg: PageArgs,  # noqa: ANN001
    meter: Meter,
) -> dict:  # fmt: skip
    """GET /{currency}/clusters/{cluster}/neighbors (deprecated upstream).

    The sums over the members must be whole (BudgetError if the budget runs out while adding
    them up); the page of neighbor clusters may end early, its ``next_page`` continuing there.
    """
    view = ctx.chain(currency)
    labels = view.clusters()[0]
    value: dict[int, int] = {}
    count: dict[int, int] = {}
    for k, m in enumerate(_big(view, cid).tolist()):
        if k % 64 == 0 and not meter.ok():
            raise BudgetError(
                f"cluster {cid}: adding up the neighbors of its {view.members(cid).shape[0]:,} "
                f"addresses did not fit the work budget ({meter.budget.describe()}); "
                "use /v1/.../exposure or a key with a larger budget"
            )
        ids, val, cnt, _ = flows(view, m, outgoing=direction == "out")
        for n, v, c in zip(labels[ids].tolist(), val.tolist(), cnt.tolist(), strict=True):
            if n != cid:
                value[n] = value.get(n, 0) + v
                count[n] = count.get(n, 0) + c
    order = sorted(value, key=lambda n: (-value[n], n))
    scope = scope_of("cluster_neighbors", cid, direction)
    start, stop, nxt = page_window(len(order), decode_token(pg.page, scope), pg.pagesize, scope)
    out = []
    for i, n in enumerate(order[start:stop]):
        if not meter.ok(i):
            nxt = encode_token(scope, start + i)
            break
        obj = cluster_obj(ctx, view, n)
        row = {"value": view.value(value[n]), "no_txs": count[n], "cluster": obj, "entity": obj}
        if include_labels:
            found = labels_of_addresses(ctx, currency, view.address_strs(view.members(n)[:1000]))
            row["labels"] = sorted({lab for labs in found.values() for lab in labs})
        out.append(row)
    return {"neighbors": out, "next_page": nxt}


def cluster_links(ctx, currency: str, cid: int, neighbor: int, rng: RangeArgs) -> dict:  # noqa: ANN001
    """GET /{currency}/clusters/{cluster}/links?neighbor=... (deprecated upstream)."""
    view = ctx.chain(currency)
    src, dst = _big(view, cid), _big(view, neighbor)
    scope = scope_of(
        "cluster_links",
        cid,
        neighbor,
        rng.min_height,
        rng.max_height,
        rng.min_date,
        rng.max_date,
        rng.order,
    )
    return link_rows(view, src, dst, rng, scope)


def cluster_txs(ctx, currency: str, cid: int, direction: str | None, rng: RangeArgs) -> dict:  # noqa: ANN001
    """GET /{currency}/clusters/{cluster}/txs (deprecated upstream)."""
    view = ctx.chain(currency)
    tids, vals = _cluster_txs(view, _big(view, cid))
    return tx_rows(view, tids, vals, rng, direction, "cluster_txs", cid)


def _neighbor_rows(
    ctx, view: ChainView, cid: int, direction: str, breadth: int, meter: Meter  # noqa: ANN001
) -> list[dict]:
    page = cluster_neighbors(
        ctx, view.currency, cid, direction, False, PageArgs(None, breadth), meter
    )
    return page["neighbors"]


def _matches(ctx, view: ChainView, cid: int, key: str, wanted: set[str]) -> list[dict]:  # noqa: ANN001
    """Addresses of cluster ``cid`` that match the search (by tag category or by address)."""
    members = view.members(cid)[:MAX_MEMBERS_SCANNED]
    texts = view.address_strs(members)
    if key == "addresses":
        hit = [(int(a), t) for a, t in zip(members.tolist(), texts, strict=True) if t in wanted]
    else:
        tagged = {
            r["subject"]
            for r in address_tag_rows(ctx, view.currency, texts)
            if r.get("category") in wanted or wanted & set(r.get("concepts") or [])
        }
        hit = [(int(a), t) for a, t in zip(members.tolist(), texts, strict=True) if t in tagged]
    return [address_obj(view, a, t) for a, t in hit]


def search_neighbors(
    ctx,  # noqa: ANN001
    currency: str,
    cid: int,
    direction: str,
    key: str,
    value: str,
    depth: int,
    breadth: int,
    skip_num_addresses: int | None,
    meter: Meter,
) -> list:
    """GET /{currency}/clusters/{cluster}/search: paths (depth <= 7, ``breadth`` neighbors per
    step) to neighbor clusters holding an address with one of the categories / addresses.

    When the work budget runs out the walk stops where it is and the paths found so far are
    the answer (the reply's ``Chaintrail-Budget`` header says it was cut)."""
    view = ctx.chain(currency)
    view.members(cid)
    wanted = {v.strip() for v in value.split(",") if v.strip()}
    seen = {cid}

    def walk(at: int, level: int) -> list[dict]:
        found: list[dict] = []
        if not meter.ok():
            return found
        try:
            rows = _neighbor_rows(ctx, view, at, direction, breadth, meter)
        except BudgetError:  # this cluster's neighbors did not fit: the walk ends here
            return found
        for row in rows:
            if not meter.ok():
                break
            n = row["cluster"]["cluster"]
            if n in seen:
                continue
            seen.add(n)
            if (
                skip_num_addresses is not None
                and row["cluster"]["no_addresses"] > skip_num_addresses
            ):
                continue
            matching = _matches(ctx, view, n, key, wanted)
            paths = walk(n, level + 1) if level < depth else []
            if matching or paths:
                found.append({"neighbor": row, "matching_addresses": matching, "paths": paths})
        return found

    return walk(cid, 1)
