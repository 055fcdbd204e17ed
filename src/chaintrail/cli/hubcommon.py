"""Shared pieces of the hub commands: the ``--db`` and ``--as`` options, opening the hub as a
user, and filing a result of another command into a case (``trace --case``, ``link add --case``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from chaintrail.hub.cases import add_item, filing_scope
from chaintrail.hub.db import Hub, open_hub
from chaintrail.hub.principal import Principal
from chaintrail.hub.service import perform
from chaintrail.hub.setup import local_principal

DbOption = Annotated[
    str | None,
    typer.Option("--db", envvar="CHAINTRAIL_HUB_DB", show_default=False,
                 help="Hub database URL (default <store>/hub.sqlite; PostgreSQL: postgresql+psycopg://USER@HOST/DB)."),
]  # fmt: skip
AsOption = Annotated[
    str | None,
    typer.Option("--as", envvar="CHAINTRAIL_HUB_USER", show_default=False,
                 help="Act as this hub user (default: local, the home organisation's user)."),
]  # fmt: skip
CaseOption = Annotated[
    int | None,
    typer.Option(
        "--case", help="Also file the result into this hub case.", min=1, show_default=False
    ),
]


def hub_as(store: Path, db: str | None, user: str | None) -> tuple[Hub, Principal]:
    """Open the hub (refusing a missing or stale one) and resolve who acts."""
    hub = open_hub(store, db)
    try:
        return hub, local_principal(hub, user)
    except BaseException:
        hub.close()
        raise


def check_case_writable(store: Path, case_id: int, user: str | None, db: str | None = None) -> None:
    """Fail before any work if the result could not be filed into ``case_id``."""
    hub, who = hub_as(store, db, user)
    try:
        perform(hub, who, filing_scope, case_id)
    finally:
        hub.close()


def file_into_case(
    store: Path, case_id: int, user: str | None, kind: str, payload: dict[str, Any], via: str, *,
    tlp: str | None = None, db: str | None = None,
) -> int:  # fmt: skip
    """File one item into a case as ``user`` (marking: ``tlp`` or the case's); returns its id."""
    hub, who = hub_as(store, db, user)
    try:
        item = perform(hub, who, add_item, case_id, kind, payload, tlp=tlp, via=via)
        return item.id
    finally:
        hub.close()
