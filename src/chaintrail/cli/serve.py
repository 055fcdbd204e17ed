"""``chaintrail serve`` (the investigation API) and ``chaintrail apikey create|list|revoke``."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from chaintrail.cli.common import (
    DEFAULT_STORE,
    JsonOption,
    StoreOption,
    console,
    emit_json,
    err_console,
    styled,
)
from chaintrail.cli.hubcommon import DbOption
from chaintrail.errors import UsageError
from chaintrail.hub.db import DB_ENV, SQLITE_FILE

apikey_app = typer.Typer(help="Create, list and revoke API keys of the investigation API.")


def _when(ts: int | None) -> str:
    return "" if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def register(app: typer.Typer) -> None:
    """Add ``serve`` and the ``apikey`` group to the main app."""
    app.command("serve")(serve_command)
    app.add_typer(apikey_app, name="apikey")


def serve_command(
    store: StoreOption = DEFAULT_STORE,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1, max=64)] = 1,
    no_auth: Annotated[
        bool, typer.Option("--no-auth", help="Accept requests without a key (loopback only).")
    ] = False,
    rate_limit: Annotated[
        float,
        typer.Option(help="Requests/s allowed per key (bursts of twice that); 0 = unlimited."),
    ] = 100.0,
    cors_origin: Annotated[
        list[str] | None,
        typer.Option(help="Allow browser calls from this origin (repeatable). Off by default."),
    ] = None,
    trusted_proxy: Annotated[
        list[str] | None,
        typer.Option(
            help="A reverse proxy (IP or CIDR, repeatable) whose X-Forwarded-For names the "
            "client; without one the header is ignored."
        ),
    ] = None,
    budget: Annotated[
        list[str] | None,
        typer.Option(
            help="Work budget of a key role: ROLE=SECONDS[,RESULTS] (repeatable), e.g. "
            "analyst=60,200000. Default for every role: 6 s and 50,000 result rows, so "
            "replies come within ~10 s; work past it is cut and the reply says so.",
            metavar="ROLE=SECONDS[,RESULTS]",
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Serve the GraphSense-compatible API under /api, chaintrail's own under /v1, the hub under
    /v1/hub and TAXII 2.1 under /taxii2/."""
    from chaintrail.api.budget import default_budgets, parse_budget
    from chaintrail.api.server import run_server

    budgets = default_budgets()
    for text in budget or []:
        budgets = parse_budget(text, budgets)
    store_dir = store
    if db:  # the workers read it from the environment, like every hub command
        os.environ[DB_ENV] = db
    has_hub = bool(os.environ.get(DB_ENV)) or (store_dir / SQLITE_FILE).exists()
    if not (store_dir / "MANIFEST.json").exists() and not has_hub:
        raise UsageError(
            f"store {store_dir}: no chain store and no hub here (run 'chaintrail ingest' or "
            "'chaintrail hub init' first)"
        )
    err_console.print(f"starting: loading {store_dir} and building the in-memory indexes ...")
    announce = f"serving {store_dir} on http://{host}:{port}  (GraphSense client host: " \
        f"http://{host}:{port}/api, docs: /docs)"  # fmt: skip
    threading.Thread(target=_say_when_ready, args=(host, port, announce), daemon=True).start()
    run_server(
        store_dir, host, port, workers, not no_auth, rate_limit, cors_origin or [],
        trusted_proxy or [], budgets,
    )  # fmt: skip


def _say_when_ready(host: str, port: int, announce: str) -> None:
    """Print ``announce`` once the server answers its health check (never, if it fails to
    start: the error says why instead)."""
    import httpx  # only serve needs an HTTP client: every other command starts without it

    probe = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host.strip("[]")
    url = f"http://{'[' + probe + ']' if ':' in probe else probe}:{port}/healthz"
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                err_console.print(announce)
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)


@apikey_app.command("create")
def apikey_create(
    role: Annotated[str, typer.Option(help="reader (read only) or analyst (may write tags).")],
    name: Annotated[str, typer.Option(help="Who or what the key is for.")] = "",
    rate_limit: Annotated[
        float | None, typer.Option(help="Requests/s for this key (default: the server's).")
    ] = None,
    store: StoreOption = DEFAULT_STORE,
    json_out: JsonOption = False,
) -> None:
    """Create a key; it is printed once and only its hash is stored."""
    from chaintrail.api.keys import KeyStore

    key, rec = KeyStore(store).create(role, name, rate_limit)
    if json_out:
        emit_json({"key": key, "id": rec.id, "role": rec.role, "name": rec.name})
        return
    console.print(styled(key, "bold"))
    err_console.print(f"key {rec.id} ({rec.role}) created; it is shown only this once.")


@apikey_app.command("list")
def apikey_list(store: StoreOption = DEFAULT_STORE, json_out: JsonOption = False) -> None:
    """List keys (ids, roles, names, state); keys themselves are never stored."""
    from chaintrail.api.keys import KeyStore

    records = KeyStore(store).load()
    if json_out:
        emit_json(
            [
                {
                    "id": r.id,
                    "role": r.role,
                    "name": r.name,
                    "created": r.created,
                    "rate_limit": r.rate_limit,
                    "revoked": r.revoked,
                }
                for r in records
            ]
        )
        return
    table = Table("id", "role", "name", "created", "rate limit", "revoked")
    for r in records:
        limit = "" if r.rate_limit is None else f"{r.rate_limit:g}/s"
        table.add_row(r.id, r.role, r.name, _when(r.created), limit, _when(r.revoked))
    console.print(table)


@apikey_app.command("revoke")
def apikey_revoke(
    key_id: Annotated[str, typer.Argument(help="The key id shown by 'apikey list'.")],
    store: StoreOption = DEFAULT_STORE,
) -> None:
    """Revoke a key; a running server refuses it within a second."""
    from chaintrail.api.keys import KeyStore

    rec = KeyStore(store).revoke(key_id)
    err_console.print(f"key {rec.id} revoked")
