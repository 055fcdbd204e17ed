"""GraphSense ActorPack parsing and validation (``*actorpack.yaml``), errors with ``file:line``.

Header: ``title``, ``creator`` and ``actors`` are mandatory; any actor field in the header
(e.g. ``lastmod``) is inherited by every actor. Each actor needs ``id``, ``uri``, ``label``,
``lastmod`` and ``categories`` (concept ids); ``jurisdictions`` must be ISO country codes;
``context`` is kept as JSON text. Unknown fields, nulls, unknown concepts and duplicate ids are
errors.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from chaintrail.errors import ValidationError
from chaintrail.intel.model import to_date
from chaintrail.intel.taxonomy import Taxonomy, load_taxonomy
from chaintrail.intel.yamlload import LineDict, load_yaml

HEADER_FIELDS = frozenset({"title", "creator", "description", "is_public", "actors"})
ACTOR_FIELDS = frozenset(
    {"id", "uri", "label", "lastmod", "categories", "jurisdictions", "context", "aliases"}
)
MANDATORY_ACTOR = ("id", "uri", "label", "lastmod", "categories")

ACTOR_SCHEMA = pa.schema(
    [
        ("actor_id", pa.string()),
        ("pack_id", pa.string()),
        ("label", pa.string()),
        ("uri", pa.string()),
        ("lastmod", pa.date32()),
        ("categories", pa.list_(pa.string())),
        ("jurisdictions", pa.list_(pa.string())),
        ("aliases", pa.list_(pa.string())),
        ("context", pa.string()),
    ]
)


@dataclass
class ParsedActorPack:
    """A validated ActorPack: header and actor rows ready for storage."""

    pack_id: str
    path: str
    title: str
    creator: str
    description: str | None
    rows: dict[str, list[Any]]
    warnings: list[str] = field(default_factory=list)

    @property
    def n_actors(self) -> int:
        """Number of actors in the pack."""
        return len(self.rows["actor_id"])

    def to_arrow(self) -> pa.Table:
        """Actor rows as an Arrow table with :data:`ACTOR_SCHEMA`."""
        return pa.table(
            {n: pa.array(self.rows[n], type=ACTOR_SCHEMA.field(n).type) for n in ACTOR_SCHEMA.names}
        )


def _str_list(value: Any, where: str, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError("expected a list of text values", source=where, field=name)
    return list(value)


def parse_actorpack(path: str | Path, *, taxo: Taxonomy | None = None) -> ParsedActorPack:
    """Load and validate one ActorPack file; raises ValidationError/DecodeError with file:line."""
    path = Path(path)
    taxo = taxo or load_taxonomy()
    src = str(path)
    doc = load_yaml(path)
    if not isinstance(doc, LineDict):
        raise ValidationError("an ActorPack must be a YAML mapping", source=f"{src}:1")
    top: dict[str, Any] = dict(doc)
    lines = dict(doc.key_lines)
    if isinstance(top.get("header"), LineDict):
        hdr = top.pop("header")
        for k, v in hdr.items():
            top[k] = v
            lines[k] = hdr.line_of(k)
    for k, v in top.items():
        if k not in HEADER_FIELDS and k not in ACTOR_FIELDS:
            raise ValidationError(
                "field not allowed in an ActorPack header", source=f"{src}:{lines[k]}", field=k
            )
        if v is None:
            raise ValidationError(
                "value must not be empty (null)", source=f"{src}:{lines[k]}", field=k
            )
    for k in ("title", "creator", "actors"):
        if k not in top:
            raise ValidationError("mandatory header field missing", source=f"{src}:1", field=k)
    actors = top["actors"]
    if not isinstance(actors, list) or not actors:
        raise ValidationError(
            "expected a non-empty list of actors", source=f"{src}:{lines['actors']}", field="actors"
        )
    inherited = {k: (v, lines[k]) for k, v in top.items() if k in ACTOR_FIELDS}
    rows: dict[str, list[Any]] = {n: [] for n in ACTOR_SCHEMA.names}
    pack_id = path.name
    seen: dict[str, int] = {}
    for actor in actors:
        if not isinstance(actor, LineDict):
            raise ValidationError("each actor must be a mapping", source=f"{src}:{lines['actors']}")
        merged: dict[str, tuple[Any, int]] = dict(inherited)
        for k, v in actor.items():
            where = f"{src}:{actor.line_of(k)}"
            if k not in ACTOR_FIELDS:
                raise ValidationError("field not allowed in an actor", source=where, field=k)
            if v is None and k != "context":
                raise ValidationError("value must not be empty (null)", source=where, field=k)
            merged[k] = (v, actor.line_of(k))
        for k in MANDATORY_ACTOR:
            if k not in merged:
                raise ValidationError(
                    "mandatory actor field missing", source=f"{src}:{actor.line}", field=k
                )
        values = {k: v for k, (v, _) in merged.items()}
        where_of = {k: f"{src}:{ln}" for k, (_, ln) in merged.items()}
        for k in ("id", "uri", "label"):
            if not isinstance(values[k], str):
                raise ValidationError("expected text (quote it)", source=where_of[k], field=k)
        aid = values["id"]
        if aid in seen:
            raise ValidationError(
                f"actor id {aid!r} already defined at line {seen[aid]}",
                source=where_of["id"],
                field="id",
            )
        seen[aid] = actor.line
        cats = _str_list(values["categories"], where_of["categories"], "categories")
        for c in cats:
            if c not in taxo.concepts:
                raise ValidationError(
                    f"unknown concept {c!r}", source=where_of["categories"], field="categories"
                )
        juris = _str_list(
            values.get("jurisdictions", []), where_of.get("jurisdictions", src), "jurisdictions"
        )
        for j in juris:
            if j not in taxo.countries:
                raise ValidationError(
                    f"unknown country code {j!r}",
                    source=where_of["jurisdictions"],
                    field="jurisdictions",
                )
        aliases = _str_list(values.get("aliases", []), where_of.get("aliases", src), "aliases")
        ctx = values.get("context")
        if ctx is not None and not isinstance(ctx, dict | str):
            raise ValidationError(
                "expected a mapping or JSON text", source=where_of["context"], field="context"
            )
        try:
            lastmod = to_date(values["lastmod"])
        except (ValueError, TypeError) as exc:
            raise ValidationError(
                "expected a date", source=where_of["lastmod"], field="lastmod"
            ) from exc
        rows["actor_id"].append(aid)
        rows["pack_id"].append(pack_id)
        rows["label"].append(values["label"])
        rows["uri"].append(values["uri"])
        rows["lastmod"].append(lastmod)
        rows["categories"].append(cats)
        rows["jurisdictions"].append(juris)
        rows["aliases"].append(aliases)
        rows["context"].append(
            json.dumps(ctx, sort_keys=True, default=str) if isinstance(ctx, dict) else ctx
        )
    return ParsedActorPack(pack_id, src, top["title"], top["creator"], top.get("description"), rows)


def is_actorpack(path: Path) -> bool:
    """True for ``*actorpack.yaml`` files (GraphSense's naming convention)."""
    return path.name.endswith(("actorpack.yaml", "actorpack.yml"))
