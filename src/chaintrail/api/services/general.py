"""GET /stats and /search."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from chaintrail import __version__
from chaintrail.api.services.context import SERVED
from chaintrail.api.services.tags import _rows
from chaintrail.store.prefix import PrefixIndex

MIN_PREFIX = 4  # shorter prefixes match too much to be a search


def stats(ctx) -> dict:  # noqa: ANN001
    """What this server holds, per served chain (all counts ints)."""
    out = []
    for currency in SERVED:
        view = ctx.chain(currency)
        m = view.manifest
        labels, sums = view.clusters()
        tagged = _rows(
            ctx,
            "SELECT count(DISTINCT subject) AS n, count(DISTINCT label) AS l FROM tags"
            " WHERE subject_type = 'address' AND lower(currency) = ?",
            [currency],
        )
        out.append(
            {
                "name": currency,
                "no_blocks": int(m.n_blocks),
                "no_address_relations": int(np.asarray(view.index.out_degree).sum()),
                "no_addresses": int(m.n_addresses),
                "no_entities": int((sums["size"] > 0).sum()),
                "no_txs": int(m.n_txs),
                "no_labels": int(tagged[0]["l"]) if tagged else 0,
                "no_tagged_addresses": int(tagged[0]["n"]) if tagged else 0,
                "timestamp": int(view.tip_time),
                "network_type": "utxo",
            }
        )
    return {
        "currencies": out,
        "version": __version__,
        "request_timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def search(ctx, q: str, currency: str | None, limit: int) -> dict:  # noqa: ANN001
    """Addresses and txids starting with ``q`` (at least 4 characters, as GraphSense's search),
    labels and actors by prefix."""
    q = q.strip()
    currencies = []
    for cur in SERVED if currency is None else [ctx.check_currency(currency)]:
        view = ctx.chain(cur)
        addresses: list[str] = []
        txs: list[str] = []
        if len(q) >= MIN_PREFIX:
            store = view.store
            index = PrefixIndex(Path(store.root), view.manifest)
            addresses = index.address_ids(q, limit, store.address_strings)
            txs = index.txids(q, limit, store.txids_hex)
        currencies.append({"currency": cur, "addresses": addresses, "txs": txs})
    like = q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    labels = [
        r["label"]
        for r in _rows(
            ctx,
            "SELECT DISTINCT label FROM tags WHERE lower(label) LIKE ? ESCAPE '\\' ORDER BY label LIMIT ?",
            [like, limit],
        )
    ]
    actors = [
        {"id": r["id"], "label": r["label"] or r["id"]}
        for r in _rows(
            ctx,
            "SELECT actor_id AS id, label FROM actors WHERE lower(actor_id) LIKE ? ESCAPE '\\' OR lower(label) LIKE ? ESCAPE '\\'"
            " ORDER BY actor_id LIMIT ?",
            [like, like, limit],
        )
    ]
    return {"currencies": currencies, "labels": labels, "actors": actors}
