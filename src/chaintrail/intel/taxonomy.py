"""The GraphSense vocabularies tags are checked against: concepts, confidence levels, tag types.

Loaded once from package data (``chaintrail/data/intel``), so validation never needs a network
or the shared data folder.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: TLP 2.0 levels, most open first.
TLP_LEVELS = ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED")


@dataclass(frozen=True)
class Concept:
    """One concept of the taxonomy (``id`` as used in packs, its label and broader concept)."""

    id: str
    label: str
    description: str
    broader: str | None


@dataclass(frozen=True)
class Taxonomy:
    """Concepts (in file order), confidence names -> levels, tag types and country codes."""

    concepts: dict[str, Concept]
    confidence: dict[str, int]
    tag_types: frozenset[str]
    countries: frozenset[str]

    def level(self, confidence: str) -> int:
        """Numeric level (0-100) of a confidence name; KeyError if unknown."""
        return self.confidence[confidence]

    @property
    def lowest_confidence(self) -> str:
        """The confidence name with the lowest level (GraphSense's default when none is set)."""
        return min(self.confidence, key=lambda k: self.confidence[k])

    def ancestors(self, concept: str) -> list[str]:
        """The broader concepts of ``concept``, nearest first (empty for unknown ids)."""
        out: list[str] = []
        cur = self.concepts.get(concept)
        while cur is not None and cur.broader and cur.broader not in out:
            out.append(cur.broader)
            cur = self.concepts.get(cur.broader)
        return out


def _data_text(name: str) -> str:
    return resources.files("chaintrail").joinpath("data/intel/" + name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def load_taxonomy() -> Taxonomy:
    """The shipped taxonomy (93 concepts, 14 confidence levels), cached after the first call."""
    raw = yaml.load(_data_text("concepts.yaml"), Loader=_Loader)
    concepts: dict[str, Concept] = {}
    for key, item in raw.items():
        if key == "scheme" or not isinstance(item, dict):
            continue
        concepts[item["id"]] = Concept(
            id=item["id"],
            label=item.get("prefLabel", item["id"]),
            description=" ".join(str(item.get("description", "")).split()),
            broader=item.get("broader"),
        )
    confidence = {
        row["id"]: int(row["level"].strip())
        for row in csv.DictReader(_data_text("confidence.csv").splitlines())
    }
    tag_types = frozenset(r["id"] for r in csv.DictReader(_data_text("tag_types.csv").splitlines()))
    countries = frozenset(r["id"] for r in csv.DictReader(_data_text("countries.csv").splitlines()))
    return Taxonomy(concepts, confidence, tag_types, countries)
