"""Shape checks of a parsed :class:`~chaintrail.intel.bundle.IntelBundle` before it is stored.

STIX and MISP files carry chaintrail's records in extensions and comments, so a hand-edited or
foreign file can put a number where text belongs or a list where an object belongs. Every tag,
entity, link, transaction and actor field is checked here against the type chaintrail stores; a
wrong one is a :class:`~chaintrail.errors.ValidationError` naming the file, the item (its
subject, id or hash) and the field, with what was expected. Values are not changed.
"""

from __future__ import annotations

import re
from typing import Any

from chaintrail.intel.jsonshape import (
    REQUIRED_TEXT,
    TEXT,
    Rule,
    check_fields,
    is_int,
    is_iso_time,
    is_object,
    is_text,
    list_of,
)
from chaintrail.intel.model import SUBJECT_TYPES

_TXID = re.compile(r"[0-9a-fA-F]{64}")
TIME = Rule(is_iso_time, "an ISO date or time")
CONCEPTS = list_of(TEXT, "a list of concept ids")


def _flow(v: Any) -> bool:
    return isinstance(v, dict) and (v.get("address") is None or isinstance(v["address"], str)) \
        and (v.get("amount") is None or is_int(v["amount"]))  # fmt: skip


FLOWS = list_of(Rule(_flow, "an {address: text, amount: satoshis} object"), "a list of flows")
RULES: dict[str, tuple[dict[str, Rule], str, tuple[str, ...]]] = {  # kind: rules, name field, required
    "tag": ({
        "subject": REQUIRED_TEXT, "label": REQUIRED_TEXT,
        "subject_type": Rule(lambda v: v in SUBJECT_TYPES, f"one of {', '.join(SUBJECT_TYPES)}"),
        "currency": TEXT, "network": TEXT, "category": TEXT, "abuse": TEXT, "actor": TEXT,
        "confidence": TEXT, "source": TEXT, "creator": TEXT, "tlp": TEXT, "provenance": TEXT,
        "tag_type": TEXT, "context": TEXT, "concepts": CONCEPTS, "lastmod": TIME,
        "confidence_level": Rule(is_int, "a whole number 0-100"),
        "is_cluster_definer": Rule(lambda v: isinstance(v, bool), "true or false"),
    }, "subject", ("subject", "label")),
    "entity": ({
        "id": REQUIRED_TEXT, "kind": REQUIRED_TEXT, "value": REQUIRED_TEXT, "name": TEXT,
        "tlp": TEXT, "attrs": Rule(is_object, "an object of attributes"),
    }, "id", ("id", "kind", "value")),
    "link": ({
        "src": REQUIRED_TEXT, "dst": REQUIRED_TEXT, "relation": TEXT, "evidence": TEXT,
        "note": TEXT, "tlp": TEXT, "link_id": TEXT, "observed_at": TIME, "valid_from": TIME,
        "valid_to": TIME, "confidence": Rule(lambda v: is_int(v) or is_text(v), "0-100 or a confidence name"),
    }, "src", ("src", "dst")),
    "transaction": ({
        "tx_hash": Rule(lambda v: isinstance(v, str) and bool(_TXID.fullmatch(v)), "64 hex digits"),
        "currency": TEXT, "fee": Rule(is_int, "satoshis (a whole number)"), "execution_time": TIME, "inputs": FLOWS,
        "outputs": FLOWS,
    }, "tx_hash", ("tx_hash",)),
    "actor": ({
        "actor_id": REQUIRED_TEXT, "label": TEXT, "uri": TEXT, "categories": CONCEPTS,
    }, "actor_id", ("actor_id",)),
}  # fmt: skip


def check_bundle(bundle: Any, source: str) -> None:
    """Raise ValidationError at the first field of ``bundle`` (an IntelBundle) whose type
    chaintrail cannot store."""
    for kind, items in (("tag", bundle.tags), ("entity", bundle.entities), ("link", bundle.links),
                        ("transaction", bundle.transactions), ("actor", bundle.actors)):  # fmt: skip
        rules, name_key, required = RULES[kind]
        for n, item in enumerate(items):
            name = item.get(name_key) if isinstance(item, dict) else None
            where = f"{kind} {name[:80]!r}" if isinstance(name, str) and name else f"{kind} #{n + 1}"
            check_fields(item, rules, where, source, required, path=False)
