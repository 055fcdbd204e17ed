"""``chaintrail hub case ...`` and ``chaintrail hub share ...``: cases, items and sharing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from chaintrail.atomicfile import write_text_atomic
from chaintrail.cli.common import (
    DEFAULT_STORE,
    JsonOption,
    StoreOption,
    console,
    emit_json,
    err_console,
    styled,
)
from chaintrail.cli.hubcommon import AsOption, DbOption, hub_as
from chaintrail.errors import InputError, UsageError
from chaintrail.hub import attachments, cases, shares
from chaintrail.hub.cluster_view import cluster_snapshot, live_view
from chaintrail.hub.export import export_case
from chaintrail.hub.policy import View
from chaintrail.hub.service import perform

case_app = typer.Typer(help="Cases and what is filed in them.", no_args_is_help=True)
share_app = typer.Typer(help="Share a case or an item under its TLP marking.", no_args_is_help=True)
CaseArg = Annotated[int, typer.Argument(help="The case id.", min=1)]
TlpOption = Annotated[
    str | None,
    typer.Option("--tlp", help="CLEAR, GREEN, AMBER, AMBER+STRICT or RED (default: the case's)."),
]


def _act(store: Path, db: str | None, as_user: str | None, fn, *args, **kw):  # type: ignore[no-untyped-def]
    hub, who = hub_as(store, db, as_user)
    try:
        return perform(hub, who, fn, *args, **kw)
    finally:
        hub.close()


def _item_line(item: dict[str, Any]) -> str:
    return f"item {item['id']} ({item['kind']}, TLP:{item['tlp']}) filed into case {item['case_id']}: {item['title']}"


@case_app.command("open")
def case_open(
    title: Annotated[str, typer.Argument(help="What the case is about.")],
    tlp: Annotated[str, typer.Option("--tlp", help="Default marking of its items.")] = "AMBER",
    member: Annotated[list[str] | None, typer.Option("--member", help="A colleague working it (repeatable).")] = None,
    store: StoreOption = DEFAULT_STORE, db: DbOption = None, as_user: AsOption = None, json_out: JsonOption = False,
) -> None:  # fmt: skip
    """Open a case owned by your organisation."""
    case = _act(
        store,
        db,
        as_user,
        lambda s, who: cases.case_json(s, cases.create_case(s, who, title, tlp, member), View.FULL),
    )
    emit_json(case) if json_out else err_console.print(
        f"case {case['id']} opened: {case['title']} (TLP:{case['tlp']})"
    )


@case_app.command("list")
def case_list(
    store: StoreOption = DEFAULT_STORE,
    db: DbOption = None,
    as_user: AsOption = None,
    json_out: JsonOption = False,
) -> None:
    """Cases of your organisation and those shared with you."""
    rows = _act(store, db, as_user, cases.list_cases)
    if json_out:
        emit_json(rows)
        return
    table = Table("id", "title", "status", "TLP", "owner", "items", "view")
    for c in rows:
        table.add_row(
            str(c["id"]),
            c["title"],
            c["status"],
            c["tlp"],
            c["owner_org"] or "",
            str(c["item_count"]),
            c["view"],
        )
    console.print(table)


@case_app.command("show")
def case_show(
    case_id: CaseArg,
    store: StoreOption = DEFAULT_STORE,
    db: DbOption = None,
    as_user: AsOption = None,
    json_out: JsonOption = False,
) -> None:
    """A case with every item you may see."""
    case = _act(store, db, as_user, cases.read_case, case_id)
    if json_out:
        emit_json(case)
        return
    console.print(
        styled(f"case {case['id']}:", "bold"), case["title"],
        f"({case['status']}, TLP:{case['tlp']}, {case['owner_org']}, view {case['view']})",
    )  # fmt: skip
    table = Table("id", "kind", "TLP", "title", "filed by", "at", "via")
    for it in case["items"]:
        p = it["provenance"]
        table.add_row(
            str(it["id"]),
            it["kind"],
            it["tlp"],
            it["title"],
            f"{p.get('user') or '-'} ({p['org']})",
            p["at"][:19],
            p["via"],
        )
    console.print(table)


@case_app.command("set")
def case_set(
    case_id: CaseArg,
    status: Annotated[str | None, typer.Option(help="open, active, suspended or closed.")] = None,
    title: Annotated[str | None, typer.Option(help="A new title.")] = None,
    tlp: Annotated[str | None, typer.Option("--tlp", help="A new default marking.")] = None,
    store: StoreOption = DEFAULT_STORE, db: DbOption = None, as_user: AsOption = None, json_out: JsonOption = False,
) -> None:  # fmt: skip
    """Change a case's status, title or default marking."""
    if status is None and title is None and tlp is None:
        raise UsageError("case set needs --status, --title or --tlp")
    case = _act(
        store,
        db,
        as_user,
        lambda s, who: cases.case_json(
            s, cases.update_case(s, who, case_id, title=title, status=status, tlp=tlp), View.FULL
        ),
    )
    emit_json(case) if json_out else err_console.print(
        f"case {case['id']}: {case['title']} ({case['status']}, TLP:{case['tlp']})"
    )


@case_app.command("members")
def case_members(
    case_id: CaseArg, users: Annotated[list[str], typer.Argument(help="Users of your organisation.")],
    store: StoreOption = DEFAULT_STORE, db: DbOption = None, as_user: AsOption = None,
) -> None:  # fmt: skip
    """Add colleagues to a case (they see its TLP:RED items)."""
    members = _act(store, db, as_user, cases.add_members, case_id, users)
    err_console.print(f"case {case_id} members: {', '.join(members)}")


def _add(
    store: Path,
    db: str | None,
    as_user: str | None,
    case_id: int,
    kind: str,
    payload: dict[str, Any],
    tlp: str | None,
    via: str,
) -> dict[str, Any]:
    return _act(
        store,
        db,
        as_user,
        lambda s, who: cases.item_json(
            s, cases.add_item(s, who, case_id, kind, payload, tlp=tlp, via=via), View.FULL
        ),
    )


@case_app.command("add")
def case_add(
    case_id: CaseArg,
    kind: Annotated[str, typer.Argument(help="address, tx, cluster, note, tag, entity or link.")],
    value: Annotated[str, typer.Argument(help="The address, txid, cluster id, note text ('-': stdin), or JSON payload (tag, entity, link).")],
    tlp: TlpOption = None,
    store: StoreOption = DEFAULT_STORE, db: DbOption = None, as_user: AsOption = None, json_out: JsonOption = False,
) -> None:  # fmt: skip
    """File an address, transaction, cluster snapshot, note, tag, entity or link into a case."""
    payload: dict[str, Any]
    if kind == "address":
        payload = {"address": value}
    elif kind == "tx":
        payload = {"txid": value}
    elif kind == "cluster":
        payload = cluster_snapshot(store, value)
    elif kind == "note":
        payload = {"markdown": typer.get_text_stream("stdin").read() if value == "-" else value}
    elif kind in ("tag", "entity", "link"):
        try:
            payload = json.loads(value)
        except ValueError as exc:
            raise InputError(f"expected a JSON object ({exc})", source="VALUE") from exc
    else:
        raise UsageError(
            f"kind {kind!r}: expected address, tx, cluster, note, tag, entity or link (files: case attach)"
        )
    item = _add(store, db, as_user, case_id, kind, payload, tlp, f"cli:hub case add {kind}")
    emit_json(item) if json_out else err_console.print(_item_line(item))


@case_app.command("attach")
def case_attach(
    case_id: CaseArg, file: Annotated[Path, typer.Argument(help="The file to attach.")], tlp: TlpOption = None,
    store: StoreOption = DEFAULT_STORE, db: DbOption = None, as_user: AsOption = None, json_out: JsonOption = False,
) -> None:  # fmt: skip
    """Attach a file (kept once by its SHA-256; limit set at hub init)."""
    if not file.is_file():
        raise InputError("not a readable file", source=str(file))
    hub, who = hub_as(store, db, as_user)
    try:
        item = attachments.attach(
            hub,
            who,
            case_id,
            file.name,
            attachments.file_chunks(file),
            tlp=tlp,
            via="cli:hub case attach",
        )
        with hub.transaction() as s:
            out = cases.item_json(s, item, View.FULL)
    finally:
        hub.close()
    emit_json(out) if json_out else err_console.print(_item_line(out))


@case_app.command("item")
def case_item(
    item_id: Annotated[int, typer.Argument(help="The item id.", min=1)],
    save: Annotated[Path | None, typer.Option("--save", help="Write an attachment's file here.")] = None,
    live: Annotated[bool, typer.Option("--live", help="Cluster items: where the snapshot's addresses are now.")] = False,
    store: StoreOption = DEFAULT_STORE, db: DbOption = None, as_user: AsOption = None, json_out: JsonOption = False,
) -> None:  # fmt: skip
    """Show one item (with --save, write an attachment's content to a file)."""
    hub, who = hub_as(store, db, as_user)
    try:
        item = perform(hub, who, cases.read_item, item_id)
        if live and item["kind"] == "cluster":
            item["live"] = live_view(store, item["payload"])
        if save is not None:
            path, _ = perform(hub, who, attachments.open_content, hub, item_id)
            save.write_bytes(path.read_bytes())
            err_console.print(f"wrote {save}")
    finally:
        hub.close()
    if json_out or save is None:
        emit_json(item)


@case_app.command("search")
def case_search(
    query: Annotated[str, typer.Argument(help="An address, txid or words of a title.")],
    store: StoreOption = DEFAULT_STORE, db: DbOption = None, as_user: AsOption = None, json_out: JsonOption = False,
) -> None:  # fmt: skip
    """Items you may see about an address or tx (or whose title contains the words)."""
    items = _act(store, db, as_user, cases.search, query)
    if json_out:
        emit_json(items)
        return
    table = Table("item", "case", "kind", "TLP", "title", "organisation")
    for it in items:
        table.add_row(
            str(it["id"]),
            str(it["case_id"]),
            it["kind"],
            it["tlp"],
            it["title"],
            it["provenance"]["org"] or "",
        )
    console.print(table)


@case_app.command("export")
def case_export(
    case_id: CaseArg,
    fmt: Annotated[str, typer.Option("--format", help="stix or misp.")] = "stix",
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file (default stdout).")] = None,
    store: StoreOption = DEFAULT_STORE, db: DbOption = None, as_user: AsOption = None,
) -> None:  # fmt: skip
    """The items you may see as a STIX 2.1 bundle or MISP event, markings kept."""
    text = _act(store, db, as_user, export_case, case_id, fmt)
    if out is None:
        typer.echo(text, nl=False)
        return
    write_text_atomic(out, text)
    err_console.print(f"wrote {out}")


def _target(user: str | None, org: str | None, group: str | None) -> tuple[str, str]:
    given = [(k, v) for k, v in (("user", user), ("org", org), ("group", group)) if v]
    if len(given) != 1:
        raise UsageError("name exactly one recipient: --user, --org or --group")
    return given[0]


RecipientUser = Annotated[str | None, typer.Option("--user", help="A named person.")]
RecipientOrg = Annotated[str | None, typer.Option("--org", help="An organisation.")]
RecipientGroup = Annotated[str | None, typer.Option("--group", help="A sharing group.")]
Redacted = Annotated[
    bool,
    typer.Option("--redacted", help="Share a redacted view (no off-chain detail, no sources)."),
]


def _share(
    store: Path,
    db: str | None,
    as_user: str | None,
    what: str,
    object_id: int,
    target: tuple[str, str],
    redacted: bool,
    json_out: bool,
) -> None:
    ids = {"case_id": object_id} if what == "case" else {"item_id": object_id}
    kind, name = target
    sh = _act(
        store,
        db,
        as_user,
        lambda s, who: shares.share_json(
            s, shares.create_share(s, who, kind, name, redacted=redacted, **ids)
        ),
    )
    emit_json(sh) if json_out else err_console.print(
        f"share {sh['id']}: {what} {object_id} -> {kind} {sh['target']}{' (redacted)' if redacted else ''}"
    )


@share_app.command("case")
def share_case(
    case_id: CaseArg, user: RecipientUser = None, org: RecipientOrg = None, group: RecipientGroup = None, redacted: Redacted = False,
    store: StoreOption = DEFAULT_STORE, db: DbOption = None, as_user: AsOption = None, json_out: JsonOption = False,
) -> None:  # fmt: skip
    """Share a case (each item within its own marking) with a person, an organisation or a group."""
    _share(store, db, as_user, "case", case_id, _target(user, org, group), redacted, json_out)


@share_app.command("item")
def share_item(
    item_id: Annotated[int, typer.Argument(help="The item id.", min=1)], user: RecipientUser = None, org: RecipientOrg = None,
    group: RecipientGroup = None, redacted: Redacted = False,
    store: StoreOption = DEFAULT_STORE, db: DbOption = None, as_user: AsOption = None, json_out: JsonOption = False,
) -> None:  # fmt: skip
    """Share one item with a person, an organisation or a group, as its marking allows."""
    _share(store, db, as_user, "item", item_id, _target(user, org, group), redacted, json_out)


@share_app.command("list")
def share_list(
    store: StoreOption = DEFAULT_STORE,
    db: DbOption = None,
    as_user: AsOption = None,
    json_out: JsonOption = False,
) -> None:
    """Shares your organisation made or owns."""
    rows = _act(store, db, as_user, shares.list_shares)
    if json_out:
        emit_json(rows)
        return
    table = Table("id", "case", "item", "to", "redacted", "revoked")
    for r in rows:
        table.add_row(
            str(r["id"]),
            str(r["case_id"]),
            str(r["item_id"] or ""),
            f"{r['target_kind']} {r['target']}",
            "yes" if r["redacted"] else "",
            "yes" if r["revoked"] else "",
        )
    console.print(table)


@share_app.command("revoke")
def share_revoke(
    share_id: Annotated[int, typer.Argument(help="The share id.", min=1)],
    store: StoreOption = DEFAULT_STORE, db: DbOption = None, as_user: AsOption = None,
) -> None:  # fmt: skip
    """Close a share."""
    _act(store, db, as_user, shares.revoke_share, share_id)
    err_console.print(f"share {share_id} revoked")


def register(hub_app: typer.Typer) -> None:
    """Add ``case`` and ``share`` to the hub group."""
    hub_app.add_typer(case_app, name="case")
    hub_app.add_typer(share_app, name="share")
