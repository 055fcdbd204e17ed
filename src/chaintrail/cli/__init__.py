"""The ``chaintrail`` command: one Typer app; each command group lives in its own module.

Errors are shown here and only here: a :class:`~chaintrail.errors.ChaintrailError` becomes
one red line on stderr and exit code 1 (2 for usage errors); no traceback reaches a user.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
import typer.core
import typer.main

from chaintrail import __version__
from chaintrail.errors import ChaintrailError

app = typer.Typer(
    name="chaintrail",
    help="Trace Bitcoin funds: ingest blocks, cluster addresses, attribute them with tags, "
    "sanctions lists and off-chain intelligence, trace, score and export what you find.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"chaintrail {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", help="Print the version and exit.", is_eager=True,
                     callback=_print_version),
    ] = False,  # fmt: skip
) -> None:
    """Trace Bitcoin funds: ingest blocks, cluster addresses, attribute them with tags, sanctions
    lists and off-chain intelligence, trace, score and export what you find."""


def _register_commands() -> None:
    # one module per command group; each exposes register(app)
    from chaintrail.cli import audit, chain, clustering, hub, intel, serve, simulate, trace

    for module in (chain, simulate, clustering, trace, intel, serve, hub, audit):
        module.register(app)


@app.command()
def version() -> None:
    """Print the chaintrail version."""
    typer.echo(__version__)


_register_commands()


class _PlainArgument(typer.core.TyperArgument):
    """An argument shown as ``NAME`` (help says what it is): no ``<str>``, no ``{name}``."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return None

    def _usage_display_name(self) -> str:
        name = self.display_name_raw.upper()
        name = name if self.required else f"[{name}]"
        return name + ("..." if self.nargs != 1 and not name.endswith("...") else "")


class _PlainOption(typer.core.TyperOption):
    """A flag shown bare, an option with a value shown with its metavar (or its name)."""

    def display_type_rich(self, ctx: Any) -> str | None:
        if self.is_flag:
            return None
        longest = max(self.opts, key=len).lstrip("-")
        return self.metavar or longest.upper().replace("-", "_")


def _plain_metavars(command: Any) -> None:
    """Give every parameter of ``command`` and its subcommands the plain display above."""
    help_option = command.get_help_option(typer.Context(command))  # made on demand, cached
    for param in [*command.params, *([help_option] if help_option else [])]:
        if type(param) is typer.core.TyperArgument:
            param.__class__ = _PlainArgument
        elif type(param) is typer.core.TyperOption:
            param.__class__ = _PlainOption
    for sub in getattr(command, "commands", {}).values():
        _plain_metavars(sub)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``chaintrail`` console script."""
    from chaintrail.cli.common import err_console, styled

    command = typer.main.get_command(app)
    _plain_metavars(command)
    try:
        # standalone mode: usage errors print and exit 2 on their own
        command.main(args=argv, prog_name="chaintrail")
    except ChaintrailError as exc:
        err_console.print(styled("error:", "bold red"), str(exc), soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print(styled("interrupted", "red"))
        sys.exit(130)
