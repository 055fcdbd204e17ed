"""GraphSense TagPack parsing and validation, with ``file:line`` in every error.

Rules (as GraphSense's tagpack tool applies them): an optional ``header:`` mapping is merged into
the top level; every tag field given at top level is inherited by each tag unless the tag sets
it; unknown keys and null values are errors; ``label``, ``source``, ``currency`` and
``confidence`` are mandatory per tag (directly or inherited); exactly one of ``address`` and
``tx_hash``; ``confidence``, ``category``, ``abuse``, ``concepts`` and ``tag_type`` must come from
the taxonomy. A pack with no confidence anywhere gets the lowest level (``unknown``) and a warning;
``network`` defaults to ``currency``. Duplicate tags (same address, currency, network, label and
source) are dropped with a warning; doubtful address checksums are warnings.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chaintrail.errors import ValidationError
from chaintrail.intel.addresscheck import address_warning, canonical_address, invalid_btc_addresses
from chaintrail.intel.model import DEFAULT_TLP, empty_columns, to_date
from chaintrail.intel.taxonomy import Taxonomy, load_taxonomy
from chaintrail.intel.yamlload import LineDict, load_yaml

HEADER_FIELDS = frozenset({"title", "creator", "description", "owner", "is_public", "tags", "tlp"})
TEXT_FIELDS = frozenset(
    {"label", "source", "currency", "network", "confidence", "category", "abuse", "address",
     "tx_hash", "actor", "tag_type"}
)  # fmt: skip
TAG_FIELDS = TEXT_FIELDS | {"context", "is_cluster_definer", "lastmod", "concepts"}
_PLAIN_TEXT = frozenset({"label", "source", "currency", "network", "address", "tx_hash", "actor"})
MANDATORY_TAG = ("label", "source", "currency", "confidence")
_TAXO_FIELDS = ("category", "abuse")
MAX_WARNINGS = 200


@dataclass
class ParsedPack:
    """A validated pack: header, tag columns ready for storage, and warnings."""

    pack_id: str
    path: str
    title: str
    creator: str
    description: str | None
    is_public: bool
    columns: dict[str, list[Any]]
    n_tags: int
    n_duplicates: int = 0
    warnings: list[str] = field(default_factory=list)
    n_warnings: int = 0

    def warn(self, message: str) -> None:
        """Record a warning (only the first MAX_WARNINGS are kept, all are counted)."""
        self.n_warnings += 1
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(message)


def pack_id_for(path: Path) -> str:
    """The identity of a pack file: its path below a ``packs/`` folder, else its file name.

    Re-importing a pack with the same identity replaces the earlier import.
    """
    parts = path.resolve().parts
    if "packs" in parts:
        i = len(parts) - 1 - parts[::-1].index("packs")
        rel = "/".join(parts[i + 1 :])
        if rel:
            return rel
    return path.name


def _check_value(name: str, value: Any, where: str, taxo: Taxonomy) -> Any:
    """Type- and taxonomy-check one field value; returns the normalised value."""
    if value is None:
        raise ValidationError("value must not be empty (null)", source=where, field=name)
    if name in TEXT_FIELDS:
        if not isinstance(value, str):
            raise ValidationError(
                f"expected text, got {type(value).__name__} {value!r} (quote it)",
                source=where,
                field=name,
            )
        if name == "confidence" and value not in taxo.confidence:
            raise ValidationError(
                f"unknown confidence {value!r}; expected one of {', '.join(taxo.confidence)}",
                source=where,
                field=name,
            )
        if name in _TAXO_FIELDS and value not in taxo.concepts:
            raise ValidationError(f"unknown concept {value!r}", source=where, field=name)
        if name == "tag_type" and value not in taxo.tag_types:
            raise ValidationError(
                f"unknown tag type {value!r}; expected one of {', '.join(sorted(taxo.tag_types))}",
                source=where,
                field=name,
            )
        return value
    if name == "is_cluster_definer":
        if not isinstance(value, bool):
            raise ValidationError(f"expected true/false, got {value!r}", source=where, field=name)
        return value
    if name == "lastmod":
        try:
            return to_date(value)
        except (ValueError, TypeError, OverflowError) as exc:
            raise ValidationError(
                f"expected a date, got {value!r}", source=where, field=name
            ) from exc
    if name == "concepts":
        if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
            raise ValidationError("expected a list of concept ids", source=where, field=name)
        for c in value:
            if c not in taxo.concepts:
                raise ValidationError(f"unknown concept {c!r}", source=where, field=name)
        return list(value)
    if name == "context":
        if isinstance(value, dict):
            return json.dumps(value, sort_keys=True, default=str)
        if isinstance(value, str):
            return value
        raise ValidationError("expected a mapping or JSON text", source=where, field=name)
    return value


def parse_tagpack(
    path: str | Path, *, tlp: str | None = None, taxo: Taxonomy | None = None
) -> ParsedPack:
    """Load and validate one TagPack file; raises ValidationError/DecodeError with file:line."""
    path = Path(path)
    taxo = taxo or load_taxonomy()
    doc = load_yaml(path)
    src = str(path)
    if not isinstance(doc, LineDict):
        raise ValidationError("a TagPack must be a YAML mapping", source=f"{src}:1")
    top: dict[str, Any] = dict(doc)
    lines: dict[str, int] = dict(doc.key_lines)
    if "header" in top:
        hdr = top.pop("header")
        if not isinstance(hdr, LineDict):
            raise ValidationError("'header' must be a mapping", source=f"{src}:{lines['header']}")
        for k, v in hdr.items():
            top[k] = v
            lines[k] = hdr.line_of(k)
    for k, v in top.items():
        where = f"{src}:{lines.get(k, 1)}"
        if k not in HEADER_FIELDS and k not in TAG_FIELDS:
            raise ValidationError("field not allowed in a TagPack header", source=where, field=k)
        if v is None:
            raise ValidationError("value must not be empty (null)", source=where, field=k)
    for k in ("title", "creator", "tags"):
        if k not in top:
            raise ValidationError("mandatory header field missing", source=f"{src}:1", field=k)
    for k in ("title", "creator", "description", "owner"):
        if k in top and not isinstance(top[k], str):
            raise ValidationError("expected text", source=f"{src}:{lines[k]}", field=k)
    if "is_public" in top and not isinstance(top["is_public"], bool):
        raise ValidationError(
            "expected true/false", source=f"{src}:{lines['is_public']}", field="is_public"
        )
    tags = top["tags"]
    if not isinstance(tags, list) or not tags:
        raise ValidationError(
            "expected a non-empty list of tags", source=f"{src}:{lines['tags']}", field="tags"
        )

    header = {
        k: _check_value(k, v, f"{src}:{lines[k]}", taxo) for k, v in top.items() if k in TAG_FIELDS
    }
    pack_tlp = tlp or top.get("tlp") or DEFAULT_TLP["pack"]
    pack = ParsedPack(
        pack_id=pack_id_for(path),
        path=src,
        title=top["title"],
        creator=top["creator"],
        description=top.get("description"),
        is_public=bool(top.get("is_public", True)),
        columns=empty_columns(),
        n_tags=0,
    )
    if "confidence" not in header and not all(
        isinstance(t, dict) and "confidence" in t for t in tags
    ):
        header["confidence"] = taxo.lowest_confidence
        pack.warn(
            f"{src}: not every tag has a confidence; using {taxo.lowest_confidence!r} for those"
        )
    _fill_columns(pack, tags, header, taxo, src, pack_tlp)
    return pack


def _fill_columns(
    pack: ParsedPack, tags: list[Any], header: dict[str, Any], taxo: Taxonomy, src: str, tlp: str
) -> None:
    cols = pack.columns
    c_subject_type, c_subject, c_key = cols["subject_type"], cols["subject"], cols["subject_key"]
    c_currency, c_network, c_label = cols["currency"], cols["network"], cols["label"]
    c_category, c_abuse, c_concepts = cols["category"], cols["abuse"], cols["concepts"]
    c_actor, c_conf, c_level, c_source = (
        cols["actor"],
        cols["confidence"],
        cols["confidence_level"],
        cols["source"],
    )
    c_lastmod, c_definer, c_type, c_context, c_line = (
        cols["lastmod"], cols["is_cluster_definer"], cols["tag_type"], cols["context"], cols["line"]
    )  # fmt: skip
    levels = taxo.confidence
    seen: set[tuple[str, ...]] = set()
    allowed = TAG_FIELDS
    plain_text = _PLAIN_TEXT
    check = _check_value
    btc_rows: list[int] = []
    btc_addrs: list[str] = []
    for tag in tags:
        if not isinstance(tag, LineDict):
            raise ValidationError(
                "each tag must be a mapping", source=f"{src}:{getattr(tag, 'line', 1)}"
            )
        line = tag.line
        t = dict(header)
        for k, v in tag.items():
            if k not in allowed:
                raise ValidationError(
                    "field not allowed in a tag", source=f"{src}:{tag.line_of(k)}", field=k
                )
            if k in plain_text and type(v) is str:
                t[k] = v
            else:
                t[k] = check(k, v, f"{src}:{tag.line_of(k)}", taxo)
        for k in MANDATORY_TAG:
            if k not in t:
                raise ValidationError(
                    "mandatory tag field missing", source=f"{src}:{line}", field=k
                )
        address = t.get("address")
        tx_hash = t.get("tx_hash")
        for k, v in (("address", address), ("tx_hash", tx_hash)):
            if v is not None and not v.strip():
                raise ValidationError(
                    "expected an address or hash, got empty text", source=f"{src}:{tag.line_of(k)}", field=k
                )
        if (address is None) == (tx_hash is None):
            raise ValidationError(
                "a tag needs exactly one of 'address' and 'tx_hash'", source=f"{src}:{line}"
            )
        currency = t["currency"]
        network = t.get("network", currency)
        dkey = (
            (address or tx_hash).lower(), currency.lower(), network.lower(), t["label"].lower(),
            t["source"].lower(),
        )  # fmt: skip
        if dkey in seen:
            pack.n_duplicates += 1
            pack.warn(f"{src}:{line}: duplicate tag {address or tx_hash} {t['label']!r} dropped")
            continue
        seen.add(dkey)
        if address is not None:
            if currency == "BTC":
                btc_rows.append(line)
                btc_addrs.append(address)
            else:
                msg = address_warning(currency, address)
                if msg:
                    pack.warn(f"{src}:{line}: {msg}")
            c_subject_type.append("address")
            c_subject.append(address)
            c_key.append(canonical_address(address))
        else:
            c_subject_type.append("tx")
            c_subject.append(tx_hash)
            c_key.append(tx_hash.lower())
        concepts = list(t.get("concepts", ()))
        abuse = t.get("abuse")
        category = t.get("category")
        if abuse and abuse not in concepts:
            concepts.append(abuse)
        if category and category not in concepts:
            concepts.append(category)
        c_currency.append(currency)
        c_network.append(network)
        c_label.append(t["label"])
        c_category.append(category)
        c_abuse.append(abuse)
        c_concepts.append(concepts)
        c_actor.append(t.get("actor"))
        c_conf.append(t["confidence"])
        c_level.append(levels[t["confidence"]])
        c_source.append(t["source"])
        c_lastmod.append(t.get("lastmod"))
        c_definer.append(bool(t.get("is_cluster_definer", False)))
        c_type.append(t.get("tag_type"))
        c_context.append(t.get("context"))
        c_line.append(line)
    for i in invalid_btc_addresses(btc_addrs):
        pack.warn(
            f"{src}:{btc_rows[i]}: possibly invalid BTC address (checksum or format): {btc_addrs[i]}"
        )
    n = len(c_subject)
    pack.n_tags = n
    cols["pack_id"] = [pack.pack_id] * n
    cols["creator"] = [pack.creator] * n
    cols["tlp"] = [tlp] * n
    cols["provenance"] = ["pack"] * n


def is_tagpack_doc(path: Path) -> bool:
    """Cheap format sniff: a YAML file with a top-level ``tags:`` key in its first 400 lines."""
    try:
        with path.open("r", encoding="utf-8", errors="replace") as fh:
            for _ in range(400):
                line = fh.readline()
                if not line:
                    break
                if line.startswith("tags:"):
                    return True
    except OSError:
        return False
    return False


_ = dt  # dates flow through to_date
