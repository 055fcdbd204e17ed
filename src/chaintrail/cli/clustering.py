"""CLI commands of the clustering group: ``cluster`` (run), ``cluster export``, ``cluster-info``."""

from __future__ import annotations

import csv
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from chaintrail.atomicfile import atomic_output, check_output_target
from chaintrail.cli.common import (
    DEFAULT_STORE,
    ForceOption,
    JsonOption,
    StoreOption,
    btc,
    console,
    emit_json,
    err_console,
    styled,
)
from chaintrail.times import utc_iso

EXPORT_CHUNK = 1 << 16

cluster_app = typer.Typer(
    help="Cluster addresses into entities (run with no subcommand), or export the clusters.",
    invoke_without_command=True,
    no_args_is_help=False,
)


def _open(store: Path | None):  # type: ignore[no-untyped-def]
    from chaintrail.store import ChainStore

    return ChainStore.open(store or DEFAULT_STORE)


@cluster_app.callback()
def cluster(
    ctx: typer.Context,
    heuristics: Annotated[
        str | None,
        typer.Option(
            "--heuristics",
            help="'multi-input' (conservative) or 'multi-input,change:<expr>' with <expr> "
            "combining address_reuse, address_type, optimal_change, power_of_ten, "
            "client_fingerprint, fingerprint_exclusion, fresh_address, peel_chain, "
            "stable_fingerprint, stable_type, "
            "few_outputs by & | - ( ) "
            "and > (prefer: left where it names one output, else right). "
            "Default: the recommended set (see ACCURACY.md).",
        ),
    ] = None,
    full: Annotated[bool, typer.Option("--full", help="Recompute from scratch.")] = False,
    guard_size: Annotated[
        int | None,
        typer.Option("--guard-size", min=2, help="Refuse change merges of two clusters this big."),
    ] = None,
    top: Annotated[int, typer.Option("--top", min=0, help="Largest clusters to list.")] = 10,
    store: StoreOption = DEFAULT_STORE,
    json_out: JsonOption = False,
) -> None:
    """Cluster every address (multi-input + guarded change merges), incrementally."""
    if ctx.invoked_subcommand is not None:
        return
    from chaintrail.analysis.change_expr import parse_heuristic_set
    from chaintrail.analysis.clustering import (
        DEFAULT_GUARD_SIZE,
        DEFAULT_HEURISTICS,
        run_clustering,
    )

    spec = heuristics or DEFAULT_HEURISTICS
    parse_heuristic_set(spec)  # fail on a bad expression before any work
    st = _open(store)
    with Progress(
        TextColumn("cluster {task.fields[phase]}", style="bold", markup=False),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=json_out,
        disable=not err_console.is_terminal,
    ) as bar:
        task = bar.add_task("cluster", total=None, phase="")

        def progress(phase: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=max(total, 1), phase=phase)

        state = run_clustering(
            st, spec, full=full, guard_size=guard_size or DEFAULT_GUARD_SIZE, progress=progress
        )
    table = state.table
    assert table is not None
    order = np.argsort(-table.column("size").to_numpy(), kind="stable")[:top]
    largest = [
        {k: table.column(k)[int(i)].as_py() for k in ("cluster_id", "size", "balance")}
        for i in order
    ]
    summary: dict[str, Any] = {
        "heuristics": state.meta["heuristics"],
        "guard_size": state.meta["guard_size"],
        "txs": state.meta["last_tx"],
        "new_txs": state.meta["last_tx"] - state.meta["first_new_tx"],
        "addresses": state.meta["n_addresses"],
        "clusters": state.meta["n_clusters"],
        **state.meta["counts"],
        "largest": largest,
    }
    if json_out:
        emit_json(summary)
        return
    console.print(
        f"{summary['clusters']:,} clusters from {summary['addresses']:,} addresses "
        f"({summary['new_txs']:,} of {summary['txs']:,} txs processed now)"
    )  # one print per line: the console shows a newline inside data as an escape
    console.print(f"heuristics: {summary['heuristics']}  guard: {summary['guard_size']}")
    console.print(
        f"multi-input merges: {summary['multi_input_merges']:,}  change merges: "
        f"{summary['change_merges']:,}  change merges refused: {summary['change_refused']:,}  "
        f"CoinJoin txs: {summary['coinjoin_txs']:,}"
    )
    blocked = {k: v for k, v in summary.get("merge_blocked", {}).items() if v}
    if blocked:
        console.print(
            "kept out of multi-input merges (detector: txs): "
            + ", ".join(f"{k}: {v:,}" for k, v in blocked.items())
        )
    if largest:
        out = Table(title="largest clusters", title_justify="left")
        out.add_column("cluster_id", justify="right")
        out.add_column("size", justify="right")
        out.add_column("balance BTC", justify="right")
        for row in largest:
            out.add_row(str(row["cluster_id"]), f"{row['size']:,}", btc(row["balance"], unit=False))
        console.print(out)


@cluster_app.command("export")
def export(
    out: Annotated[Path, typer.Option("--out", help="CSV file to write (address,cluster_id).")],
    store: StoreOption = DEFAULT_STORE,
    force: ForceOption = False,
) -> None:
    """Write ``address,cluster_id`` for every address of the last clustering run."""
    from chaintrail.analysis.clustering import load_clusters

    check_output_target(out, force=force)
    st = _open(store)
    labels = load_clusters(st).labels
    with (
        atomic_output(out, newline="", force=force) as fh,
        Progress(console=err_console, disable=not err_console.is_terminal) as bar,
    ):
        task = bar.add_task("export", total=labels.shape[0])
        writer = csv.writer(fh)
        writer.writerow(["address", "cluster_id"])
        for lo in range(0, labels.shape[0], EXPORT_CHUNK):
            ids = np.arange(lo, min(lo + EXPORT_CHUNK, labels.shape[0]))
            names = st.address_strings(ids)
            writer.writerows(zip(names, labels[lo : lo + ids.shape[0]].tolist(), strict=True))
            bar.update(task, advance=ids.shape[0])
    err_console.print(f"wrote {labels.shape[0]:,} addresses to {out}")


class _Split(StrEnum):
    multi_input = "multi-input"


def cluster_info(
    cluster_id: Annotated[int, typer.Argument(help="Cluster id (the smallest address id in it).")],
    limit: Annotated[int, typer.Option("--limit", min=0, help="Addresses to list.")] = 20,
    split: Annotated[
        _Split | None,
        typer.Option(
            "--split",
            help="Show the cluster's multi-input components and the change links joining them.",
        ),
    ] = None,
    store: StoreOption = DEFAULT_STORE,
    json_out: JsonOption = False,
) -> None:
    """Size, flows, activity, evidence and first addresses of one cluster."""
    from chaintrail.analysis.cluster_state import load_table
    from chaintrail.analysis.clustering import load_cluster_evidence, load_clusters
    from chaintrail.analysis.clusters_table import cluster_row, members

    st = _open(store)
    state = load_clusters(st)
    row = cluster_row(load_table(st.derived_dir("clusters"), state), cluster_id)
    addresses = st.address_strings(members(state.labels, cluster_id, limit))
    info = {
        "cluster_id": row["cluster_id"],
        "size": row["size"],
        "total_received": row["total_received"],
        "total_sent": row["total_sent"],
        "balance": row["balance"],
        "first_seen": row["first_seen"],
        "first_seen_utc": utc_iso(row["first_seen"]),
        "last_seen": row["last_seen"],
        "last_seen_utc": utc_iso(row["last_seen"]),
        "script_types": {k[2:]: v for k, v in row.items() if k.startswith("n_") and v},
        "addresses": addresses,
    }
    from chaintrail.enrich import enrich_cluster

    info = enrich_cluster(st, info)
    evidence = load_cluster_evidence(st, cluster_id)
    info["evidence"] = evidence.summary()
    if split is not None:
        info["components"] = _components_doc(st, evidence, limit)
    if json_out:
        emit_json(info)
        return
    out = Table(title=f"cluster {cluster_id}", show_header=False, title_justify="left")
    out.add_column(style="bold cyan")
    out.add_column(overflow="fold")
    for key in ("size", "total_received", "total_sent", "balance"):
        value = info[key]
        out.add_row(key, f"{value:,}" if key == "size" else btc(value))
    out.add_row("first/last seen", f"{info['first_seen_utc']} .. {info['last_seen_utc']} "
                f"(unix {info['first_seen']} .. {info['last_seen']})")  # fmt: skip
    out.add_row("script types", ", ".join(f"{k}: {v}" for k, v in info["script_types"].items()))
    if info["labels"]:
        out.add_row(
            "labels",
            "\n".join(
                f"{x['label']} ({x['category'] or '-'}; {x['cluster_tags'] + x['address_tags']} tags)"
                for x in info["labels"][:10]
            ),
        )
    if info["conflicting_actors"]:
        out.add_row(styled("conflicting actors", "red"), ", ".join(a["actor"] for a in info["actors"]))
    ev = info["evidence"]
    rests = [
        f"multi-input: {ev['multi_input_components']:,} component(s), the largest "
        f"{ev['largest_component']:,} addresses ({ev['multi_input_share']:.0%} of the cluster)"
    ]
    for rule, joins in ev["change_joins"].items():
        rests.append(f"change {rule}: joins {joins:,} ({ev['change_links'][rule]:,} links)")
    out.add_row("rests on", "\n".join(rests))
    out.add_row(f"addresses (first {limit})", "\n".join(a or "-" for a in addresses))
    console.print(out)
    if split is not None:
        _show_components(info["components"], cluster_id)


def _components_doc(st: Any, evidence: Any, limit: int) -> dict[str, Any]:
    """The multi-input components (largest first, ``limit`` addresses each) and the change
    links joining them, as JSON-able dicts."""
    comps = []
    for k, c in enumerate(evidence.components):
        comps.append(
            {
                "component": k,
                "size": c.size,
                "addresses": st.address_strings(c.addresses[:limit]),
            }
        )
    txids = st.txids_hex([b.tx_id for b in evidence.bridges]) if evidence.bridges else []
    bridges = [
        {"txid": txid, "vout": b.vout, "heuristic": b.rule, "joins": list(b.components)}
        for b, txid in zip(evidence.bridges, txids, strict=True)
    ]
    return {"multi_input": comps, "change_bridges": bridges}


def _show_components(doc: dict[str, Any], cluster_id: int) -> None:
    table = Table(title=f"cluster {cluster_id}: multi-input components", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("size", justify="right")
    table.add_column("addresses", overflow="fold")
    for c in doc["multi_input"][:50]:
        table.add_row(str(c["component"]), f"{c['size']:,}", "\n".join(c["addresses"]))
    console.print(table)
    if len(doc["multi_input"]) > 50:
        console.print(f"... {len(doc['multi_input']) - 50:,} more components (--json lists all)")
    links = Table(title="change links joining them", title_justify="left")
    for col in ("txid", "vout", "heuristic", "joins"):
        links.add_column(col, overflow="fold")
    for b in doc["change_bridges"][:50]:
        links.add_row(b["txid"], str(b["vout"]), b["heuristic"], f"{b['joins'][0]} + {b['joins'][1]}")
    console.print(links)


def register(app: typer.Typer) -> None:
    """Add this group's commands to the main app."""
    app.add_typer(cluster_app, name="cluster")
    app.command("cluster-info")(cluster_info)
