"""Input paths -> the files to read: one rule for saved RPC answers and etl exports."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from chaintrail.errors import InputError

Paths = str | Path | Sequence[str | Path]


def as_list(paths: Paths) -> list[Path]:
    """``paths`` as a list of Paths (one path or several)."""
    return [Path(paths)] if isinstance(paths, str | Path) else [Path(p) for p in paths]


def input_files(paths: Paths, suffixes: tuple[str, ...]) -> list[Path]:
    """Each named file itself, and every file with one of ``suffixes`` under each named
    directory (sorted); InputError for a path that does not exist."""
    out: list[Path] = []
    for p in as_list(paths):
        if p.is_file():
            out.append(p)
        elif p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.suffix in suffixes and f.is_file())
        else:
            raise InputError("no such file or directory", source=str(p))
    return out
