"""Atomic user-facing output files that never destroy what is already there.

Every file a command writes for a user (traces, STIX/MISP/CSV, cluster lists) goes through
:func:`atomic_output`; a reader sees the old file or the whole new one, never half:

* the target's folder must exist (it is never created behind the user's back);
* a target that is not a regular file (folder, FIFO, device, socket, symbolic link) is refused;
* an existing file is replaced only with ``force`` and keeps its mode and owner (a private
  0600 export stays private); a new file gets the permissions an ordinary ``open(path, "w")``
  would (0666 less the umask);
* the text goes to a temp file in the target's folder, is fsynced and renamed over the target
  (a new file is linked into place, so a file created meanwhile is not clobbered). On any error
  the temp file is removed and the target is left as it was.

Commands call :func:`check_output_target` before long work so a bad ``--out`` fails at once.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from chaintrail.errors import UsageError

_KINDS = (
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_output_target(path: str | Path, *, force: bool = False) -> os.stat_result | None:
    """Raise :class:`UsageError` unless ``path`` may be written; returns the existing file's stat
    (None for a new file). Refuses a missing folder, anything but a regular file, and an
    existing file unless ``force``."""
    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise UsageError(f"{path}: the folder {folder} {what}")
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISDIR(st.st_mode):
        raise UsageError(f"{path} is a folder; give a file name")
    for test, kind in _KINDS:
        if test(st.st_mode):
            raise UsageError(f"{path} is {kind}, not a regular file; refusing to replace it")
    if not stat.S_ISREG(st.st_mode):
        raise UsageError(f"{path} is not a regular file; refusing to replace it")
    if not force:
        raise UsageError(f"{path} exists; add --force to replace it")
    return st


def _keep_owner(fd: int, old: os.stat_result) -> None:
    if (old.st_uid, old.st_gid) == (os.geteuid(), os.getegid()):
        return
    try:
        os.fchown(fd, old.st_uid, old.st_gid)
    except PermissionError:  # only root may give a file away; the mode is still kept
        pass


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _commit(tmp: str, path: Path, old: os.stat_result | None) -> None:
    """Move the finished temp file to ``path`` (no-clobber for a new file)."""
    if old is None:
        try:
            os.link(tmp, path)  # fails if someone created ``path`` since the check
        except FileExistsError:
            raise UsageError(f"{path} exists; add --force to replace it") from None
        except OSError as exc:  # a file system without hard links: check, then rename
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
                raise
            check_output_target(path)
            os.replace(tmp, path)
        else:
            os.unlink(tmp)
    else:
        check_output_target(path, force=True)  # still a regular file
        os.replace(tmp, path)


@contextmanager
def atomic_output(
    path: str | Path, *, newline: str | None = None, force: bool = False
) -> Iterator[TextIO]:
    """Yield a UTF-8 text handle whose content becomes ``path`` only when the block succeeds
    (see the module docstring for what is refused and which mode the file gets)."""
    path = Path(path)
    old = check_output_target(path, force=force)
    mode = stat.S_IMODE(old.st_mode) & 0o777 if old else 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline=newline) as fh:
            yield fh
            fh.flush()
            os.fchmod(fh.fileno(), mode)
            if old is not None:
                _keep_owner(fh.fileno(), old)
            os.fsync(fh.fileno())
        _commit(tmp, path, old)
        _fsync_folder(path.parent)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | Path, text: str, *, force: bool = False) -> None:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_output`)."""
    with atomic_output(path, force=force) as fh:
        fh.write(text)
