"""Shared CLI pieces: the ``--store`` option, JSON output, Rich consoles that print data literally."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.style import Style
from rich.text import Text

from chaintrail.amounts import btc  # noqa: F401 - re-exported for the command modules

DEFAULT_STORE = Path("chaintrail-data")

StoreOption = Annotated[
    Path,
    typer.Option(
        "--store",
        metavar="DIR",
        envvar="CHAINTRAIL_STORE",
        help="Store directory (default ./chaintrail-data, or $CHAINTRAIL_STORE).",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
ForceOption = Annotated[
    bool, typer.Option("--force", help="Replace the --out file if it exists (keeps its mode).")
]


def visible(text: str) -> str:
    """``text`` with every character a terminal would act on (controls, format characters such as
    bidi overrides, line breaks, tabs, unpaired surrogates) replaced by its Python escape."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


class LiteralConsole(Console):
    """A console on which every string is data: printed as it is, never read as Rich markup or
    ``:emoji:`` codes, with terminal controls shown as escapes (:func:`visible`).

    Strings reach the screen only through :meth:`render_str` (print arguments, table cells and
    titles alike), so a label such as ``[/] x`` or ``:fax:`` cannot break or change the output.
    Style comes from :class:`~rich.text.Text` pieces made with :func:`styled`.
    """

    def render_str(self, text: str, **kwargs: Any) -> Text:
        """``text`` as a literal :class:`Text` (markup and emoji codes off, controls escaped)."""
        kwargs.update(markup=False, emoji=False)
        return super().render_str(visible(text), **kwargs)


def styled(text: str, style: str | Style) -> Text:
    """A fixed piece of CLI wording in a style (e.g. ``styled("error:", "bold red")``); data
    belongs in plain strings next to it, never inside."""
    return Text(visible(text), style=style)


console = LiteralConsole(highlight=False)
err_console = LiteralConsole(stderr=True, highlight=False)


def emit_json(obj: Any) -> None:
    """Print ``obj`` as JSON on stdout (ints stay ints; bytes are not allowed)."""
    sys.stdout.write(json.dumps(obj, indent=2, sort_keys=False) + "\n")
