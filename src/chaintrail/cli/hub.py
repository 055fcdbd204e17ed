"""``chaintrail hub``: init, migrate, org, group, user (cases and shares: :mod:`cli.hub_cases`)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from chaintrail.api.keys import KeyStore
from chaintrail.cli import hub_cases, hub_taxii
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
from chaintrail.errors import UsageError
from chaintrail.hub import directory as d
from chaintrail.hub.credentials import LegacyKey
from chaintrail.hub.db import open_hub, redact_url, upgrade
from chaintrail.hub.principal import ORG_KINDS, ROLES, Principal
from chaintrail.hub.service import perform
from chaintrail.hub.setup import init_hub

hub_app = typer.Typer(
    help="The cooperation hub: organisations, users, cases, TLP sharing (docs/HUB.md).",
    no_args_is_help=True,
)
org_app = typer.Typer(help="Member agencies and obliged entities.", no_args_is_help=True)
group_app = typer.Typer(help="Sharing groups of organisations.", no_args_is_help=True)
user_app = typer.Typer(help="Users, roles and their API keys.", no_args_is_help=True)


def _legacy(store: object) -> list[LegacyKey]:
    return [
        LegacyKey(r.id, r.role, r.name, r.sha256, r.created, r.rate_limit, r.revoked)
        for r in KeyStore(store).load()
    ]  # type: ignore[arg-type]


@hub_app.command("init")
def hub_init(
    store: StoreOption = DEFAULT_STORE,
    db: DbOption = None,
    org: Annotated[str, typer.Option(help="Name of this instance's own organisation.")] = "local",
    country: Annotated[str, typer.Option(help="Its ISO 3166 country (ZZ: unspecified).")] = "ZZ",
    kind: Annotated[str, typer.Option(help=f"Its kind: {', '.join(ORG_KINDS)}.")] = "police",
    max_attachment: Annotated[
        int | None,
        typer.Option(
            "--max-attachment", help="Attachment size limit in bytes (default 100 MiB).", min=1
        ),
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Create the hub database (or bring it up to date), the home organisation and its user
    ``local``, and import the keys of ``chaintrail apikey``."""
    report = init_hub(
        store,
        db,
        org=org,
        country=country,
        kind=kind,
        legacy_keys=_legacy(store),
        max_attachment_bytes=max_attachment,
    )
    if json_out:
        emit_json({"db": redact_url(report.url), "revision": report.revision_after, "home_org": report.home_org,
                   "created": report.created, "keys_imported": report.keys_imported})  # fmt: skip
        return
    what = "created" if report.created else "already set up; up to date"
    err_console.print(f"hub {what} at {redact_url(report.url)} (revision {report.revision_after}); "
                      f"home organisation {report.home_org!r}, user 'local'; {report.keys_imported} API key(s) imported")  # fmt: skip


@hub_app.command("migrate")
def hub_migrate(store: StoreOption = DEFAULT_STORE, db: DbOption = None) -> None:
    """Upgrade the hub database to this chaintrail's schema (and import new ``apikey`` keys)."""
    hub = open_hub(store, db, check=False)
    try:
        before, after = upgrade(hub.engine)
    finally:
        hub.close()
    if before is None:
        raise UsageError(
            "the hub database was never initialised: run `chaintrail hub init` (it did not exist)"
        )
    report = init_hub(store, db, legacy_keys=_legacy(store))
    err_console.print(
        f"hub at revision {after} (was {before}); {report.keys_imported} API key(s) imported"
    )


def _actor(store: object, db: str | None, as_user: str | None) -> tuple[object, Principal | None]:
    if as_user is None:  # the local operator, with the database in hand
        return open_hub(store, db), None  # type: ignore[arg-type]
    return hub_as(store, db, as_user)  # type: ignore[arg-type]


def _run(store: object, db: str | None, as_user: str | None, fn, *args, **kw):  # type: ignore[no-untyped-def]
    hub, who = _actor(store, db, as_user)
    try:
        if who is None:
            with hub.transaction() as s:  # type: ignore[attr-defined]
                return fn(s, None, *args, **kw)
        return perform(hub, who, fn, *args, **kw)  # type: ignore[arg-type]
    finally:
        hub.close()  # type: ignore[attr-defined]


@org_app.command("add")
def org_add(
    name: Annotated[str, typer.Argument(help="The organisation's name.")],
    kind: Annotated[str, typer.Option(help=f"One of {', '.join(ORG_KINDS)}.")],
    country: Annotated[str, typer.Option(help="ISO 3166-1 alpha-2 (jurisdiction for obliged entities).")],
    licence: Annotated[str | None, typer.Option(help="Licence id of an obliged entity.")] = None,
    store: StoreOption = DEFAULT_STORE, db: DbOption = None, as_user: AsOption = None, json_out: JsonOption = False,
) -> None:  # fmt: skip
    """Register a member agency or an obliged entity."""

    def run(s, who):  # type: ignore[no-untyped-def]
        return vars(d.OrgView.of(d.add_org(s, who, name, kind, country, licence)))

    org = _run(store, db, as_user, run)
    emit_json(org) if json_out else err_console.print(
        f"organisation {org['name']} ({org['kind']}, {org['country']}) is id {org['id']}"
    )


@org_app.command("list")
def org_list(
    store: StoreOption = DEFAULT_STORE,
    db: DbOption = None,
    as_user: AsOption = None,
    json_out: JsonOption = False,
) -> None:
    """List organisations."""
    orgs = _run(store, db, as_user, lambda s, who: [vars(o) for o in d.list_orgs(s, who)])
    if json_out:
        emit_json(orgs)
        return
    table = Table("id", "name", "kind", "country", "licence")
    for o in orgs:
        table.add_row(str(o["id"]), o["name"], o["kind"], o["country"], o["licence_id"] or "")
    console.print(table)


@group_app.command("add")
def group_add(
    name: Annotated[str, typer.Argument(help="The group's name.")],
    member: Annotated[list[str] | None, typer.Option("--member", help="An organisation in it (repeatable).")] = None,
    description: Annotated[str, typer.Option(help="What the group is for.")] = "",
    store: StoreOption = DEFAULT_STORE, db: DbOption = None, as_user: AsOption = None, json_out: JsonOption = False,
) -> None:  # fmt: skip
    """Create a sharing group of organisations."""
    group = _run(
        store,
        db,
        as_user,
        lambda s, who: d.group_json(s, d.add_group(s, who, name, description, member or [])),
    )
    emit_json(group) if json_out else err_console.print(
        f"group {group['name']}: {', '.join(group['members']) or 'no members yet'}"
    )


@group_app.command("members")
def group_members(
    name: Annotated[str, typer.Argument(help="The group.")],
    orgs: Annotated[list[str], typer.Argument(help="Organisations to add.")],
    store: StoreOption = DEFAULT_STORE, db: DbOption = None, as_user: AsOption = None, json_out: JsonOption = False,
) -> None:  # fmt: skip
    """Add organisations to a sharing group."""

    def run(s, who):  # type: ignore[no-untyped-def]
        group = d.group_by_name(s, name)
        d.set_group_members(s, who, group, orgs)
        return d.group_json(s, group)

    group = _run(store, db, as_user, run)
    emit_json(group) if json_out else err_console.print(
        f"group {group['name']}: {', '.join(group['members'])}"
    )


@group_app.command("list")
def group_list(
    store: StoreOption = DEFAULT_STORE,
    db: DbOption = None,
    as_user: AsOption = None,
    json_out: JsonOption = False,
) -> None:
    """List sharing groups and their organisations."""
    groups = _run(store, db, as_user, d.list_groups)
    if json_out:
        emit_json(groups)
        return
    table = Table("id", "name", "members", "description")
    for g in groups:
        table.add_row(str(g["id"]), g["name"], ", ".join(g["members"]), g["description"])
    console.print(table)


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="Login name.")],
    org: Annotated[str, typer.Option(help="The user's organisation.")],
    role: Annotated[list[str], typer.Option("--role", help=f"Role (repeatable): {', '.join(ROLES)}.")],
    display_name: Annotated[str, typer.Option(help="Full name.")] = "",
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read a password (12+ characters) from stdin.")] = False,
    store: StoreOption = DEFAULT_STORE, db: DbOption = None, as_user: AsOption = None, json_out: JsonOption = False,
) -> None:  # fmt: skip
    """Create a user of an organisation with roles."""
    password = sys.stdin.readline().rstrip("\n") if password_stdin else None

    def run(s, who):  # type: ignore[no-untyped-def]
        return d.user_json(
            s,
            d.add_user(
                s,
                who,
                name,
                d.org_by_name(s, org),
                role,
                password=password,
                display_name=display_name,
            ),
        )

    user = _run(store, db, as_user, run)
    emit_json(user) if json_out else err_console.print(
        f"user {user['name']} of {user['org']}: {', '.join(user['roles'])}"
    )


@user_app.command("list")
def user_list(
    org: Annotated[str | None, typer.Option(help="Only this organisation's users.")] = None,
    store: StoreOption = DEFAULT_STORE, db: DbOption = None, as_user: AsOption = None, json_out: JsonOption = False,
) -> None:  # fmt: skip
    """List users and their roles."""
    users = _run(store, db, as_user, d.list_users, org)
    if json_out:
        emit_json(users)
        return
    table = Table("id", "name", "organisation", "roles", "disabled")
    for u in users:
        table.add_row(
            str(u["id"]),
            u["name"],
            u["org"] or "",
            ", ".join(u["roles"]),
            "yes" if u["disabled"] else "",
        )
    console.print(table)


@user_app.command("key")
def user_key(
    name: Annotated[str, typer.Argument(help="The user the key is for.")],
    access: Annotated[str, typer.Option(help="write, or read (read-only).")] = "write",
    key_name: Annotated[str, typer.Option("--name", help="What the key is for.")] = "",
    rate_limit: Annotated[float | None, typer.Option(help="Requests/s for this key (default: the server's).")] = None,
    store: StoreOption = DEFAULT_STORE, db: DbOption = None, as_user: AsOption = None, json_out: JsonOption = False,
) -> None:  # fmt: skip
    """Create an API key for a user; it is printed once and only its hash is stored."""

    def run(s, who):  # type: ignore[no-untyped-def]
        key, rec, _ = d.new_key_for(
            s, who, name, name=key_name, access=access, rate_limit=rate_limit
        )
        return key, rec.id

    key, key_id = _run(store, db, as_user, run)
    if json_out:
        emit_json({"key": key, "id": key_id, "user": name, "access": access})
        return
    console.print(styled(key, "bold"))
    err_console.print(f"key {key_id} for {name} ({access}) created; it is shown only this once.")


@user_app.command("revoke-key")
def user_revoke_key(
    key_id: Annotated[str, typer.Argument(help="The key id.")],
    store: StoreOption = DEFAULT_STORE, db: DbOption = None, as_user: AsOption = None,
) -> None:  # fmt: skip
    """Revoke an API key; a running server refuses it within a second."""
    rec = _run(store, db, as_user, d.revoke_key_as, key_id)
    err_console.print(f"key {rec.id} revoked")


def register(app: typer.Typer) -> None:
    """Add the ``hub`` group (and ``audit``) to the main app."""
    hub_app.add_typer(org_app, name="org")
    hub_app.add_typer(group_app, name="group")
    hub_app.add_typer(user_app, name="user")
    hub_cases.register(hub_app)
    hub_taxii.register(hub_app)
    app.add_typer(hub_app, name="hub")
