"""The JSON shape of a MISP event, checked before PyMISP reads it.

PyMISP trusts its input: ``{"Event": 5}`` fails inside it with ``'int' object has no attribute
'pop'``. :func:`check_event_shape` checks every part PyMISP and chaintrail read (the event's
scalars, attributes, objects, references and tags) and names the first that is wrong, e.g.
``case.json, field 'Event': expected an object, got a number (5)``.
"""

from __future__ import annotations

from typing import Any

from chaintrail.errors import ValidationError
from chaintrail.intel.jsonshape import (
    INT_LIKE,
    OBJECT,
    OBJECTS,
    REQUIRED_TEXT,
    TEXT,
    Rule,
    check_fields,
    describe,
    is_iso_time,
    is_scalar,
)

TAG: dict[str, Rule] = {"name": REQUIRED_TEXT}
ATTRIBUTE: dict[str, Rule] = {
    "value": Rule(is_scalar, "text or a number"), "type": TEXT, "object_relation": TEXT, "comment": TEXT,
    "uuid": TEXT, "category": TEXT, "distribution": INT_LIKE, "timestamp": INT_LIKE, "Tag": OBJECTS,
}  # fmt: skip
REFERENCE: dict[str, Rule] = {"referenced_uuid": REQUIRED_TEXT, "relationship_type": TEXT,
                              "comment": TEXT, "uuid": TEXT}  # fmt: skip
MISP_OBJECT: dict[str, Rule] = {
    "name": REQUIRED_TEXT, "comment": TEXT, "uuid": TEXT, "distribution": INT_LIKE,
    "timestamp": INT_LIKE, "template_version": INT_LIKE, "Attribute": OBJECTS,
    "ObjectReference": OBJECTS,
}  # fmt: skip
EVENT: dict[str, Rule] = {
    "info": REQUIRED_TEXT, "uuid": TEXT, "date": Rule(is_iso_time, "an ISO date"), "distribution": INT_LIKE,
    "threat_level_id": INT_LIKE, "analysis": INT_LIKE, "timestamp": INT_LIKE,
    "publish_timestamp": INT_LIKE, "id": INT_LIKE, "org_id": INT_LIKE, "orgc_id": INT_LIKE,
    "Attribute": OBJECTS, "Object": OBJECTS, "Tag": OBJECTS, "Galaxy": OBJECTS,
    "EventReport": OBJECTS, "Orgc": OBJECT, "Org": OBJECT,
}  # fmt: skip


def _attributes(items: list[dict[str, Any]] | None, where: str, source: str,
                required: tuple[str, ...] = ("value",)) -> None:  # fmt: skip
    for k, a in enumerate(items or []):
        at = f"{where}.Attribute[{k}]"
        check_fields(a, ATTRIBUTE, at, source, required)
        for t, tag in enumerate(a.get("Tag") or []):
            check_fields(tag, TAG, f"{at}.Tag[{t}]", source, ("name",))


def check_event_shape(doc: Any, source: str) -> dict[str, Any]:
    """The event object of a MISP JSON document (``{"Event": {...}}`` or the bare event), or a
    ValidationError naming the first field PyMISP or chaintrail could not read."""
    if not isinstance(doc, dict):
        raise ValidationError(
            f'expected a MISP event ({{"Event": {{...}}}}), got {describe(doc)}', source=source
        )
    event = doc["Event"] if "Event" in doc else doc
    if not isinstance(event, dict):
        raise ValidationError(f"expected an object, got {describe(event)}", source=source, field="Event")
    check_fields(event, EVENT, "Event", source, ("info",))
    _attributes(event.get("Attribute"), "Event", source)
    for t, tag in enumerate(event.get("Tag") or []):
        check_fields(tag, TAG, f"Event.Tag[{t}]", source, ("name",))
    for n, obj in enumerate(event.get("Object") or []):
        where = f"Event.Object[{n}]"
        check_fields(obj, MISP_OBJECT, where, source, ("name",))
        _attributes(obj.get("Attribute"), where, source, ("value", "object_relation"))
        for r, ref in enumerate(obj.get("ObjectReference") or []):
            check_fields(ref, REFERENCE, f"{where}.ObjectReference[{r}]", source,
                         ("referenced_uuid", "relationship_type"))  # fmt: skip
    return event
