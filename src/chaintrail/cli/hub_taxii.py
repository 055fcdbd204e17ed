"""``chaintrail hub pull`` and ``hub push``: TAXII 2.1 exchange with another server."""

from __future__ import annotations

from typing import Annotated

import typer

from chaintrail.cli.common import DEFAULT_STORE, JsonOption, StoreOption, emit_json, err_console
from chaintrail.cli.hubcommon import AsOption, DbOption, hub_as
from chaintrail.hub.federation import Remote, pull, push

TaxiiOption = Annotated[
    str, typer.Option("--taxii", help="The remote TAXII API root (or discovery) URL.")
]
CollectionOption = Annotated[str, typer.Option("--collection", help="The remote collection id.")]
UserOption = Annotated[str, typer.Option("--user", help="Your user name on the remote server.")]
KeyOption = Annotated[
    str,
    typer.Option(
        "--key",
        envvar="CHAINTRAIL_TAXII_KEY",
        help="Your API key there (or $CHAINTRAIL_TAXII_KEY).",
    ),
]


def hub_pull(
    taxii: TaxiiOption, collection: CollectionOption, user: UserOption, key: KeyOption,
    store: StoreOption = DEFAULT_STORE, db: DbOption = None, as_user: AsOption = None, json_out: JsonOption = False,
) -> None:  # fmt: skip
    """Fetch every object of a remote collection and keep it here under its own marking."""
    hub, who = hub_as(store, db, as_user)
    try:
        received, stored = pull(hub, who, Remote(taxii, user, key), collection)
    finally:
        hub.close()
    if json_out:
        emit_json({"received": received, "stored": stored})
    else:
        err_console.print(f"pulled {received} objects from {taxii} ({stored} new)")


def hub_push(
    taxii: TaxiiOption, collection: CollectionOption, user: UserOption, key: KeyOption,
    case: Annotated[int, typer.Option("--case", help="Push the items of this case of yours.", min=1)],
    store: StoreOption = DEFAULT_STORE, db: DbOption = None, as_user: AsOption = None, json_out: JsonOption = False,
) -> None:  # fmt: skip
    """Send a case's items (TLP:RED excepted) as STIX to a remote collection."""
    hub, who = hub_as(store, db, as_user)
    try:
        status = push(hub, who, Remote(taxii, user, key), collection, case)
    finally:
        hub.close()
    if json_out:
        emit_json(status)
    else:
        err_console.print(
            f"pushed to {taxii}: {status.get('success_count', 0)} stored, {status.get('failure_count', 0)} refused"
        )
        for f in status.get("failures", [])[:10]:
            err_console.print(f"  refused {f.get('id')}: {f.get('message')}")


def register(hub_app: typer.Typer) -> None:
    """Add ``pull`` and ``push`` to the hub group."""
    hub_app.command("pull")(hub_pull)
    hub_app.command("push")(hub_push)
