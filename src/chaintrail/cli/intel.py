"""CLI of the intel group: ``tags``, ``link``, ``export`` and ``import`` commands."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from chaintrail.cli.common import (
    DEFAULT_STORE,
    ForceOption,
    JsonOption,
    StoreOption,
    console,
    emit_json,
    err_console,
    styled,
)
from chaintrail.cli.hubcommon import AsOption, CaseOption, check_case_writable, file_into_case
from chaintrail.errors import UsageError
from chaintrail.limits import MAX_LINK_DEPTH

tags_app = typer.Typer(help="Attribution tags: import TagPacks/ActorPacks/sanctions lists, show, check sanctions.",
                       no_args_is_help=True)  # fmt: skip
link_app = typer.Typer(help="Off-chain intelligence: links between wallets, persons, IPs, phones, accounts.",
                       no_args_is_help=True)  # fmt: skip
export_app = typer.Typer(help="Export intelligence as STIX 2.1, MISP or CSV.", no_args_is_help=True)
import_app = typer.Typer(
    help="Import intelligence from STIX 2.1, MISP or CSV.", no_args_is_help=True
)


def _date(value: str | None, name: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise UsageError(f"--{name}: expected a date YYYY-MM-DD, got {value!r}") from exc


def _warn(warnings: list[str]) -> None:
    """Print each warning of an answer in yellow on stderr."""
    for w in warnings:
        err_console.print(styled("warning:", "yellow"), w, soft_wrap=True)


@tags_app.command("import")
def tags_import(
    paths: Annotated[
        list[Path],
        typer.Argument(help="TagPack/ActorPack files or folders, OFAC list folders/files, CSVs."),
    ],
    store: StoreOption = DEFAULT_STORE,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Version date of imported lists (YYYY-MM-DD).")
    ] = None,
    tlp: Annotated[
        str | None, typer.Option("--tlp", help="TLP 2.0 marking for the imported tags.")
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Validate and import attribution data (atomic: a bad file imports nothing)."""
    from chaintrail.intel.importer import collect, import_paths

    total = len(collect(list(paths)))
    bar = Progress(TextColumn("import", style="bold", markup=False), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}", markup=False),
                   TimeElapsedColumn(), console=err_console, disable=json_out or not err_console.is_terminal)  # fmt: skip
    with bar:
        task = bar.add_task("", total=total)
        summary = import_paths(store, list(paths), as_of=_date(as_of, "as-of"), tlp=tlp,
                               progress=lambda name, done: bar.update(task, advance=done, description=name))  # fmt: skip
    if json_out:
        emit_json(summary.to_json())
        return
    console.print(
        f"imported {summary.tags:,} tags from {summary.tagpacks} TagPacks, {summary.actors:,} actors from "
        f"{summary.actorpacks} ActorPacks, {summary.list_entries:,} entries from {summary.lists} lists, "
        f"{summary.csv_files} CSVs; {summary.duplicates} duplicates dropped, {summary.n_warnings} warnings"
    )
    for w in summary.warnings[:10]:
        err_console.print(styled("warning:", "yellow"), w, soft_wrap=True)
    if summary.n_warnings > 10:
        err_console.print(
            styled(f"... {summary.n_warnings - 10} more warnings (use --json to see 50)", "yellow")
        )


@tags_app.command("show")
def tags_show(
    ref: Annotated[
        str, typer.Argument(help="An address, tx:<hash>, a cluster id or cluster:<id>.")
    ],
    store: StoreOption = DEFAULT_STORE,
    json_out: JsonOption = False,
) -> None:
    """Every tag on an address, transaction or cluster (also for addresses not yet on chain)."""
    from chaintrail.intel.views import subject_tags

    res = subject_tags(store, ref.strip())
    if json_out:
        emit_json(res)
        return
    if not res["tags"]:
        console.print(f"no tags for {res['subject_type']} {res['subject']}")
        _warn(res["warnings"])
        return
    on_cluster = res["subject_type"] == "cluster"
    rows: dict[tuple[str, ...], int] = {}  # the same tag stated again (re-imports, packs) is one row
    for t in res["tags"]:
        row = (t["label"], t.get("abuse") or t.get("category") or "", t.get("actor") or "",
               f"{t['confidence']} ({t['confidence_level']})", t.get("source") or "", t.get("tlp") or "",
               t.get("pack_id") or "")  # fmt: skip
        if on_cluster:
            row = (t.get("inherited_from") or "(the cluster)", *row)
        rows[row] = rows.get(row, 0) + 1
    table = Table(title=f"tags of {res['subject_type']} {res['subject']}")
    cols = ["label", "category", "actor", "confidence", "source", "tlp", "pack", "times"]
    for col in (["on address", *cols] if on_cluster else cols):
        table.add_column(col, overflow="fold", justify="right" if col == "times" else "left")
    for row, n in rows.items():
        table.add_row(*row, str(n))
    console.print(table)
    if res.get("conflicting_actors"):
        console.print(
            styled("conflicting actors in this cluster:", "yellow"), ", ".join(a["actor"] for a in res["actors"])
        )


@tags_app.command("sanctioned")
def tags_sanctioned(
    address: Annotated[str, typer.Argument(help="The address to check.")],
    on: Annotated[
        str | None, typer.Option("--on", help="The day to check (YYYY-MM-DD), default today.")
    ] = None,
    currency: Annotated[
        str, typer.Option("--currency", help="Currency of the address (BTC, ETH, LTC ...).")
    ] = "BTC",
    store: StoreOption = DEFAULT_STORE,
    json_out: JsonOption = False,
) -> None:
    """Was this address on an imported sanctions list on that day? Exit 0 either way (see the
    answer); an error when no list is imported or the address is invalid."""
    from chaintrail.intel.sanctions import sanctions_check

    day = _date(on, "on") or dt.date.today()
    res = sanctions_check(store, address.strip(), day, currency)
    if json_out:
        emit_json(res)
        return
    if res["sanctioned"]:
        console.print(styled("SANCTIONED", "bold red"), f"on {day}: {address}")
        for h in res["lists"]:
            console.print(
                f"  {h['list_id']} (version {h['version']}, listed since {h['listed_since'] or '?'}): {h['label']}"
            )
    else:
        console.print(f"not on any imported sanctions list on {day}: {address}")
    _warn(res["warnings"])


@tags_app.command("add")
def tags_add(
    subject: Annotated[str, typer.Argument(help="Address, tx:<hash> or cluster:<id>.")],
    label: Annotated[str, typer.Option("--label", help="What the subject is.")],
    category: Annotated[
        str | None, typer.Option("--category", help="Entity concept (exchange, market ...).")
    ] = None,
    abuse: Annotated[
        str | None, typer.Option("--abuse", help="Abuse concept (ransomware, scam ...).")
    ] = None,
    actor: Annotated[str | None, typer.Option("--actor")] = None,
    confidence: Annotated[str, typer.Option("--confidence")] = "forensic_investigation",
    source: Annotated[str, typer.Option("--source", help="Evidence or URL.")] = "analyst",
    tlp: Annotated[str | None, typer.Option("--tlp")] = None,
    cluster_definer: Annotated[
        bool, typer.Option("--cluster-definer", help="The tag names the whole cluster.")
    ] = False,
    store: StoreOption = DEFAULT_STORE,
    json_out: JsonOption = False,
) -> None:
    """Add an analyst's tag."""
    from chaintrail.intel.attribution import add_tag

    kind, _, value = subject.partition(":")
    stype, subj = (kind, value) if kind in ("tx", "cluster") else ("address", subject)
    tag = add_tag(store, subj, label, category, subject_type=stype, abuse=abuse, actor=actor, confidence=confidence,
                  source=source, tlp=tlp, is_cluster_definer=cluster_definer, creator=os.environ.get("USER"))  # fmt: skip
    if json_out:
        emit_json(tag)
    else:
        console.print(f"tagged {stype} {subj}: {label}")


@tags_app.command("packs")
def tags_packs(store: StoreOption = DEFAULT_STORE, json_out: JsonOption = False) -> None:
    """Imported packs and lists with their counts."""
    from chaintrail.intel.coverage import require_store
    from chaintrail.intel.store import IntelStore

    require_store(store)
    with IntelStore.open(store, read_only=True) as st:
        rows = [
            {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()}
            for r in st.packs()
        ]
    if json_out:
        emit_json({"packs": rows})
        return
    table = Table(title="imported packs")
    for col in ("pack_id", "kind", "title", "n_items", "n_warnings", "imported_at"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(
            *(
                str(r[c])
                for c in ("pack_id", "kind", "title", "n_items", "n_warnings", "imported_at")
            )
        )
    console.print(table)


@link_app.command("add")
def link_add(
    src: Annotated[
        str,
        typer.Argument(
            help="From: address, or kind:value (person:, org:, ip:, phone:, email:, social:, account:, tx:, cluster:)."
        ),
    ],
    dst: Annotated[str, typer.Argument(help="To: same forms as SRC.")],
    relation: Annotated[
        str, typer.Option("--relation", help="e.g. owned-by, logged-in-from, deposits-to.")
    ] = "related-to",
    evidence: Annotated[
        str | None,
        typer.Option("--evidence", "--source", help="Evidence source (subpoena no., log, URL)."),
    ] = None,
    at: Annotated[str | None, typer.Option("--at", help="When observed (ISO date/time).")] = None,
    valid_from: Annotated[
        str | None, typer.Option("--from", help="Start of validity (e.g. IP in use from).")
    ] = None,
    valid_to: Annotated[str | None, typer.Option("--until", help="End of validity.")] = None,
    confidence: Annotated[
        str, typer.Option("--confidence", help="0-100 or a confidence name.")
    ] = "50",
    tlp: Annotated[str | None, typer.Option("--tlp")] = None,
    note: Annotated[str | None, typer.Option("--note")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Display name of DST.")] = None,
    attr: Annotated[
        list[str] | None,
        typer.Option("--attr", help="key=value attribute of DST (e.g. KYC fields)."),
    ] = None,
    store: StoreOption = DEFAULT_STORE,
    json_out: JsonOption = False,
    case: CaseOption = None,
    as_user: AsOption = None,
) -> None:
    """Link two entities, with evidence, time and confidence."""
    from chaintrail.intel.offchain import add_link

    if case is not None:  # before storing the link: a case we could not file into fails now
        check_case_writable(store, case, as_user)
    attrs = {}
    for kv in attr or []:
        k, sep, v = kv.partition("=")
        if not sep:
            raise UsageError(f"--attr expects key=value, got {kv!r}")
        attrs[k.strip()] = v.strip()
    link = add_link(store, src, dst, relation=relation, evidence=evidence, observed_at=at, valid_from=valid_from,
                    valid_to=valid_to, confidence=confidence, tlp=tlp, note=note, dst_name=name, dst_attrs=attrs or None)  # fmt: skip
    if case is not None:
        item_id = file_into_case(store, case, as_user, "link", link, "cli:link add", tlp=tlp)
        err_console.print(f"link filed into case {case} as item {item_id}")
    if json_out:
        emit_json(link)
    else:
        console.print(
            f"linked {link['src']} -[{link['relation']}]-> {link['dst']} (confidence {link['confidence']})"
        )


@link_app.command("show")
def link_show(
    ref: Annotated[str, typer.Argument(help="Address or kind:value.")],
    depth: Annotated[
        int, typer.Option("--depth", min=1, max=MAX_LINK_DEPTH, help="How many links out.")
    ] = 2,
    store: StoreOption = DEFAULT_STORE,
    json_out: JsonOption = False,
) -> None:
    """Everything within DEPTH links of an entity (default 2)."""
    from chaintrail.intel.coverage import require_store
    from chaintrail.intel.offchain import neighbourhood

    res = neighbourhood(require_store(store), ref, depth)
    if json_out:
        emit_json(res)
        return
    table = Table(title=f"within {depth} links of {res['root']}")
    for col in ("distance", "entity", "name", "attributes"):
        table.add_column(col, overflow="fold")
    for e in res["entities"]:
        table.add_row(
            str(e["distance"]),
            e["id"],
            e.get("name") or "",
            ", ".join(f"{k}={v}" for k, v in e["attrs"].items()),
        )
    console.print(table)
    for lk in res["links"]:
        when = lk.get("observed_at") or lk.get("valid_from") or ""
        console.print(
            f"  {lk['src']} -[{lk['relation']}]-> {lk['dst']}  {when}  conf {lk['confidence']}  {lk.get('evidence') or ''}"
        )


SelAddress = Annotated[
    list[str] | None, typer.Option("--address", help="Export this address (repeatable).")
]
SelCluster = Annotated[
    list[int] | None, typer.Option("--cluster", help="Export this cluster (repeatable).")
]
SelTx = Annotated[
    list[str] | None, typer.Option("--tx", help="Export this transaction (repeatable).")
]
OutOption = Annotated[Path, typer.Option("--out", help="Output file.")]


def _export_cmd(fmt: str, store: Path, address: list[str] | None, cluster: list[int] | None, tx: list[str] | None,
                out: Path, force: bool, json_out: bool) -> None:  # fmt: skip
    from chaintrail.intel.exchange import export_file

    counts = export_file(fmt, store, out, address=address, cluster=cluster, tx=tx, force=force)
    if json_out:
        emit_json({"format": fmt, "out": str(out), **counts})
    else:
        console.print(f"wrote {fmt} {out}: " + ", ".join(f"{v} {k}" for k, v in counts.items()))


def _import_cmd(fmt: str, file: Path, store: Path, json_out: bool) -> None:
    from chaintrail.intel.exchange import import_file

    counts = import_file(fmt, file, store)
    if json_out:
        emit_json({"format": fmt, "file": str(file), **counts})
    else:
        skipped = counts.pop("skipped_types", {})
        counts.pop("skipped_objects", None)
        console.print(f"imported {fmt} {file}: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
        if skipped:
            kinds = ", ".join(f"{n} {t}" for t, n in skipped.items())
            err_console.print(styled("skipped objects chaintrail does not store:", "yellow"), kinds)


@export_app.command("stix")
def export_stix(store: StoreOption = DEFAULT_STORE, address: SelAddress = None, cluster: SelCluster = None,
                tx: SelTx = None, out: OutOption = Path("chaintrail-stix.json"), force: ForceOption = False,
                json_out: JsonOption = False) -> None:  # fmt: skip
    """STIX 2.1 bundle of the selected (default: all) tags, wallets, transactions and links."""
    _export_cmd("stix", store, address, cluster, tx, out, force, json_out)


@export_app.command("misp")
def export_misp(store: StoreOption = DEFAULT_STORE, address: SelAddress = None, cluster: SelCluster = None,
                tx: SelTx = None, out: OutOption = Path("chaintrail-misp.json"), force: ForceOption = False,
                json_out: JsonOption = False) -> None:  # fmt: skip
    """MISP event (coin-address, btc-wallet, btc-transaction objects) of the selection."""
    _export_cmd("misp", store, address, cluster, tx, out, force, json_out)


@export_app.command("csv")
def export_csv(store: StoreOption = DEFAULT_STORE, address: SelAddress = None, cluster: SelCluster = None,
               tx: SelTx = None, out: OutOption = Path("chaintrail-tags.csv"), force: ForceOption = False,
               json_out: JsonOption = False) -> None:  # fmt: skip
    """CSV of the selected tags."""
    _export_cmd("csv", store, address, cluster, tx, out, force, json_out)


@import_app.command("stix")
def import_stix(
    file: Annotated[Path, typer.Argument()],
    store: StoreOption = DEFAULT_STORE,
    json_out: JsonOption = False,
) -> None:
    """Import a STIX 2.1 bundle (re-importing the same file replaces its earlier import)."""
    _import_cmd("stix", file, store, json_out)


@import_app.command("misp")
def import_misp(
    file: Annotated[Path, typer.Argument()],
    store: StoreOption = DEFAULT_STORE,
    json_out: JsonOption = False,
) -> None:
    """Import a MISP event JSON."""
    _import_cmd("misp", file, store, json_out)


@import_app.command("csv")
def import_csv(
    file: Annotated[Path, typer.Argument()],
    store: StoreOption = DEFAULT_STORE,
    json_out: JsonOption = False,
) -> None:
    """Import a tag CSV (or a sanctions CSV)."""
    _import_cmd("csv", file, store, json_out)


def register(app: typer.Typer) -> None:
    """Add the tags, link, export and import groups to the main app."""
    app.add_typer(tags_app, name="tags")
    app.add_typer(link_app, name="link")
    app.add_typer(export_app, name="export")
    app.add_typer(import_app, name="import")
