"""What intelligence a store holds, so that an empty answer says why it is empty.

A mistyped ``--store`` must not read as "no tags" or "not sanctioned": :func:`require_store`
refuses a directory that holds neither a chain store nor an intel database. An intel database
without tags, or without any sanctions list, is named in the answer (:func:`no_tags_warning`,
:func:`sanctions_coverage`) instead of passing for a clean result.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from chaintrail.errors import NotFoundError, StoreError
from chaintrail.intel.database import INTEL_DB, intel_path
from chaintrail.intel.store import IntelStore
from chaintrail.store.layout import MANIFEST


def require_store(store_dir: str | Path) -> Path:
    """``store_dir`` if it holds a chain store or an intel database; StoreError naming it if not."""
    root = Path(store_dir)
    if (root / MANIFEST).is_file() or intel_path(root).is_file():
        return root
    raise StoreError(
        f"{root}: no chaintrail store here (neither {MANIFEST} nor {INTEL_DB}); "
        "check --store or $CHAINTRAIL_STORE"
    )


def n_tags(store_dir: str | Path) -> int:
    """How many tags the store's intel database holds (0 without one)."""
    if not intel_path(store_dir).is_file():
        return 0
    with IntelStore.open(store_dir, read_only=True) as st:
        return int(st.con.execute("SELECT count(*) FROM tags").fetchone()[0])


def no_tags_warning(store_dir: str | Path) -> str | None:
    """A warning when the store holds no tags at all (any "untagged" answer means nothing)."""
    if n_tags(store_dir):
        return None
    return (
        f"no tags imported in {store_dir}: nothing here is known to be a service or illicit "
        "(import TagPacks or sanctions lists with 'chaintrail tags import')"
    )


def sanctions_coverage(store_dir: str | Path, day: dt.date) -> list[str]:
    """Warnings about how far the imported sanctions lists can answer for ``day``.

    NotFoundError when no list was ever imported: "not sanctioned" would then be a false
    negative. A day before a list's first imported version is answered from ``listed_since``
    dates only, and said so.
    """
    with IntelStore.open(store_dir, read_only=True) as st:
        first = st.con.execute(
            "SELECT list_id, min(version) FROM list_versions GROUP BY list_id ORDER BY list_id"
        ).fetchall()
    if not first:
        raise NotFoundError(
            f"no sanctions list imported in {store_dir}: cannot tell whether an address is "
            "sanctioned (import one with 'chaintrail tags import <OFAC folder or CSV>')"
        )
    return [
        f"no list version of {list_id} on or before {day.isoformat()} (first imported: "
        f"{version.isoformat()}); only addresses with a listed-since date count"
        for list_id, version in first
        if version > day
    ]


def attribution_warnings(store_dir: str | Path, tagged_on_chain: bool) -> list[str]:
    """Why exposure and risk see no tagged category, when they see none (else ``[]``)."""
    if tagged_on_chain:
        return []
    return [
        no_tags_warning(store_dir)
        or f"none of the tagged addresses in {store_dir} is on this chain: nothing here is "
        "known to be a service or illicit"
    ]
