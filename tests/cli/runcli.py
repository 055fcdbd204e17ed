"""Run the ``chaintrail`` command in-process exactly as a user's shell would reach it."""

from __future__ import annotations

import contextlib
import io

from chaintrail.cli import main


def cli(*args: str) -> tuple[int, str, str]:
    """Run the CLI through ``main`` (the error boundary): (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()
