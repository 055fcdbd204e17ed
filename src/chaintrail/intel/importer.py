"""``tags import``: find, detect, validate and store TagPacks, ActorPacks, sanctions lists and CSVs.

Everything named is parsed and validated first; only then is anything written, in one
transaction. So a bad file imports nothing, and a re-import replaces (pack id or list version)
instead of duplicating.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from chaintrail.errors import InputError, ValidationError
from chaintrail.intel.actorpack import ParsedActorPack, is_actorpack, parse_actorpack
from chaintrail.intel.model import DEFAULT_TLP, columns_to_arrow, empty_columns, normalise_tlp
from chaintrail.intel.sanctions import (
    ParsedList,
    is_ofac_path,
    is_sanctions_csv,
    parse_ofac,
    parse_sanctions_csv,
)
from chaintrail.intel.store import IntelStore
from chaintrail.intel.tagpack import ParsedPack, is_tagpack_doc, parse_tagpack
from chaintrail.intel.taxonomy import load_taxonomy

_SKIP_NAMES = frozenset({"header.yaml", "config.yaml"})
ProgressFn = Callable[[str, int], None]


@dataclass
class ImportSummary:
    """What an import stored: counts per kind and the warnings (first few kept, all counted)."""

    tagpacks: int = 0
    tags: int = 0
    duplicates: int = 0
    actorpacks: int = 0
    actors: int = 0
    lists: int = 0
    list_entries: int = 0
    csv_files: int = 0
    n_warnings: int = 0
    warnings: list[str] = field(default_factory=list)
    items: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The summary as a JSON-ready dict."""
        return dict(self.__dict__)


def collect(paths: list[Path]) -> list[tuple[str, Path]]:
    """Expand files and folders into ``(kind, path)`` pairs: tagpack, actorpack, ofac, list-csv, tag-csv."""
    out: list[tuple[str, Path]] = []
    for p in paths:
        if not p.exists():
            raise InputError("no such file or folder", source=str(p))
        if p.is_dir():
            if is_ofac_path(p):
                out.append(("ofac", p))
            for f in sorted(p.rglob("*")):
                if f.is_dir() and f != p and is_ofac_path(f):
                    out.append(("ofac", f))
                if (
                    not f.is_file()
                    or f.name in _SKIP_NAMES
                    or any(part.startswith(".") for part in f.parts[len(p.parts) :])
                ):
                    continue
                if f.suffix in (".yaml", ".yml"):
                    if is_actorpack(f):
                        out.append(("actorpack", f))
                    elif is_tagpack_doc(f):
                        out.append(("tagpack", f))
                elif f.suffix == ".csv" and is_sanctions_csv(f):
                    out.append(("list-csv", f))
            continue
        if p.suffix in (".yaml", ".yml"):
            if is_actorpack(p):
                out.append(("actorpack", p))
            elif is_tagpack_doc(p):
                out.append(("tagpack", p))
            else:
                raise ValidationError(
                    "not a TagPack (no top-level 'tags:') nor an ActorPack", source=f"{p}:1"
                )
        elif is_ofac_path(p):
            out.append(("ofac", p))
        elif p.suffix == ".csv":
            out.append(("list-csv" if is_sanctions_csv(p) else "tag-csv", p))
        else:
            raise InputError(
                "unknown format; expected a TagPack/ActorPack (.yaml), OFAC list (.txt) or CSV",
                source=str(p),
            )
    if not out:
        raise InputError("nothing to import found", source=", ".join(str(p) for p in paths))
    return out


def _list_tags(parsed: ParsedList) -> pa.Table:
    e = parsed.entries
    n = parsed.n_entries
    taxo = load_taxonomy()
    cols = empty_columns()
    cols.update(
        pack_id=[f"list:{parsed.list_id}"] * n,
        subject_type=["address"] * n,
        subject=e["address"],
        subject_key=e["address_key"],
        currency=e["currency"],
        network=e["currency"],
        label=e["label"],
        category=e["category"],
        abuse=[
            c if c in ("sanction", "gov_black_list", "black_list") else None for c in e["category"]
        ],
        concepts=[[c] if c else [] for c in e["category"]],
        actor=[None] * n,
        confidence=e["confidence"],
        confidence_level=[taxo.level(c) for c in e["confidence"]],
        source=e["source"],
        creator=[parsed.list_id] * n,
        lastmod=[parsed.version] * n,
        tlp=[DEFAULT_TLP["list"]] * n,
        provenance=["list"] * n,
        is_cluster_definer=[False] * n,
        tag_type=["actor"] * n,
        context=[None] * n,
        line=[None] * n,
    )
    return columns_to_arrow(cols)


def import_paths(
    store_dir: str | Path,
    paths: list[Path],
    *,
    as_of: dt.date | None = None,
    tlp: str | None = None,
    progress: ProgressFn | None = None,
) -> ImportSummary:
    """Import every pack, list and CSV under ``paths`` into ``<store_dir>/intel.duckdb``, atomically."""
    from chaintrail.intel.csvio import parse_tag_csv

    tlp = normalise_tlp(tlp)
    jobs = collect(paths)
    parsed: list[tuple[str, Any]] = []
    summary = ImportSummary()
    for kind, path in jobs:
        if progress:
            progress(str(path.name), 0)
        if kind == "tagpack":
            item: Any = parse_tagpack(path, tlp=tlp)
        elif kind == "actorpack":
            item = parse_actorpack(path)
        elif kind == "ofac":
            item = parse_ofac(path, as_of=as_of)
        elif kind == "list-csv":
            item = parse_sanctions_csv(path, as_of=as_of)
        else:
            item = parse_tag_csv(path, tlp=tlp)
        parsed.append((kind, item))
        if progress:
            progress(str(path.name), 1)
    with IntelStore.open(store_dir) as store, store.transaction():
        for kind, item in parsed:
            _store_one(store, kind, item, summary)
    return summary


def _warn(summary: ImportSummary, warnings: list[str], total: int | None = None) -> None:
    summary.n_warnings += total if total is not None else len(warnings)
    room = 50 - len(summary.warnings)
    if room > 0:
        summary.warnings.extend(warnings[:room])


def _store_one(store: IntelStore, kind: str, item: Any, summary: ImportSummary) -> None:
    if isinstance(item, ParsedPack):
        meta = {"pack_id": item.pack_id, "kind": kind if kind == "tag-csv" else "tagpack", "title": item.title,
                "creator": item.creator, "description": item.description, "path": item.path,
                "n_items": item.n_tags, "n_warnings": item.n_warnings}  # fmt: skip
        store.replace_pack(meta, tags=columns_to_arrow(item.columns))
        if kind == "tag-csv":
            summary.csv_files += 1
        else:
            summary.tagpacks += 1
        summary.tags += item.n_tags
        summary.duplicates += item.n_duplicates
        _warn(summary, item.warnings, item.n_warnings)
        summary.items.append(
            {"kind": kind, "id": item.pack_id, "path": item.path, "tags": item.n_tags}
        )
    elif isinstance(item, ParsedActorPack):
        meta = {"pack_id": item.pack_id, "kind": "actorpack", "title": item.title, "creator": item.creator,
                "description": item.description, "path": item.path, "n_items": item.n_actors, "n_warnings": 0}  # fmt: skip
        store.replace_pack(meta, actors=item.to_arrow())
        summary.actorpacks += 1
        summary.actors += item.n_actors
        summary.items.append(
            {"kind": kind, "id": item.pack_id, "path": item.path, "actors": item.n_actors}
        )
    elif isinstance(item, ParsedList):
        entries = pa.table({"list_id": [item.list_id] * item.n_entries, "version": [item.version] * item.n_entries,
                            **item.entries})  # fmt: skip
        entries = entries.set_column(
            entries.schema.get_field_index("listed_since"), "listed_since",
            pa.array(item.entries["listed_since"], type=pa.date32()),
        )  # fmt: skip
        store.replace_list_version(item.list_id, item.version, item.path, entries)
        latest = store.latest_list_version(item.list_id)
        if latest is None or latest <= item.version:
            meta = {"pack_id": f"list:{item.list_id}", "kind": "list", "title": f"{item.list_id} {item.version}",
                    "creator": item.list_id, "description": f"list version of {item.version}", "path": item.path,
                    "n_items": item.n_entries, "n_warnings": len(item.warnings)}  # fmt: skip
            store.replace_pack(meta, tags=_list_tags(item))
        summary.lists += 1
        summary.list_entries += item.n_entries
        _warn(summary, item.warnings)
        summary.items.append({"kind": kind, "id": item.list_id, "version": item.version.isoformat(),
                              "path": item.path, "entries": item.n_entries})  # fmt: skip
