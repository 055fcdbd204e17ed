"""Shared CLI pieces: the ``--store`` option, JSON output, Rich consoles."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from chaintrail.amounts import btc  # noqa: F401 - re-exported for the command modules

DEFAULT_STORE = Path("chaintrail-data")

StoreOption = Annotated[
    Path,
    typer.Option(
        "--store",
        envvar="CHAINTRAIL_STORE",
        help="Store directory (default ./chaintrail-data, or $CHAINTRAIL_STORE).",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
ForceOption = Annotated[
    bool, typer.Option("--force", help="Replace the --out file if it exists (keeps its mode).")
]

console = Console()
err_console = Console(stderr=True)


def emit_json(obj: Any) -> None:
    """Print ``obj`` as JSON on stdout (ints stay ints; bytes are not allowed)."""
    sys.stdout.write(json.dumps(obj, indent=2, sort_keys=False) + "\n")
