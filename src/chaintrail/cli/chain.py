"""CLI commands of the chain group: ingest, block, tx, address, stats."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from chaintrail.cli.common import (
    DEFAULT_STORE,
    JsonOption,
    StoreOption,
    btc,
    console,
    emit_json,
    err_console,
    styled,
)
from chaintrail.errors import UsageError
from chaintrail.rates import shipped_rates


def _opt(v: Any) -> str:
    return "-" if v is None else str(v)


def _kv_table(title: str, rows: list[tuple[str, Any]]) -> Table:
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold cyan")
    table.add_column(overflow="fold")
    for k, v in rows:
        table.add_row(k, "-" if v is None else str(v))
    return table


def _open(store: Path | None):  # type: ignore[no-untyped-def]
    from chaintrail.store import ChainStore

    return ChainStore.open(store or DEFAULT_STORE)


def _progress_bar() -> tuple[Progress, Any]:
    bar = Progress(
        TextColumn("ingest", style="bold", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("blocks"),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=err_console,
        transient=False,
        disable=not err_console.is_terminal,
    )
    task = bar.add_task("ingest", total=None, rate="")
    return bar, task


def ingest(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="blocks dir, blk files, raw/hex blocks, getblock JSON"),
    ] = None,  # fmt: skip
    store: StoreOption = DEFAULT_STORE,
    allow_gaps: Annotated[
        bool, typer.Option("--allow-gaps", help="Ingest blocks out of chain context (inspection).")
    ] = False,  # fmt: skip
    rpc_url: Annotated[
        str | None, typer.Option("--rpc-url", help="Bitcoin Core JSON-RPC URL.")
    ] = None,
    rpc_user: Annotated[str | None, typer.Option("--rpc-user")] = None,
    rpc_password: Annotated[str | None, typer.Option("--rpc-password")] = None,
    rpc_cookie: Annotated[
        Path | None, typer.Option("--rpc-cookie", help="Core's .cookie file.")
    ] = None,
    from_height: Annotated[int | None, typer.Option("--from-height")] = None,
    to_height: Annotated[int | None, typer.Option("--to-height")] = None,
    batch_mb: Annotated[
        float, typer.Option("--batch-mb", help="Serialized MB per committed batch.")
    ] = 48.0,
    batch_blocks: Annotated[
        int | None, typer.Option("--batch-blocks", help="At most this many blocks per batch.")
    ] = None,  # fmt: skip
    json_out: JsonOption = False,
) -> None:
    """Append blocks to the store (chain order, resumable, reorg-aware)."""
    from chaintrail.jobs.ingest import describe, ingest_paths
    from chaintrail.jobs.ingest_rpc import ingest_from_node
    from chaintrail.store import ChainStore

    if bool(paths) == bool(rpc_url):
        raise UsageError("give either PATH... or --rpc-url (exactly one)")
    if rpc_url is None and (from_height is not None or to_height is not None):
        raise UsageError("--from-height/--to-height only apply to --rpc-url")
    st = ChainStore.open(store, create=True)
    bar, task = _progress_bar()

    def on_progress(done: int, total: int, txs: int) -> None:
        elapsed = bar.tasks[0].elapsed or 1e-9
        bar.update(task, completed=done, total=total, rate=f"{txs / elapsed:,.0f} tx/s")

    with bar:
        if rpc_url:
            report = ingest_from_node(
                st, rpc_url, user=rpc_user, password=rpc_password, cookie_file=rpc_cookie,
                from_height=from_height, to_height=to_height, allow_gaps=allow_gaps,
                progress=on_progress,
            )  # fmt: skip
        else:
            report = ingest_paths(
                st, paths or [], allow_gaps=allow_gaps, batch_bytes=int(batch_mb * (1 << 20)),
                batch_blocks=batch_blocks, progress=on_progress,
            )  # fmt: skip
    if json_out:
        emit_json(report.to_json())
    else:
        err_console.print(describe(report), highlight=False)


def block(
    ref: Annotated[str, typer.Argument(help="block height or hash")],
    store: StoreOption = DEFAULT_STORE,
    json_out: JsonOption = False,
) -> None:
    """Show a block by height or hash."""
    info = _open(store).block(ref)
    if json_out:
        emit_json(info)
        return
    rows = [(k, btc(v, with_sat=True) if k == "total_output_value" else v) for k, v in info.items()]
    console.print(_kv_table(f"block {info['height']}", rows))


def tx(
    txid: Annotated[str, typer.Argument(help="transaction id (hex)")],
    store: StoreOption = DEFAULT_STORE,
    json_out: JsonOption = False,
) -> None:
    """Show a transaction with its inputs and outputs, clusters, labels and heuristics."""
    from chaintrail.enrich import enrich_tx

    st = _open(store)
    info = enrich_tx(st, st.tx(txid))
    info["warnings"] = _intel_warnings(st, any(r.get("label") for r in [*info["inputs"], *info["outputs"]]))
    rates = shipped_rates("btc")
    out_value = sum(o["value"] for o in info["outputs"])
    info["fiat"] = {
        "total_output": rates.fiat_values(out_value, info["time"]),
        "fee": rates.fiat_values(info["fee"], info["time"]) if info["fee"] is not None else [],
        "rate_dates": rates.rate_dates(info["time"]),
    }
    if json_out:
        emit_json(info)
        return
    skip = ("inputs", "outputs", "heuristics", "fiat", "warnings")
    head = [
        (k, btc(v, with_sat=True) if k == "fee" else v) for k, v in info.items() if k not in skip
    ]
    head += [(f"{k} (fiat)", _fiat_text(v, info["fiat"]["rate_dates"]))
             for k, v in info["fiat"].items() if k != "rate_dates"]  # fmt: skip
    h = info["heuristics"]
    mixes = [name for name, hit in h["coinjoin"].items() if hit]
    head.append(("coinjoin", ", ".join(mixes) if mixes else "no"))
    head.append(("change output", "-" if h["change_selected"] is None else h["change_selected"]))
    console.print(_kv_table(f"tx {info['txid']}", head))
    ins = Table(title="inputs", title_justify="left")
    for col in ("#", "spends", "address", "cluster", "label", "BTC"):
        ins.add_column(col, overflow="fold", justify="right" if col == "BTC" else "left")
    for i, row in enumerate(info["inputs"]):
        ins.add_row(
            str(i),
            f"{row['prev_txid']}:{row['prev_vout']}",
            row["address"] or "-",
            _opt(row.get("cluster_id")),
            _opt(row.get("label")),
            btc(row["value"], unit=False),
        )
    outs = Table(title="outputs", title_justify="left")
    for col in ("#", "type", "address", "cluster", "label", "BTC", "spent by"):
        outs.add_column(col, overflow="fold", justify="right" if col == "BTC" else "left")
    for row in info["outputs"]:
        spent = row.get("spent_by_txid")
        outs.add_row(
            str(row["index"]),
            row["script_type"],
            row["address"] or "-",
            _opt(row.get("cluster_id")),
            _opt(row.get("label")),
            btc(row["value"], unit=False),
            spent or "unspent",
        )
    console.print(ins, outs)
    _warn(info["warnings"])


def address(
    addr: Annotated[str, typer.Argument(help="address (base58 or bech32)")],
    txs: Annotated[
        bool, typer.Option("--txs", help="List the address's transactions (newest first).")
    ] = False,
    page: Annotated[int, typer.Option("--page", min=1, help="Page of --txs to show.")] = 1,
    per_page: Annotated[
        int, typer.Option("--per-page", min=1, max=1000, help="Transactions per page.")
    ] = 25,
    store: StoreOption = DEFAULT_STORE,
    json_out: JsonOption = False,
) -> None:
    """Show an address: balance, totals (BTC, USD, EUR), tx count, first/last seen, cluster and
    tags; with --txs its transactions, a page at a time."""
    from chaintrail.enrich import enrich_address
    from chaintrail.store.queries import address_flows_by_day

    st = _open(store)
    if txs:
        _address_txs(st, addr, page, per_page, json_out)
        return
    info = enrich_address(st, st.address(addr))
    info["warnings"] = _intel_warnings(st, bool(info["tags"]))
    rates = shipped_rates("btc")
    flows = address_flows_by_day(st, st.address_id(addr))
    tip_time = int(st.block(st.manifest.tip_height)["time"]) if st.manifest.n_blocks else 0
    info["fiat"] = {
        "total_received": rates.fiat_of_days([(d, r) for d, r, _ in flows]),
        "total_sent": rates.fiat_of_days([(d, s) for d, _, s in flows]),
        "balance": rates.fiat_values(info["balance"], tip_time),
        "balance_rate_dates": rates.rate_dates(tip_time),
    }
    if json_out:
        emit_json(info)
        return
    money = {"balance", "total_received", "total_sent"}
    rows = [(k, btc(v, with_sat=True) if k in money else v) for k, v in info.items()
            if k not in ("tags", "fiat", "warnings")]  # fmt: skip
    f = info["fiat"]
    rows += [
        ("received (fiat)", _fiat_text(f["total_received"], None, "at each receipt's day")),
        ("sent (fiat)", _fiat_text(f["total_sent"], None, "at each spend's day")),
        ("balance (fiat)", _fiat_text(f["balance"], f["balance_rate_dates"])),
    ]
    console.print(_kv_table(f"address {info['address']}", rows))
    if info["tags"]:
        tags = Table(title="tags", title_justify="left")
        for col in ("label", "category", "actor", "confidence", "source", "tlp", "on"):
            tags.add_column(col)
        for t in info["tags"]:
            concept = t.get("abuse") or t.get("category") or (t.get("concepts") or [None])[0]
            tags.add_row(
                _opt(t.get("label")), _opt(concept),
                *(_opt(t.get(c)) for c in ("actor", "confidence", "source", "tlp")),
                t.get("inherited_from") or "this address",
            )  # fmt: skip
        console.print(tags)
    _warn(info["warnings"])


def _warn(warnings: list[str]) -> None:
    for w in warnings:
        err_console.print(styled("warning:", "yellow"), w, soft_wrap=True)


def _intel_warnings(st: Any, tagged: bool) -> list[str]:
    """Why nothing is tagged here when the store holds no tags at all (else ``[]``)."""
    from chaintrail.intel.coverage import no_tags_warning

    warning = None if tagged else no_tags_warning(st.root)
    return [warning] if warning else []


def _fiat_text(values: list[dict[str, Any]], dates: dict[str, str] | None, when: str = "") -> str:
    """``USD 1,234.56 / EUR 1,100.00 (rates of 2021-03-04; EUR: ECB 2021-03-03)``, or why not."""
    if not values:
        return "no rate (prices shipped for 2013-04-29 .. 2025-07-24)"
    text = " / ".join(f"{v['code'].upper()} {v['value']:,.2f}" for v in sorted(values, key=lambda v: v["code"] != "usd"))
    if dates:
        when = f"rates of {dates.get('usd')}"
        if dates.get("eur") and dates["eur"] != dates.get("usd"):
            when += f"; EUR: ECB fixing of {dates['eur']}"
    return f"{text} ({when})" if when else text


def _address_txs(st: Any, addr: str, page: int, per_page: int, json_out: bool) -> None:
    """One page of an address's transactions (newest first), with totals per tx."""
    from chaintrail.store.queries import address_txs

    total, rows = address_txs(st, st.address_id(addr), (page - 1) * per_page, per_page)
    pages = max(1, -(-total // per_page))
    if json_out:
        emit_json({"address": addr, "total": total, "page": page, "pages": pages,
                   "per_page": per_page, "txs": rows})  # fmt: skip
        return
    table = Table(title=f"transactions of {addr}: page {page} of {pages} ({total:,} txs)",
                  title_justify="left")  # fmt: skip
    for col in ("time (UTC)", "height", "txid", "received", "sent", "net BTC"):
        table.add_column(col, no_wrap=col == "txid",
                         justify="right" if col in ("height", "received", "sent", "net BTC") else "left")  # fmt: skip
    for r in rows:
        table.add_row(r["time_utc"], str(r["height"]), r["txid"], btc(r["received"], unit=False),
                      btc(r["sent"], unit=False), btc(r["net"], unit=False))  # fmt: skip
    console.print(table)
    if page < pages:
        console.print(f"next page: chaintrail address {addr} --txs --page {page + 1}")


def stats(store: StoreOption = DEFAULT_STORE, json_out: JsonOption = False) -> None:
    """Counts, tip and bytes of the store."""
    info = _open(store).stats()
    if json_out:
        emit_json(info)
        return
    console.print(_kv_table(f"store {store}", list(info.items())))


def register(app: typer.Typer) -> None:
    """Add this group's commands to the main app."""
    app.command()(ingest)
    app.command()(block)
    app.command()(tx)
    app.command()(address)
    app.command()(stats)
