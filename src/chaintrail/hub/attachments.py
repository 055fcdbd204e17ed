"""Attachments: files kept once by content under ``<store>/hub-files/<2 hex>/<sha256>``.

A file is streamed to a temp file while it is hashed and counted; past the size limit it is
dropped with a clear error. It is renamed into place before the item is written, and removed
again if that transaction fails and no earlier item holds the same content.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from chaintrail.errors import ForbiddenError, InputError, ValidationError
from chaintrail.hub import audit
from chaintrail.hub.cases import add_item, visible_item
from chaintrail.hub.db import Hub
from chaintrail.hub.models import Item
from chaintrail.hub.policy import View
from chaintrail.hub.principal import Principal
from chaintrail.hub.setup import max_attachment

CHUNK = 1 << 20


@dataclass(frozen=True)
class Staged:
    """A file in place under its hash; ``new`` if this call put it there."""

    sha256: str
    size: int
    path: Path
    new: bool

    def discard(self) -> None:
        """Remove the file again if this call created it (its item was never written)."""
        if self.new:
            self.path.unlink(missing_ok=True)


def content_path(files_dir: Path, sha256: str) -> Path:
    """Where the content with this hash lives."""
    return files_dir / sha256[:2] / sha256


def stage(files_dir: Path, chunks: Iterable[bytes], limit: int, name: str) -> Staged:
    """Hash and store a stream of bytes; ValidationError past ``limit`` bytes (nothing kept)."""
    files_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=files_dir, prefix=".upload.", suffix=".tmp")
    sha, size = hashlib.sha256(), 0
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise ValidationError(
                        f"attachment {name!r} is larger than the limit of {limit:,} bytes",
                        field="file",
                    )
                sha.update(chunk)
                fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        digest = sha.hexdigest()
        dest = content_path(files_dir, digest)
        dest.parent.mkdir(exist_ok=True)
        if dest.exists():
            os.unlink(tmp)
            return Staged(digest, size, dest, False)
        os.chmod(tmp, 0o640)
        os.replace(tmp, dest)
        return Staged(digest, size, dest, True)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def file_chunks(path: Path) -> Iterable[bytes]:
    """The bytes of a local file in chunks; InputError naming it if it cannot be read."""
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(CHUNK):
                yield chunk
    except OSError as exc:
        raise InputError(f"cannot read attachment: {exc.strerror}", source=str(path)) from exc


def attach(
    hub: Hub, who: Principal, case_id: int, name: str, chunks: Iterable[bytes], *,
    media_type: str | None = None, tlp: str | None = None, via: str = "cli",
) -> Item:  # fmt: skip
    """Store a file and file it into a case as one ``attachment`` item (all or nothing)."""
    name = Path(name).name.strip()
    if not name:
        raise ValidationError("an attachment needs a file name", field="name")
    with hub.transaction() as s:
        limit = max_attachment(s)
    staged = stage(hub.files_dir, chunks, limit, name)
    payload = {"name": name, "size": staged.size, "sha256": staged.sha256,
               "media_type": media_type or mimetypes.guess_type(name)[0] or "application/octet-stream"}  # fmt: skip
    try:
        with hub.transaction() as s:
            return add_item(
                s,
                who,
                case_id,
                "attachment",
                payload,
                tlp=tlp,
                via=via,
                attachment_sha256=staged.sha256,
            )
    except BaseException:
        staged.discard()
        raise


def open_content(
    session: Session, who: Principal, hub: Hub, item_id: int
) -> tuple[Path, dict[str, str]]:
    """The stored file of an attachment item the caller sees in full; audited as a read."""
    item, _, view = visible_item(session, who, item_id)
    if item.kind != "attachment" or not item.attachment_sha256:
        raise ValidationError(f"item {item_id} is a {item.kind}, not an attachment", field="item")
    if view is not View.FULL:
        raise ForbiddenError(f"item {item_id} is shared with you redacted: its file is withheld")
    path = content_path(hub.files_dir, item.attachment_sha256)
    if not path.exists():
        raise InputError(
            "attachment content is missing from the hub's file store", source=str(path)
        )
    audit.append(
        session,
        who,
        "attachment.read",
        "item",
        item_id,
        case_id=item.case_id,
        marking=item.tlp,
        read=True,
    )
    meta = json.loads(item.payload)
    return path, {
        "name": meta.get("name", ""),
        "media_type": meta.get("media_type", "application/octet-stream"),
    }
