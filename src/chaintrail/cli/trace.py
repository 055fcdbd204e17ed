"""CLI commands ``trace``, ``exposure`` and ``risk`` (issue 5; docs/TRACING.md)."""

from __future__ import annotations

from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import numpy as np
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
    styled,
)
from chaintrail.cli.hubcommon import AsOption, CaseOption, check_case_writable, file_into_case
from chaintrail.limits import MAX_EXPOSURE_HOPS
from chaintrail.times import parse_time


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
            help="ADDRESS, cluster:ID, TXID or TXID:VOUT to trace from; several addresses and "
            "clusters trace together.",
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
        str | None,
        typer.Option("--from-time", help="Cross only txs at or after this time (unix seconds, "
                     "YYYY-MM-DD or ISO time; UTC unless an offset is given)."),
    ] = None,  # fmt: skip
    time_to: Annotated[
        str | None,
        typer.Option("--to-time", help="Cross only txs at or before this time (a date means "
                     "to the end of that day)."),
    ] = None,  # fmt: skip
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
    min_confidence: Annotated[
        float,
        typer.Option(
            "--min-confidence",
            help="Do not follow demixing links whose confidence is below this (0-1; "
            "docs/TRACING.md lists each rule's confidence).",
        ),
    ] = 0.0,
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
    case: CaseOption = None,
    as_user: AsOption = None,
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
        height_from=height_from, height_to=height_to,
        time_from=None if time_from is None else parse_time(time_from, option="--from-time"),
        time_to=None if time_to is None else parse_time(time_to, option="--to-time", end_of_day=True),
        stop_at_services=stop_at_services, demix=not no_demix, max_frontier=max_frontier,
        min_confidence=min_confidence,
    )  # fmt: skip
    out_fmt = export_format(out, fmt.value if fmt else None) if out is not None else None
    if out is not None:
        check_output_target(out, force=force)  # before the work, not after it
    if case is not None:  # before the work: a case we could not file into fails now
        check_case_writable(store, case, as_user)
    ctx = _open(store)
    seeds = _seeds(ctx, targets, params) if any(_is_cluster(t) for t in targets) else \
        seeds_for_targets(ctx, targets, params)  # fmt: skip
    with metered(f"tracing {params.direction}", time_limit, max_results) as (meter, on_hop):
        flow = ctx.tracer.run(seeds, params, meter=meter, progress=on_hop)
        result = build_result(flow, ctx.chain, ctx.naming, cluster_nodes=cluster_nodes)
    if case is not None:
        from chaintrail.store import ChainStore

        generation = ChainStore.open(store).generation
        payload = {"targets": targets, "params": asdict(params), "store_generation": generation,
                   "cluster_nodes": cluster_nodes, "result": result_dict(result)}  # fmt: skip
        item_id = file_into_case(store, case, as_user, "trace", payload, "cli:trace")
        err_console.print(f"trace filed into case {case} as item {item_id}")
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


def _is_cluster(target: str) -> bool:
    return target.strip().lower().startswith("cluster:")


def _subject(text: str) -> str:
    """``cluster:ID`` -> ``ID`` (the form addresses_for_subject takes); anything else as is."""
    return text.strip()[len("cluster:"):] if _is_cluster(text) else text.strip()


def _seeds(ctx, targets: list[str], params):  # type: ignore[no-untyped-def]
    """Seeds for every address of the ``cluster:ID`` targets plus the address targets, traced
    together (one entity's funds)."""
    from chaintrail.analysis.trace_store import addresses_for_subject

    ids = [
        addresses_for_subject(ctx, _subject(t))[1] if _is_cluster(t)
        else np.array([ctx.store.address_id(t.strip())], np.int64)
        for t in targets
    ]  # fmt: skip
    members = np.unique(np.concatenate(ids))
    seeds = ctx.tracer.seeds_for_addresses(members, params)
    seeds.description = f"{', '.join(t.strip() for t in targets)} ({members.size:,} addresses)"
    return seeds


def _show_trace(result) -> None:  # type: ignore[no-untyped-def]
    console.print(
        styled(f"{result.direction} {result.model} trace from", "bold"),
        f"{result.seeds}: {btc(result.traced)} traced over {result.hops_done} hops, "
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
        ("rests on", "left"),
    ):
        table.add_column(col, justify=just, overflow="fold")  # type: ignore[arg-type]
    for t in result.terminals[:25]:
        hops = str(len(t.paths[0])) if t.paths else "-"
        table.add_row(
            t.address, t.label or "", t.category or "", btc(t.amount, unit=False),
            ",".join(t.reasons), f"{t.confidence:.2f}", hops,
            ", ".join(a for a in t.assumptions if a != result.model) or "-",
        )  # fmt: skip
    console.print(table)
    if len(result.terminals) > 25:
        rest = sum(t.amount for t in result.terminals[25:])
        console.print(f"... {len(result.terminals) - 25:,} more terminals holding {btc(rest)}")
    _show_deposits(result.terminals[:25])
    console.print(f"fees: {btc(result.fee)}")
    console.print(
        styled(
            f"amounts follow the {result.model} model; 'rests on' names the demixing rules and "
            "attribution each terminal depends on; explaining paths (txids): --json, or "
            "--format csv|graphml|gexf",
            "dim",
        )
    )
    for c in result.cut:
        console.print(
            styled(f"cut ({c['reason']}):", "yellow"), f"{c['count']:,} outputs, {btc(int(c['value']))}"
        )


def _show_deposits(terminals) -> None:  # type: ignore[no-untyped-def]
    """What a request to each receiving service needs: txid, UTC time, BTC and fiat (one block
    of lines per terminal: a 64-character txid does not fit a table on a terminal)."""
    if not any(t.deposits for t in terminals):
        return
    console.print(styled("deposits: the txs that paid the traced value to each terminal", "bold"))
    for t in terminals:
        if not t.deposits:
            continue
        console.print(f"  {t.address}" + (f" ({t.label})" if t.label else ""), soft_wrap=True)
        for d in t.deposits:
            fiat = {f["code"]: f"{f['value']:,.2f}" for f in d["fiat_values"]}
            dates = d["rate_dates"]
            money = (f"USD {fiat['usd']}  EUR {fiat['eur']}  (rates of {dates['usd']}"
                     + (f"; EUR: ECB fixing of {dates['eur']}" if dates["eur"] != dates["usd"] else "")
                     + ")") if "usd" in fiat and "eur" in fiat else "no fiat rate for that day"  # fmt: skip
            console.print(f"    {d['time_utc']}  {btc(d['amount'])}  {money}", soft_wrap=True)
            console.print(f"      txid {d['txid']}", soft_wrap=True)


def exposure(
    subject: Annotated[str, typer.Argument(help="An ADDRESS, or a cluster as cluster:ID or ID.")],
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
    kind, ids = addresses_for_subject(ctx, _subject(subject))
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
    address: Annotated[str, typer.Argument(help="The ADDRESS (or cluster:ID) to score.")],
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
    from chaintrail.intel.coverage import attribution_warnings
    from chaintrail.intel.taxonomy import load_taxonomy

    ctx = _open(store)
    _, ids = addresses_for_subject(ctx, _subject(address))
    own = (
        [c for c in (ctx.attribution.category_of(int(a)) for a in ids) if c]
        if ctx.attribution
        else []
    )
    with metered("risk", time_limit, max_results) as (meter, _):
        res = compute(ctx.tracer, ctx.tags, ids, hops=hops, meter=meter) if ctx.tags is not None else {}
    score = score_risk(own, res, ancestors=load_taxonomy().ancestors)
    warnings = attribution_warnings(store, ctx.tags is not None)
    if json_out:
        emit_json({"address": address, **asdict(score), "warnings": warnings,
                   "budget": meter.report()})  # fmt: skip
        report_cut(meter)
        return
    colour = "red" if score.score >= 7 else "yellow" if score.score >= 4 else "green"
    console.print(styled(f"risk {score.score}/10", f"bold {colour}"), f"for {address}")
    grouped: dict[tuple[int, str], list[float]] = {}  # one line per rule and reason
    for r in score.reasons:
        g = grouped.setdefault((r.score, r.reason), [0, 0, 0.0])
        g[0], g[1], g[2] = g[0] + 1, g[1] + r.amount, g[2] + r.percent
    for (points, reason), (n, amount, percent) in grouped.items():
        times = f" (x{n} addresses)" if n > 1 else ""
        console.print(f"  +{points}  {reason}{times}  ({btc(int(amount))}, {percent:.2f}%)")
    if not score.reasons:
        console.print("  no rule fired (no exposure to tagged illicit categories)")
    for w in warnings:
        err_console.print(styled("warning:", "yellow"), w, soft_wrap=True)
    report_cut(meter)


def register(app: typer.Typer) -> None:
    """Add ``trace``, ``exposure`` and ``risk`` to the main app."""
    app.command("trace")(trace)
    app.command("exposure")(exposure)
    app.command("risk")(risk)
