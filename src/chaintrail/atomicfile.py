"""Atomic user-facing output files: a reader sees the old file or the whole new one, never half.

Exports (traces, STIX/MISP/CSV, cluster lists) go through :func:`atomic_output`: the text is
written to a temp file in the target's folder, fsynced, given the permissions an ordinary
``open(path, "w")`` would (0666 less the umask; ``mkstemp``'s 0600 would surprise a colleague
the file is meant for), and renamed over the target. On any error the temp file is removed and
the target is left as it was.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_output(path: str | Path, *, newline: str | None = None) -> Iterator[TextIO]:
    """Yield a UTF-8 text handle whose content replaces ``path`` only when the block succeeds."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline=newline) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically (see :func:`atomic_output`)."""
    with atomic_output(path) as fh:
        fh.write(text)
