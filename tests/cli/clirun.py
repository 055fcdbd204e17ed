"""Running the CLI in-process for tests: exit code and output, the one-red-line check, and a
store built by CLI commands."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from chaintrail.cli import main

BLOCKS = Path(__file__).parent.parent / "data" / "btc" / "blk_mainnet_blocks_0-438.dat"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the CLI in-process; returns (exit code, stdout, stderr)."""
    code = 0
    try:
        main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def cli(*args: str) -> tuple[int, str, str]:
    """Like :func:`run` without pytest's capsys (for module-scoped fixtures and hypothesis):
    stdout and stderr are captured around the call."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def one_red_line(err: str) -> str:
    """``err`` after checking it is one line and no traceback."""
    assert "Traceback" not in err and err.strip().count("\n") == 0, err
    return err


def cli_store(path: Path, *commands: list[str]) -> Path:
    """``path`` after running each command with ``--store path`` (each must succeed)."""
    for args in commands:
        try:
            main([*args, "--store", str(path)])
        except SystemExit as exc:
            assert not exc.code, args
    return path
