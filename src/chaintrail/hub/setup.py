"""``hub init`` and ``hub migrate``: create or upgrade the database, the home organisation, the
local user, hub settings, and the import of the old API keys.

The *home organisation* is the agency running this instance; its user ``local`` (investigator,
org admin, hub admin) is who the CLI acts as by default and who ``serve --no-auth`` serves, so a
single analyst on a laptop never has to think about users. Keys of the old ``api_keys.json``
become keys of ``local`` (reader keys read-only), each with its old id and hash.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from chaintrail.errors import NotFoundError, UsageError
from chaintrail.hub import audit
from chaintrail.hub.credentials import LegacyKey, import_legacy_keys
from chaintrail.hub.db import Hub, make_engine, resolve_url, upgrade
from chaintrail.hub.directory import add_org, add_user, principal_for
from chaintrail.hub.models import Organisation, Setting, User
from chaintrail.hub.principal import HUB_ADMIN, INVESTIGATOR, ORG_ADMIN, Principal

LOCAL_USER = "local"
DEFAULT_MAX_ATTACHMENT = 100 * 1024 * 1024
HOME_ORG = "home_org_id"
MAX_ATTACHMENT = "max_attachment_bytes"


@dataclass(frozen=True)
class InitReport:
    """What ``hub init``/``hub migrate`` did."""

    url: str
    revision_before: str | None
    revision_after: str
    home_org: str
    created: bool
    keys_imported: int


def get_setting(session: Session, key: str) -> str | None:
    """A hub setting (None if unset)."""
    row = session.get(Setting, key)
    return row.value if row else None


def set_setting(session: Session, key: str, value: str) -> None:
    """Set a hub setting in the caller's transaction."""
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=value))
    else:
        row.value = value


def max_attachment(session: Session) -> int:
    """The attachment size limit in bytes."""
    return int(get_setting(session, MAX_ATTACHMENT) or DEFAULT_MAX_ATTACHMENT)


def init_hub(
    store_dir: Path, url: str | None, *, org: str = "local", country: str = "ZZ", kind: str = "police",
    legacy_keys: Iterable[LegacyKey] = (), legacy_source: str = "api_keys.json",
    max_attachment_bytes: int | None = None,
) -> InitReport:  # fmt: skip
    """Create (or upgrade) the hub database; on first use register the home organisation and
    ``local``; import old keys not yet in the hub. Safe to run again."""
    store_dir = Path(store_dir)
    resolved = resolve_url(store_dir, url)
    store_dir.mkdir(parents=True, exist_ok=True)  # attachments and the audit key live here too
    if max_attachment_bytes is not None and max_attachment_bytes <= 0:
        raise UsageError(
            f"--max-attachment {max_attachment_bytes}: expected a positive number of bytes"
        )
    hub = Hub(store_dir, make_engine(resolved), resolved)
    try:
        before, after = upgrade(hub.engine)
        with hub.transaction() as s:
            home_id = get_setting(s, HOME_ORG)
            created = home_id is None
            if created:
                home = add_org(s, None, org, kind, country)
                add_user(
                    s,
                    None,
                    LOCAL_USER,
                    home,
                    [INVESTIGATOR, ORG_ADMIN, HUB_ADMIN],
                    display_name="local analyst",
                )
                set_setting(s, HOME_ORG, str(home.id))
            else:
                found = s.get(Organisation, int(home_id))
                assert found is not None
                home = found
            if max_attachment_bytes is not None:
                set_setting(s, MAX_ATTACHMENT, str(max_attachment_bytes))
            local = s.scalar(select(User).where(User.name == LOCAL_USER))
            keys = 0
            if local is not None:
                keys = import_legacy_keys(s, local, legacy_keys, legacy_source)
                if keys:
                    audit.append(
                        s,
                        None,
                        "apikey.import",
                        "user",
                        local.id,
                        detail={"keys": keys, "from": legacy_source},
                    )
            return InitReport(resolved, before, after, home.name, created, keys)
    finally:
        hub.close()


def local_principal(hub: Hub, user: str | None = None, *, via: str = "cli") -> Principal:
    """The principal the CLI acts as: ``user`` (default ``local``)."""
    name = user or LOCAL_USER
    with hub.transaction() as s:
        found = s.scalar(select(User).where(User.name == name))
        if found is None:
            raise NotFoundError(
                f"hub user {name!r}: no such user (list them with `chaintrail hub user list`)"
            )
        return principal_for(s, found, via=via)
