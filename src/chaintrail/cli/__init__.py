"""The ``chaintrail`` command: one Typer app; each command group lives in its own module.

Errors are shown here and only here: a :class:`~chaintrail.errors.ChaintrailError` becomes
one red line on stderr and exit code 1 (2 for usage errors); no traceback reaches a user.
"""

from __future__ import annotations

import sys

import typer

from chaintrail.errors import ChaintrailError

app = typer.Typer(
    name="chaintrail",
    help="Trace, flag, freeze and recover criminal cryptocurrency.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register_commands() -> None:
    # one module per command group; each exposes register(app)
    from chaintrail.cli import chain, clustering, intel, serve, simulate, trace

    for module in (chain, simulate, clustering, trace, intel, serve):
        module.register(app)


@app.command()
def version() -> None:
    """Print the chaintrail version."""
    from chaintrail import __version__

    typer.echo(__version__)


_register_commands()


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``chaintrail`` console script."""
    from chaintrail.cli.common import err_console, styled

    try:
        app(args=argv)  # standalone mode: usage errors print and exit 2 on their own
    except ChaintrailError as exc:
        err_console.print(styled("error:", "bold red"), str(exc), soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print(styled("interrupted", "red"))
        sys.exit(130)
