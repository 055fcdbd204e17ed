"""CLI of the intel group: ``tags``, ``link``, ``export`` and ``import`` commands."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from chaintrail.cli.common import (
    DEFAULT_STORE,
    JsonOption,
    StoreOption,
    console,
    emit_json,
    err_console,
)
from chaintrail.errors import UsageError

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


def _chain_store(store: Path) -> Any | None:
    try:
        from chaintrail.store import ChainStore

        return ChainStore.open(store)
    except Exception:  # noqa: BLE001 - intel works without a chain store
        return None


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
    bar = Progress(TextColumn("[bold]import"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
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
        err_console.print(f"[yellow]warning:[/] {w}", highlight=False, soft_wrap=True)
    if summary.n_warnings > 10:
        err_console.print(
            f"[yellow]... {summary.n_warnings - 10} more warnings (use --json to see 50)[/]"
        )


def _show_tags(store: Path, ref: str) -> dict[str, Any]:
    from chaintrail.intel.attribution import tags_for_addresses
    from chaintrail.intel.store import IntelStore

    kind, _, value = ref.partition(":")
    if ref.isdigit() or kind == "cluster":
        cluster = int(value if kind == "cluster" else ref)
        return _cluster_tags(store, cluster)
    if kind == "tx":
        with IntelStore.open(store, read_only=True) as st:
            from chaintrail.intel.model import tag_to_public

            return {
                "subject": value,
                "subject_type": "tx",
                "tags": [tag_to_public(r) for r in st.tags_for([value.lower()], "tx")],
            }
    tags = tags_for_addresses(store, [ref]).get(ref, [])
    return {"subject": ref, "subject_type": "address", "tags": tags}


def _cluster_tags(store: Path, cluster: int) -> dict[str, Any]:
    from chaintrail.intel.attribution import tags_for_addresses
    from chaintrail.intel.model import tag_to_public
    from chaintrail.intel.store import IntelStore

    with IntelStore.open(store, read_only=True) as st:
        tags = [tag_to_public(r) for r in st.tags_for([str(cluster)], "cluster")]
    cs = _chain_store(store)
    n_members = 0
    if cs is not None:
        try:
            from chaintrail.analysis.clustering import load_clusters
            from chaintrail.analysis.clusters_table import members

            ids = members(load_clusters(cs).labels, cluster)
            n_members = int(ids.size)
            addrs = [a for a in cs.address_strings(ids) if a]
            for addr, ts in tags_for_addresses(store, addrs).items():
                for t in ts:
                    tags.append({**t, "inherited_from": addr})
        except Exception:  # noqa: BLE001 - no clustering yet: cluster-level tags only
            pass
    actors: dict[str, int] = {}
    for t in tags:
        if t.get("actor"):
            actors[t["actor"]] = actors.get(t["actor"], 0) + 1
    return {"subject": str(cluster), "subject_type": "cluster", "members": n_members, "tags": tags,
            "actors": [{"actor": a, "tags": n} for a, n in sorted(actors.items(), key=lambda kv: -kv[1])],
            "conflicting_actors": len(actors) > 1}  # fmt: skip


@tags_app.command("show")
def tags_show(
    ref: Annotated[
        str, typer.Argument(help="An address, tx:<hash>, a cluster id or cluster:<id>.")
    ],
    store: StoreOption = DEFAULT_STORE,
    json_out: JsonOption = False,
) -> None:
    """Every tag on an address, transaction or cluster (also for addresses not yet on chain)."""
    res = _show_tags(store, ref.strip())
    if json_out:
        emit_json(res)
        return
    if not res["tags"]:
        console.print(f"no tags for {res['subject_type']} {res['subject']}")
        return
    table = Table(title=f"tags of {res['subject_type']} {res['subject']}")
    for col in ("label", "category", "actor", "confidence", "source", "tlp", "pack"):
        table.add_column(col, overflow="fold")
    for t in res["tags"]:
        table.add_row(t["label"], t.get("abuse") or t.get("category") or "", t.get("actor") or "",
                      f"{t['confidence']} ({t['confidence_level']})", t.get("source") or "", t.get("tlp") or "",
                      t.get("pack_id") or "")  # fmt: skip
    console.print(table)
    if res.get("conflicting_actors"):
        console.print(
            f"[yellow]conflicting actors in this cluster:[/] {', '.join(a['actor'] for a in res['actors'])}"
        )


@tags_app.command("sanctioned")
def tags_sanctioned(
    address: Annotated[str, typer.Argument(help="The address to check.")],
    on: Annotated[
        str | None, typer.Option("--on", help="The day to check (YYYY-MM-DD), default today.")
    ] = None,
    store: StoreOption = DEFAULT_STORE,
    json_out: JsonOption = False,
) -> None:
    """Was this address on a sanctions list on that day? (exit 0 either way; see the answer)."""
    from chaintrail.intel.addresscheck import canonical_address
    from chaintrail.intel.store import IntelStore

    day = _date(on, "on") or dt.date.today()
    with IntelStore.open(store, read_only=True) as st:
        hits = st.list_hits(canonical_address(address.strip()), day)
        versions = st.list_versions()
    known = min((v["version"] for v in versions), default=None)
    res = {"address": address, "on": day.isoformat(), "sanctioned": bool(hits),
           "lists": [{k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in h.items()} for h in hits],
           "lists_known_from": known.isoformat() if known else None}  # fmt: skip
    if json_out:
        emit_json(res)
        return
    if hits:
        console.print(f"[bold red]SANCTIONED[/] on {day}: {address}")
        for h in res["lists"]:
            console.print(
                f"  {h['list_id']} (version {h['version']}, listed since {h['listed_since'] or '?'}): {h['label']}"
            )
    else:
        console.print(f"not on any imported sanctions list on {day}: {address}")


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
    from chaintrail.intel.store import IntelStore

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
) -> None:
    """Link two entities, with evidence, time and confidence."""
    from chaintrail.intel.offchain import add_link

    attrs = {}
    for kv in attr or []:
        k, sep, v = kv.partition("=")
        if not sep:
            raise UsageError(f"--attr expects key=value, got {kv!r}")
        attrs[k.strip()] = v.strip()
    link = add_link(store, src, dst, relation=relation, evidence=evidence, observed_at=at, valid_from=valid_from,
                    valid_to=valid_to, confidence=confidence, tlp=tlp, note=note, dst_name=name, dst_attrs=attrs or None)  # fmt: skip
    if json_out:
        emit_json(link)
    else:
        console.print(
            f"linked {link['src']} -[{link['relation']}]-> {link['dst']} (confidence {link['confidence']})"
        )


@link_app.command("show")
def link_show(
    ref: Annotated[str, typer.Argument(help="Address or kind:value.")],
    depth: Annotated[int, typer.Option("--depth", min=1, max=6, help="How many links out.")] = 2,
    store: StoreOption = DEFAULT_STORE,
    json_out: JsonOption = False,
) -> None:
    """Everything within DEPTH links of an entity (default 2)."""
    from chaintrail.intel.offchain import neighbourhood

    res = neighbourhood(store, ref, depth)
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
            f"  {lk['src']} -[{lk['relation']}]-> {lk['dst']}  {when}  conf {lk['confidence']}  {lk.get('evidence') or ''}",
            markup=False,
        )


def _write_atomic(out: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(
        dir=out.parent if str(out.parent) else ".", prefix=f".{out.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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


def _export(fmt: str, store: Path, address: list[str] | None, cluster: list[int] | None, tx: list[str] | None, out: Path,
            json_out: bool) -> None:  # fmt: skip
    from chaintrail.intel.bundle import select_bundle

    b = select_bundle(
        store,
        addresses=address,
        clusters=cluster,
        txs=tx,
        chain_store=_chain_store(store) if (cluster or tx) else None,
    )
    if fmt == "stix":
        from chaintrail.intel.stix import bundle_to_stix

        _write_atomic(out, bundle_to_stix(b))
    elif fmt == "misp":
        from chaintrail.intel.misp import bundle_to_misp

        _write_atomic(out, bundle_to_misp(b))
    else:
        from chaintrail.intel.csvio import write_tags_csv

        write_tags_csv(b.tags, out)
    counts = b.counts()
    if json_out:
        emit_json({"format": fmt, "out": str(out), **counts})
    else:
        console.print(f"wrote {fmt} {out}: " + ", ".join(f"{v} {k}" for k, v in counts.items()))


@export_app.command("stix")
def export_stix(store: StoreOption = DEFAULT_STORE, address: SelAddress = None, cluster: SelCluster = None,
                tx: SelTx = None, out: OutOption = Path("chaintrail-stix.json"), json_out: JsonOption = False) -> None:  # fmt: skip
    """STIX 2.1 bundle of the selected (default: all) tags, wallets, transactions and links."""
    _export("stix", store, address, cluster, tx, out, json_out)


@export_app.command("misp")
def export_misp(store: StoreOption = DEFAULT_STORE, address: SelAddress = None, cluster: SelCluster = None,
                tx: SelTx = None, out: OutOption = Path("chaintrail-misp.json"), json_out: JsonOption = False) -> None:  # fmt: skip
    """MISP event (coin-address, btc-wallet, btc-transaction objects) of the selection."""
    _export("misp", store, address, cluster, tx, out, json_out)


@export_app.command("csv")
def export_csv(store: StoreOption = DEFAULT_STORE, address: SelAddress = None, cluster: SelCluster = None,
               tx: SelTx = None, out: OutOption = Path("chaintrail-tags.csv"), json_out: JsonOption = False) -> None:  # fmt: skip
    """CSV of the selected tags."""
    _export("csv", store, address, cluster, tx, out, json_out)


def _import(fmt: str, file: Path, store: Path, json_out: bool) -> None:
    from chaintrail.errors import InputError
    from chaintrail.intel.bundle import store_bundle

    if not file.is_file():
        raise InputError("no such file", source=str(file))
    if fmt == "csv":
        from chaintrail.intel.importer import import_paths

        s = import_paths(store, [file])
        counts = {"tags": s.tags, "list_entries": s.list_entries}
    else:
        text = file.read_text(encoding="utf-8")
        if fmt == "stix":
            from chaintrail.intel.stix import stix_to_bundle

            b = stix_to_bundle(text, str(file))
        else:
            from chaintrail.intel.misp import misp_to_bundle

            b = misp_to_bundle(text, str(file))
        counts = store_bundle(store, b, fmt=fmt, source_name=file.name)
    if json_out:
        emit_json({"format": fmt, "file": str(file), **counts})
    else:
        console.print(f"imported {fmt} {file}: " + ", ".join(f"{v} {k}" for k, v in counts.items()))


@import_app.command("stix")
def import_stix(
    file: Annotated[Path, typer.Argument()],
    store: StoreOption = DEFAULT_STORE,
    json_out: JsonOption = False,
) -> None:
    """Import a STIX 2.1 bundle (re-importing the same file replaces its earlier import)."""
    _import("stix", file, store, json_out)


@import_app.command("misp")
def import_misp(
    file: Annotated[Path, typer.Argument()],
    store: StoreOption = DEFAULT_STORE,
    json_out: JsonOption = False,
) -> None:
    """Import a MISP event JSON."""
    _import("misp", file, store, json_out)


@import_app.command("csv")
def import_csv(
    file: Annotated[Path, typer.Argument()],
    store: StoreOption = DEFAULT_STORE,
    json_out: JsonOption = False,
) -> None:
    """Import a tag CSV (or a sanctions CSV)."""
    _import("csv", file, store, json_out)


def register(app: typer.Typer) -> None:
    """Add the tags, link, export and import groups to the main app."""
    app.add_typer(tags_app, name="tags")
    app.add_typer(link_app, name="link")
    app.add_typer(export_app, name="export")
    app.add_typer(import_app, name="import")
