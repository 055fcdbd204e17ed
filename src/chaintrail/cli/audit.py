"""``chaintrail audit verify|show|anchor``: the hub's tamper-evident audit log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

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
from chaintrail.errors import InputError, ValidationError
from chaintrail.hub import auditlog
from chaintrail.hub.anchor import check_anchor, load_or_create_key, make_anchor, public_hex
from chaintrail.hub.audit_verify import verify_url
from chaintrail.hub.db import open_hub
from chaintrail.hub.service import perform

audit_app = typer.Typer(
    help="The hub's audit log: verify the hash chain, show entries, sign its head.",
    no_args_is_help=True,
)


@audit_app.command("verify")
def audit_verify(
    anchor: Annotated[Path | None, typer.Option("--anchor", help="Also check an anchor made by `audit anchor`.")] = None,
    store: StoreOption = DEFAULT_STORE, db: DbOption = None, json_out: JsonOption = False,
) -> None:  # fmt: skip
    """Recompute the whole chain; names the first entry that was edited, deleted or moved."""
    hub = open_hub(store, db)
    try:
        hub.engine.dispose()  # no pooled connection is inherited by the verifying processes
        result = verify_url(hub.url)
        anchored = None
        with hub.engine.connect() as con:
            if anchor is not None and result.ok:
                try:
                    text = anchor.read_text()
                except OSError as exc:
                    raise InputError(
                        f"cannot read anchor: {exc.strerror}", source=str(anchor)
                    ) from exc
                anchored = check_anchor(con, text, str(anchor))
    finally:
        hub.close()
    if json_out:
        emit_json({"ok": result.ok, "entries": result.entries, "head_seq": result.head_seq, "head_hash": result.head_hash,
                   "broken_entry": result.broken_seq, "reason": result.reason, "anchored_entry": anchored})  # fmt: skip
    if not result.ok:
        raise ValidationError(
            f"audit chain broken at entry {result.broken_seq}: {result.reason}", source="audit log"
        )
    if not json_out:
        extra = f"; anchor at entry {anchored} holds" if anchored is not None else ""
        console.print(
            styled("audit chain intact:", "green"),
            f"{result.entries:,} entries, head {result.head_hash}{extra}",
        )


@audit_app.command("show")
def audit_show(
    case: Annotated[int | None, typer.Option("--case", help="Only entries about this case.", min=1)] = None,
    after: Annotated[int, typer.Option(help="Only entries after this number.", min=0)] = 0,
    limit: Annotated[int, typer.Option(help="At most this many entries.", min=1)] = 1000,
    store: StoreOption = DEFAULT_STORE, db: DbOption = None, as_user: AsOption = None, json_out: JsonOption = False,
) -> None:  # fmt: skip
    """Entries you may read (supervisors, org admins: your organisation's; hub admins: all)."""
    hub, who = hub_as(store, db, as_user)
    try:
        rows = perform(hub, who, auditlog.show, case_id=case, after=after, limit=limit)
    finally:
        hub.close()
    if json_out:
        emit_json(rows)
        return
    table = Table("#", "time", "user", "action", "object", "case", "TLP", "request")
    for r in rows:
        table.add_row(str(r["seq"]), r["ts"][:23], r["user_name"], r["action"], f"{r['object_type']} {r['object_id']}",
                      str(r["case_id"] or ""), r["marking"] or "", r["request_id"][:8])  # fmt: skip
    console.print(table)


@audit_app.command("anchor")
def audit_anchor(
    out: Annotated[Path | None, typer.Option("--out", help="Write the anchor to this file (default stdout).")] = None,
    store: StoreOption = DEFAULT_STORE, db: DbOption = None,
) -> None:  # fmt: skip
    """Sign the chain head with the hub's Ed25519 key: give the anchor to an outside party."""
    hub = open_hub(store, db)
    try:
        with hub.engine.connect() as con:
            doc = make_anchor(con, store)
    finally:
        hub.close()
    text = json.dumps(doc, indent=2) + "\n"
    if out is None:
        typer.echo(text, nl=False)
    else:
        write_text_atomic(out, text)
        err_console.print(
            f"wrote {out}: entry {doc['seq']}, key {public_hex(load_or_create_key(store))[:16]}..."
        )


def register(app: typer.Typer) -> None:
    """Add the ``audit`` group to the main app."""
    app.add_typer(audit_app, name="audit")
