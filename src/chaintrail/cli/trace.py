"""CLI commands ``trace``, ``exposure`` and ``risk`` (issue 5; docs/TRACING.md)."""

from __future__ import annotations

from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from chaintrail.cli.budget import MaxResultsOption, TimeLimitOption, metered, report_cut
from chaintrail.cli.common import (
    ForceOption,
    JsonOption,
    StoreOption,
    btc,
    console,
    emit_json,
    err_console,
)
from chaintrail.limits import MAX_EXPOSURE_HOPS


class _Fmt(StrEnum):
    json = "json"
    csv = "csv"
    graphml = "graphml"
    gexf = "gexf"
    stix = "stix"
    misp = "misp"


def _open(store: Path):  # type: ignore[no-untyped-def]
    from chaintrail.intel.tracing import open_trace_context
    from chaintrail.store import ChainStore

    with err_console.status("loading chain arrays, clusters and tags"):
        return open_trace_context(ChainStore.open(store))


def trace(
    targets: Annotated[
        list[str],
        typer.Argument(
            help="ADDRESS, TXID or TXID:VOUT to trace from; several addresses trace together.",
            metavar="TARGET...",
        ),
    ],
    store: StoreOption = Path("chaintrail-data"),
    direction: Annotated[
        str, typer.Option(help="forward (where it went) or backward.")
    ] = "forward",
    model: Annotated[str, typer.Option(help="Taint model: poison, haircut or fifo.")] = "haircut",
    hops: Annotated[int, typer.Option(help="Transactions to cross at most.")] = 6,
    min_value: Annotated[
        int,
        typer.Option("--min-value", help="Do not follow outputs carrying fewer traced satoshis."),
    ] = 0,
    height_from: Annotated[
        int | None, typer.Option("--from-height", help="Cross only txs at or above this height.")
    ] = None,
    height_to: Annotated[
        int | None, typer.Option("--to-height", help="Cross only txs at or below this height.")
    ] = None,
    time_from: Annotated[
        int | None, typer.Option("--from-time", help="Cross only txs at or after this unix time.")
    ] = None,
    time_to: Annotated[
        int | None, typer.Option("--to-time", help="Cross only txs at or before this unix time.")
    ] = None,
    stop_at_services: Annotated[
        bool,
        typer.Option(
            "--stop-at-services", help="End trails at tagged services (exchange, mixer, ...)."
        ),
    ] = False,
    cluster_nodes: Annotated[
        bool, typer.Option("--cluster-nodes", help="Collapse addresses into their clusters.")
    ] = False,
    no_demix: Annotated[
        bool, typer.Option("--no-demix", help="Plain taint model through CoinJoins.")
    ] = False,
    max_frontier: Annotated[
        int,
        typer.Option(
            "--max-frontier", help="Outputs followed per hop; the rest is cut and reported."
        ),
    ] = 10_000,
    fmt: Annotated[
        _Fmt | None,
        typer.Option(
            "--format",
            help="Export format (to --out or stdout); STIX 2.1 report or MISP event for CTI "
            "platforms. Default: the --out file name's ending (.json .csv .graphml .gexf "
            ".stix.json .misp.json).",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the export to this file.")
    ] = None,
    force: ForceOption = False,
    time_limit: TimeLimitOption = None,
    max_results: MaxResultsOption = None,
    json_out: JsonOption = False,
) -> None:
    """Trace funds from addresses, a transaction or one output, and show where they ended."""
    from chaintrail.analysis.trace_export import result_dict
    from chaintrail.analysis.trace_models import TraceParams
    from chaintrail.analysis.trace_result import build_result
    from chaintrail.analysis.trace_store import seeds_for_targets
    from chaintrail.atomicfile import check_output_target
    from chaintrail.intel.trace_formats import export_format, render_trace, write_trace

    params = TraceParams(
        direction=direction, model=model, hops=hops, min_value=min_value,
        height_from=height_from, height_to=height_to, time_from=time_from, time_to=time_to,
        stop_at_services=stop_at_services, demix=not no_demix, max_frontier=max_frontier,
    )  # fmt: skip
    out_fmt = export_format(out, fmt.value if fmt else None) if out is not None else None
    if out is not None:
        check_output_target(out, force=force)  # before the work, not after it
    ctx = _open(store)
    seeds = seeds_for_targets(ctx, targets, params)
    with metered(f"tracing {params.direction}", time_limit, max_results) as (meter, on_hop):
        flow = ctx.tracer.run(seeds, params, meter=meter, progress=on_hop)
        result = build_result(flow, ctx.chain, ctx.naming, cluster_nodes=cluster_nodes)
    if out is not None and out_fmt is not None:
        write_trace(result, out_fmt, out, force=force)
        err_console.print(f"wrote {out_fmt} {out}")
    elif fmt is not None:
        typer.echo(render_trace(result, fmt.value), nl=False)
    elif json_out:
        emit_json(result_dict(result))
    else:
        _show_trace(result)
    report_cut(meter)


def _show_trace(result) -> None:  # type: ignore[no-untyped-def]
    console.print(
        f"[bold]{result.direction} {result.model} trace from {result.seeds}[/]: "
        f"{btc(result.traced)} traced over {result.hops_done} hops, "
        f"{result.txs_crossed:,} txs, {len(result.nodes):,} nodes, {len(result.edges):,} edges"
    )
    table = Table(title="terminals (where the trail ended)", title_justify="left")
    for col, just in (
        ("address", "left"),
        ("label", "left"),
        ("category", "left"),
        ("BTC", "right"),
        ("why", "left"),
        ("conf", "right"),
        ("hops", "right"),
    ):
        table.add_column(col, justify=just, overflow="fold")  # type: ignore[arg-type]
    for t in result.terminals[:25]:
        hops = str(len(t.paths[0])) if t.paths else "-"
        table.add_row(
            t.address, t.label or "", t.category or "", btc(t.amount, unit=False),
            ",".join(t.reasons), f"{t.confidence:.2f}", hops,
        )  # fmt: skip
    console.print(table)
    if len(result.terminals) > 25:
        rest = sum(t.amount for t in result.terminals[25:])
        console.print(f"... {len(result.terminals) - 25:,} more terminals holding {btc(rest)}")
    console.print(f"fees: {btc(result.fee)}")
    console.print(
        "[dim]each terminal's explaining paths (txids): --json, or --format csv|graphml|gexf[/]"
    )
    for c in result.cut:
        console.print(
            f"[yellow]cut ({c['reason']}): {c['count']:,} outputs, {btc(int(c['value']))}[/]"
        )



def exposure(
    subject: Annotated[str, typer.Argument(help="An ADDRESS or a numeric CLUSTER id.")],
    store: StoreOption = Path("chaintrail-data"),
    hops: Annotated[
        int, typer.Option(min=1, max=MAX_EXPOSURE_HOPS, help="Hops to look through (1 = direct only).")
    ] = 3,
    time_limit: TimeLimitOption = None,
    max_results: MaxResultsOption = None,
    json_out: JsonOption = False,
) -> None:
    """How much of what an address/cluster received and sent touches each tagged category."""
    from chaintrail.analysis.exposure import exposure as compute
    from chaintrail.analysis.trace_store import addresses_for_subject
    from chaintrail.errors import UsageError

    ctx = _open(store)
    if ctx.tags is None:
        raise UsageError("exposure needs tags: import a TagPack or a sanctions list first")
    kind, ids = addresses_for_subject(ctx, subject)
    with metered("exposure", time_limit, max_results) as (meter, _):
        res = compute(ctx.tracer, ctx.tags, ids, hops=hops, meter=meter)
    doc = {kind: subject, "hops": hops, **{k: asdict(v) for k, v in res.items()},
           "budget": meter.report()}  # fmt: skip
    if json_out:
        emit_json(doc)
        report_cut(meter)
        return
    for side, val in res.items():
        table = Table(title=f"{side}: {btc(val.total)}", title_justify="left")
        for col in ("category", "direct", "indirect", "percent"):
            table.add_column(col, justify="left" if col == "category" else "right")
        for c in val.by_category:
            table.add_row(c.category, btc(c.direct), btc(c.indirect), f"{c.percent:.2f}%")
        table.add_row("(untagged)", "", btc(val.untagged), "")
        if val.budget_cut:
            table.add_row("(not followed: budget)", "", btc(val.budget_cut), "")
        console.print(table)
    report_cut(meter)


def risk(
    address: Annotated[str, typer.Argument(help="The ADDRESS to score.")],
    store: StoreOption = Path("chaintrail-data"),
    hops: Annotated[
        int, typer.Option(min=1, max=MAX_EXPOSURE_HOPS, help="Exposure hops considered.")
    ] = 3,
    time_limit: TimeLimitOption = None,
    max_results: MaxResultsOption = None,
    json_out: JsonOption = False,
) -> None:
    """Risk score 0-10 of an address, with the rules that produced it."""
    from chaintrail.analysis.exposure import exposure as compute
    from chaintrail.analysis.risk import score_risk
    from chaintrail.analysis.trace_store import addresses_for_subject
    from chaintrail.intel.taxonomy import load_taxonomy

    ctx = _open(store)
    _, ids = addresses_for_subject(ctx, address)
    own = (
        [c for c in (ctx.attribution.category_of(int(a)) for a in ids) if c]
        if ctx.attribution
        else []
    )
    with metered("risk", time_limit, max_results) as (meter, _):
        res = compute(ctx.tracer, ctx.tags, ids, hops=hops, meter=meter) if ctx.tags is not None else {}
    score = score_risk(own, res, ancestors=load_taxonomy().ancestors)
    if json_out:
        emit_json({"address": address, **asdict(score), "budget": meter.report()})
        report_cut(meter)
        return
    colour = "red" if score.score >= 7 else "yellow" if score.score >= 4 else "green"
    console.print(f"[bold {colour}]risk {score.score}/10[/] for {address}")
    for r in score.reasons:
        console.print(f"  +{r.score}  {r.reason}  ({btc(r.amount)}, {r.percent:.2f}%)")
    if not score.reasons:
        console.print("  no rule fired (no exposure to tagged illicit categories)")
    report_cut(meter)


def register(app: typer.Typer) -> None:
    """Add ``trace``, ``exposure`` and ``risk`` to the main app."""
    app.command("trace")(trace)
    app.command("exposure")(exposure)
    app.command("risk")(risk)
