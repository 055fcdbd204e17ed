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
)
from chaintrail.errors import UsageError


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
        TextColumn("[bold]ingest"),
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
    from chaintrail.jobs.ingest import describe, ingest_paths, ingest_rpc
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
            report = ingest_rpc(
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
    if json_out:
        emit_json(info)
        return
    skip = ("inputs", "outputs", "heuristics")
    head = [
        (k, btc(v, with_sat=True) if k == "fee" else v) for k, v in info.items() if k not in skip
    ]
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


def address(
    addr: Annotated[str, typer.Argument(help="address (base58 or bech32)")],
    store: StoreOption = DEFAULT_STORE,
    json_out: JsonOption = False,
) -> None:
    """Show an address: balance, totals, tx count, first/last seen, cluster and tags."""
    from chaintrail.enrich import enrich_address

    st = _open(store)
    info = enrich_address(st, st.address(addr))
    if json_out:
        emit_json(info)
        return
    money = {"balance", "total_received", "total_sent"}
    rows = [(k, btc(v, with_sat=True) if k in money else v) for k, v in info.items() if k != "tags"]
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
