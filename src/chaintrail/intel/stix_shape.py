"""The JSON shape of the STIX 2.1 objects chaintrail reads, checked before it reads them.

:func:`check_object` checks one bundle object: the common properties (extensions, markings,
times, references), the standard properties of the types chaintrail imports (wallets,
transactions, addresses, identities, accounts, notes, relationships, groupings) and the content
of chaintrail's own extensions. The first wrong field is a ValidationError naming its path,
e.g. ``case.json, field 'objects[7].value': expected non-empty text, got a number (5)``.
"""

from __future__ import annotations

import json
from typing import Any

from chaintrail.errors import ValidationError
from chaintrail.intel.jsonshape import (
    OBJECT,
    OBJECTS,
    REQUIRED_TEXT,
    TEXT,
    Rule,
    check_fields,
    is_int,
    is_iso_time,
    list_of,
)
from chaintrail.intel.stix_model import ENTITY_EXT, LINK_EXT, TAG_EXT

TIME = Rule(is_iso_time, "a STIX timestamp")
REFS = list_of(REQUIRED_TEXT, "a list of object ids")
TEXTS = list_of(TEXT, "a list of text")
CONFIDENCE = Rule(lambda v: is_int(v) and 0 <= v <= 100, "a whole number 0-100")
COMMON: dict[str, Rule] = {
    "extensions": OBJECT, "object_marking_refs": REFS, "created": TIME, "modified": TIME,
    "labels": TEXTS, "external_references": OBJECTS, "confidence": CONFIDENCE, "name": TEXT,
    "description": TEXT,
}  # fmt: skip
FLOWS = list_of(OBJECT, "a list of {address_ref, amount} objects")
BY_TYPE: dict[str, tuple[dict[str, Rule], tuple[str, ...]]] = {
    "cryptocurrency-wallet": ({"value": REQUIRED_TEXT}, ("value",)),
    "cryptocurrency-transaction": ({"value": REQUIRED_TEXT, "symbol": TEXT, "execution_time": TIME,
                                    "fee": Rule(is_int, "satoshis (a whole number)"), "input": FLOWS,
                                    "output": FLOWS}, ("value",)),
    "ipv4-addr": ({"value": REQUIRED_TEXT}, ("value",)),
    "ipv6-addr": ({"value": REQUIRED_TEXT}, ("value",)),
    "email-addr": ({"value": REQUIRED_TEXT}, ("value",)),
    "identity": ({"name": REQUIRED_TEXT, "identity_class": TEXT}, ("name",)),
    "threat-actor": ({"name": REQUIRED_TEXT}, ("name",)),
    "user-account": ({"account_type": TEXT, "account_login": TEXT, "user_id": TEXT,
                      "display_name": TEXT}, ()),
    "note": ({"object_refs": REFS, "abstract": TEXT, "content": TEXT, "authors": TEXTS}, ("object_refs",)),
    "relationship": ({"relationship_type": REQUIRED_TEXT, "source_ref": REQUIRED_TEXT,
                      "target_ref": REQUIRED_TEXT, "start_time": TIME, "stop_time": TIME},
                     ("relationship_type", "source_ref", "target_ref")),
    "grouping": ({"object_refs": REFS}, ()),
}  # fmt: skip
FLOW: dict[str, Rule] = {"address_ref": REQUIRED_TEXT, "amount": Rule(is_int, "satoshis (a whole number)")}
EXTENSIONS: dict[str, tuple[dict[str, Rule], tuple[str, ...]]] = {
    ENTITY_EXT: ({"kind": REQUIRED_TEXT, "value": REQUIRED_TEXT, "name": TEXT, "tlp": TEXT,
                  "attrs": TEXT}, ("kind", "value")),
    TAG_EXT: ({}, ()),  # the whole tag record: checked with the bundle (bundle_check)
    LINK_EXT: ({"src": REQUIRED_TEXT, "dst": REQUIRED_TEXT}, ("src", "dst")),
}  # fmt: skip


def check_object(o: dict[str, Any], k: int, source: str) -> None:
    """Raise ValidationError at the first field of bundle object ``objects[k]`` chaintrail
    cannot read (types it does not import are checked for the common properties only)."""
    where = f"objects[{k}]"
    check_fields(o, COMMON, where, source)
    rules, required = BY_TYPE.get(o["type"], ({}, ()))
    check_fields(o, rules, where, source, required)
    for side in ("input", "output"):
        for i, flow in enumerate(o.get(side) or [] if o["type"] == "cryptocurrency-transaction" else []):
            check_fields(flow, FLOW, f"{where}.{side}[{i}]", source, ("address_ref",))
    for ext_id, (ext_rules, ext_required) in EXTENSIONS.items():
        ext = (o.get("extensions") or {}).get(ext_id)
        if ext is None:
            continue
        at = f"{where}.extensions.{ext_id}"
        check_fields(ext, ext_rules, at, source, ext_required)
        attrs = ext.get("attrs") if ext_id == ENTITY_EXT else None
        if attrs:
            try:
                parsed = json.loads(attrs)
            except json.JSONDecodeError:
                parsed = None
            if not isinstance(parsed, dict):
                raise ValidationError(f"expected a JSON object as text, got {attrs[:60]!r}",
                                      source=source, field=f"{at}.attrs")  # fmt: skip
