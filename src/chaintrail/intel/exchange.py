"""Export to and import from files: STIX 2.1, MISP and CSV (atomic writes, atomic imports)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chaintrail.atomicfile import check_output_target, write_text_atomic
from chaintrail.intel.views import open_chain_store


def export_file(fmt: str, store: Path, out: Path, *, address: list[str] | None = None,
                cluster: list[int] | None = None, tx: list[str] | None = None,
                force: bool = False) -> dict[str, int]:  # fmt: skip
    """Write the selected intel (all if nothing selected) as ``fmt`` to ``out``; returns the
    counts of what the file holds. ``out`` is refused before any work if it may not be written
    (see :func:`chaintrail.atomicfile.check_output_target`)."""
    from chaintrail.intel.bundle import select_bundle

    check_output_target(out, force=force)
    b = select_bundle(
        store,
        addresses=address,
        clusters=cluster,
        txs=tx,
        chain_store=open_chain_store(store) if (cluster or tx) else None,
    )
    if fmt == "stix":
        from chaintrail.intel.stix import bundle_to_stix

        write_text_atomic(out, bundle_to_stix(b), force=force)
    elif fmt == "misp":
        from chaintrail.intel.misp import bundle_to_misp

        write_text_atomic(out, bundle_to_misp(b), force=force)
    else:
        from chaintrail.intel.csvio import write_tags_csv

        return {"tags": write_tags_csv(b.tags, out, force=force)}  # a tag CSV holds tags only
    return b.counts()


def import_file(fmt: str, file: Path, store: Path) -> dict[str, Any]:
    """Import a STIX bundle, MISP event or CSV file into the intel store; returns counts."""
    from chaintrail.errors import InputError
    from chaintrail.intel.bundle import store_bundle

    if not file.is_file():
        raise InputError("no such file", source=str(file))
    if fmt == "csv":
        from chaintrail.intel.importer import import_paths

        s = import_paths(store, [file])
        counts = {"tags": s.tags, "list_entries": s.list_entries}
    else:
        text = file.read_text(encoding="utf-8")
        if fmt == "stix":
            from chaintrail.intel.stix_import import parse_stix

            b = parse_stix(text, str(file))
        else:
            from chaintrail.intel.misp import misp_to_bundle

            b = misp_to_bundle(text, str(file))
        counts = store_bundle(store, b, fmt=fmt, source_name=file.name, source=str(file))
        if b.skipped:
            counts["skipped_objects"] = sum(b.skipped.values())
            counts["skipped_types"] = dict(sorted(b.skipped.items()))  # type: ignore[assignment]
    return counts
