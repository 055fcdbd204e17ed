"""Tags as CSV: export of any tag selection and import of such a file (a lossless round trip).

Columns are :data:`CSV_COLUMNS`; ``concepts`` are ``;``-separated; ``lastmod`` is ISO date;
``is_cluster_definer`` is ``true``/``false``. Only ``subject`` and ``label`` are required on import;
a CSV imports as the pack ``csv:<file name>`` (re-importing the file replaces it).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from chaintrail.atomicfile import atomic_output
from chaintrail.errors import ValidationError
from chaintrail.intel.addresscheck import canonical_address
from chaintrail.intel.model import (
    DEFAULT_TLP,
    PROVENANCES,
    SUBJECT_TYPES,
    empty_columns,
    normalise_tlp,
    to_date,
)
from chaintrail.intel.tagpack import ParsedPack
from chaintrail.intel.taxonomy import load_taxonomy

CSV_COLUMNS = (
    "subject_type", "subject", "currency", "label", "category", "abuse", "concepts", "actor",
    "confidence", "source", "creator", "lastmod", "tlp", "provenance", "is_cluster_definer",
    "tag_type", "context",
)  # fmt: skip


def write_tags_csv(tags: list[dict[str, Any]], out: str | Path, *, force: bool = False) -> int:
    """Write tag dicts (as :func:`~chaintrail.intel.model.tag_to_public` gives) to ``out``
    atomically (``force``: replace an existing file); returns the number of rows."""
    with atomic_output(out, newline="", force=force) as fh:
        w = csv.writer(fh)
        w.writerow(CSV_COLUMNS)
        for t in tags:
            row = []
            for c in CSV_COLUMNS:
                v = t.get(c)
                if c == "concepts":
                    v = ";".join(v or [])
                elif c == "is_cluster_definer":
                    v = "true" if v else "false"
                elif hasattr(v, "isoformat"):
                    v = v.isoformat()
                row.append("" if v is None else v)
            w.writerow(row)
    return len(tags)


def parse_tag_csv(path: str | Path, *, tlp: str | None = None) -> ParsedPack:
    """Read a tag CSV written by :func:`write_tags_csv` (or by hand) into a validated pack."""
    path = Path(path)
    taxo = load_taxonomy()
    cols = empty_columns()
    pack = ParsedPack(f"csv:{path.name}", str(path), path.name, "csv", None, False, cols, 0)
    with path.open("r", encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        header = [h.strip() for h in (reader.fieldnames or [])]
        unknown = [h for h in header if h not in CSV_COLUMNS]
        if unknown:
            raise ValidationError(
                f"unknown column {unknown[0]!r}; expected {','.join(CSV_COLUMNS)}",
                source=f"{path}:1",
            )
        for need in ("subject", "label"):
            if need not in header:
                raise ValidationError(f"missing column {need!r}", source=f"{path}:1")
        for row in reader:
            where = f"{path}:{reader.line_num}"
            r = {k.strip(): (v or "").strip() for k, v in row.items() if k}
            if not r.get("subject"):
                raise ValidationError("empty subject", source=where, field="subject")
            if not r.get("label"):
                raise ValidationError("empty label", source=where, field="label")
            stype = r.get("subject_type") or "address"
            if stype not in SUBJECT_TYPES:
                raise ValidationError(
                    f"subject_type must be one of {', '.join(SUBJECT_TYPES)}",
                    source=where,
                    field="subject_type",
                )
            concepts = [c for c in (r.get("concepts") or "").split(";") if c]
            for f in ("category", "abuse"):
                if r.get(f) and r[f] not in taxo.concepts:
                    raise ValidationError(f"unknown concept {r[f]!r}", source=where, field=f)
            for c in concepts:
                if c not in taxo.concepts:
                    raise ValidationError(f"unknown concept {c!r}", source=where, field="concepts")
            conf = r.get("confidence") or "unknown"
            if conf not in taxo.confidence:
                raise ValidationError(
                    f"unknown confidence {conf!r}", source=where, field="confidence"
                )
            prov = r.get("provenance") or "csv"
            if prov not in PROVENANCES:
                raise ValidationError(
                    f"provenance must be one of {', '.join(PROVENANCES)}",
                    source=where,
                    field="provenance",
                )
            try:
                lastmod = to_date(r.get("lastmod"))
            except ValueError as exc:
                raise ValidationError(
                    "expected an ISO date", source=where, field="lastmod"
                ) from exc
            subject = r["subject"]
            cols["subject_type"].append(stype)
            cols["subject"].append(subject)
            cols["subject_key"].append(
                canonical_address(subject) if stype == "address" else subject.lower()
            )
            cols["currency"].append(r.get("currency") or None)
            cols["network"].append(r.get("currency") or None)
            cols["label"].append(r["label"])
            cols["category"].append(r.get("category") or None)
            cols["abuse"].append(r.get("abuse") or None)
            cols["concepts"].append(concepts)
            cols["actor"].append(r.get("actor") or None)
            cols["confidence"].append(conf)
            cols["confidence_level"].append(taxo.level(conf))
            cols["source"].append(r.get("source") or str(path))
            cols["creator"].append(r.get("creator") or None)
            cols["lastmod"].append(lastmod)
            cols["tlp"].append(
                tlp or normalise_tlp(r.get("tlp"), source=where) or DEFAULT_TLP["csv"]
            )
            cols["provenance"].append(prov)
            cols["is_cluster_definer"].append(
                (r.get("is_cluster_definer") or "").lower() in ("true", "1", "yes")
            )
            cols["tag_type"].append(r.get("tag_type") or None)
            cols["context"].append(r.get("context") or None)
            cols["line"].append(reader.line_num)
    n = len(cols["subject"])
    cols["pack_id"] = [pack.pack_id] * n
    pack.n_tags = n
    return pack
