"""The JSON-ready dicts the CLI prints and the API returns: block, tx, address.

Amounts are integer satoshis; hashes are display hex; unknowns are ``None``.
"""

from __future__ import annotations

from typing import Any, Protocol

import duckdb
import numpy as np

from chaintrail.chains.model import ScriptType
from chaintrail.errors import NotFoundError
from chaintrail.times import utc_iso


class StoreReader(Protocol):
    """What these queries need of a store (``ChainStore`` is one)."""

    def con(self) -> duckdb.DuckDBPyConnection: ...

    def tx_id(self, txid_hex: str) -> int: ...

    def txids_hex(self, tx_ids: np.ndarray | list[int]) -> list[str]: ...

    def address_id(self, address: str) -> int: ...

    def address_strings(self, ids: np.ndarray | list[int]) -> list[str | None]: ...

    def tx_of_outputs(self, out_ids: np.ndarray) -> np.ndarray: ...

_BLOCK_COLS = (
    "hash, height, prev_hash, merkle_root, time, tx_count, size, weight, total_output_value, "
    "version, bits, nonce, first_tx_id"
)


def _hex(b: bytes | None) -> str | None:
    return None if b is None else bytes(b).hex()


def block_info(store: StoreReader, ref: str | int) -> dict[str, Any]:
    """A block by height (int or decimal string) or hash (64 hex characters)."""
    con = store.con()
    text = str(ref).strip().lower()
    if text.isdigit():
        rows = con.execute(
            f"SELECT {_BLOCK_COLS} FROM blocks WHERE height = ?", [int(text)]
        ).fetchall()
    elif len(text) == 64 and all(c in "0123456789abcdef" for c in text):
        rows = con.execute(
            f"SELECT {_BLOCK_COLS} FROM blocks WHERE hash = unhex(?)", [text]
        ).fetchall()
    else:
        raise NotFoundError(f"block {ref!r}: expected a height or a 64-hex-character hash")
    if not rows:
        raise NotFoundError(f"block {ref} is not in the store")
    names = [c.strip() for c in _BLOCK_COLS.split(",")]
    d = dict(zip(names, rows[-1], strict=True))
    for k in ("hash", "prev_hash", "merkle_root"):
        d[k] = _hex(d[k])
    return {**dict(list(d.items())[:5]), "time_utc": utc_iso(d["time"]), **dict(list(d.items())[5:])}


def tx_info(store: StoreReader, txid_hex: str) -> dict[str, Any]:
    """A transaction with inputs (what they spend) and outputs (who they pay, who spent them)."""
    tx_id = store.tx_id(txid_hex)
    con = store.con()
    cols = ("txid, wtxid, height, coinbase, segwit, size, vsize, weight, fee, version, locktime, "
            "first_in_id, n_in, first_out_id, n_out")  # fmt: skip
    row = con.execute(f"SELECT {cols} FROM txs WHERE tx_id = ?", [tx_id]).fetchone()
    t = dict(zip([c.strip() for c in cols.split(",")], row, strict=True))
    block_hash, block_time = con.execute(
        "SELECT hash, time FROM blocks WHERE first_tx_id <= ? AND first_tx_id + tx_count > ?",
        [tx_id, tx_id],
    ).fetchone()
    ins = con.execute(
        "SELECT prev_out_id, prev_txid, prev_vout, value, address_id FROM inputs "
        "WHERE in_id >= ? AND in_id < ? ORDER BY in_id",
        [t["first_in_id"], t["first_in_id"] + t["n_in"]],
    ).fetchall()
    outs = con.execute(
        "SELECT out_id, vout, value, script_type, address_id FROM outputs "
        "WHERE out_id >= ? AND out_id < ? ORDER BY out_id",
        [t["first_out_id"], t["first_out_id"] + t["n_out"]],
    ).fetchall()
    spent = dict(
        con.execute(
            "SELECT prev_out_id, tx_id FROM inputs WHERE prev_out_id >= ? AND prev_out_id < ?",
            [t["first_out_id"], t["first_out_id"] + t["n_out"]],
        ).fetchall()
    )
    prev_out = np.array([r[0] if r[0] is not None else -1 for r in ins], np.int64)
    prev_tx = store.tx_of_outputs(prev_out)
    resolved_txids = store.txids_hex(np.where(prev_out >= 0, prev_tx, 0)) if len(ins) else []
    addr_ids = [r[4] if r[4] is not None else -1 for r in ins] + [
        r[4] if r[4] is not None else -1 for r in outs
    ]
    addrs = store.address_strings(addr_ids)
    spent_txids = store.txids_hex(list(spent.values())) if spent else []
    spent_hex = dict(zip(spent.keys(), spent_txids, strict=True))
    inputs = [
        {
            "prev_txid": resolved_txids[i] if r[0] is not None else _hex(r[1]),
            "prev_vout": r[2],
            "address": addrs[i],
            "value": r[3],
        }
        for i, r in enumerate(ins)
    ]
    outputs = [
        {
            "index": r[1],
            "value": r[2],
            "script_type": ScriptType(r[3]).label,
            "address": addrs[len(ins) + k],
            "spent_by_txid": spent_hex.get(r[0]),
        }
        for k, r in enumerate(outs)
    ]
    return {
        "txid": _hex(t["txid"]),
        "wtxid": _hex(t["wtxid"]),
        "height": t["height"],
        "block_hash": _hex(block_hash),
        "time": block_time,
        "time_utc": utc_iso(block_time),
        "coinbase": t["coinbase"],
        "segwit": t["segwit"],
        "size": t["size"],
        "vsize": t["vsize"],
        "weight": t["weight"],
        "fee": t["fee"],
        "version": t["version"],
        "locktime": t["locktime"],
        "inputs": inputs,
        "outputs": outputs,
    }


def address_info(store: StoreReader, address: str) -> dict[str, Any]:
    """Balance, totals, tx count and first/last seen heights of one address."""
    aid = store.address_id(address)
    con = store.con()
    a = con.execute(
        "SELECT address, script_type, first_seen_height FROM addresses WHERE address_id = ?", [aid]
    ).fetchone()
    s = con.execute(
        """WITH x AS (
             SELECT tx_id, value AS received, 0 AS sent FROM outputs WHERE address_id = $1
             UNION ALL SELECT tx_id, 0, value FROM inputs WHERE address_id = $1)
           SELECT coalesce(sum(received), 0)::BIGINT, coalesce(sum(sent), 0)::BIGINT,
                  count(DISTINCT x.tx_id), max(t.height)
           FROM x JOIN txs t ON t.tx_id = x.tx_id""",
        [aid],
    ).fetchone()
    received, sent, n_tx, last = s
    return {
        "address": a[0],
        "script_type": ScriptType(a[1]).label,
        "balance": received - sent,
        "total_received": received,
        "total_sent": sent,
        "tx_count": n_tx,
        "first_seen_height": a[2],
        "last_seen_height": last,
    }


def address_flows_by_day(store: StoreReader, address_id: int) -> list[tuple[int, int, int]]:
    """(UTC day number, satoshis received, satoshis sent) of an address, per day it moved
    value (what fiat totals at the time of each movement are summed from)."""
    return store.con().execute(
        """WITH x AS (
             SELECT tx_id, value AS received, 0 AS sent FROM outputs WHERE address_id = $1
             UNION ALL SELECT tx_id, 0, value FROM inputs WHERE address_id = $1)
           SELECT b.time // 86400 AS day, sum(received)::BIGINT, sum(sent)::BIGINT
           FROM x JOIN txs t ON t.tx_id = x.tx_id JOIN blocks b ON b.height = t.height
           GROUP BY day ORDER BY day""",
        [address_id],
    ).fetchall()


def address_txs(store: StoreReader, address_id: int, offset: int, limit: int) -> tuple[int, list[dict[str, Any]]]:
    """(number of txs, one page of them, newest first) of an address: txid, height, block time
    (unix and UTC), satoshis received and sent in each."""
    con = store.con()
    body = """WITH x AS (
             SELECT tx_id, value AS received, 0 AS sent FROM outputs WHERE address_id = $1
             UNION ALL SELECT tx_id, 0, value FROM inputs WHERE address_id = $1)"""
    total = con.execute(body + " SELECT count(DISTINCT tx_id) FROM x", [address_id]).fetchone()[0]
    rows = con.execute(
        body + """ SELECT x.tx_id, any_value(t.height), any_value(b.time), sum(received)::BIGINT,
                      sum(sent)::BIGINT
           FROM x JOIN txs t ON t.tx_id = x.tx_id JOIN blocks b ON b.height = t.height
           GROUP BY x.tx_id ORDER BY x.tx_id DESC LIMIT $2 OFFSET $3""",
        [address_id, limit, offset],
    ).fetchall()
    txids = store.txids_hex([r[0] for r in rows]) if rows else []
    return int(total), [
        {"txid": txid, "height": r[1], "time": r[2], "time_utc": utc_iso(r[2]), "received": r[3],
         "sent": r[4], "net": r[3] - r[4]}
        for txid, r in zip(txids, rows, strict=True)
    ]  # fmt: skip
