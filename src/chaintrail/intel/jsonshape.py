"""Checks of JSON shapes in imported files, with errors that name the field and what was expected.

A :class:`Rule` is a predicate and the words for what it accepts (``Rule(is_text, "text")``);
:func:`check_fields` applies a table of rules to one JSON object and raises a
:class:`~chaintrail.errors.ValidationError` naming the source file and the field's path
(``Event.Object[3].name``), with what was expected and what was found.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from chaintrail.errors import ValidationError


@dataclass(frozen=True)
class Rule:
    """What a field accepts: ``ok(value)``, in words ``expected``; ``item``: the rule of each
    element when the field is a list."""

    ok: Callable[[Any], bool]
    expected: str
    item: Rule | None = None


def describe(value: Any) -> str:
    """How a JSON value reads in an error: ``a number (5)``, ``a list``, ``null`` ..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"the text {value[:60]!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def is_text(v: Any) -> bool:
    """A JSON string."""
    return isinstance(v, str)


def is_nonempty_text(v: Any) -> bool:
    """A JSON string with more than white space."""
    return isinstance(v, str) and v.strip() != ""


def is_int(v: Any) -> bool:
    """A JSON whole number (not a boolean)."""
    return isinstance(v, int) and not isinstance(v, bool)


def is_int_like(v: Any) -> bool:
    """A whole number or its digits as text (MISP writes both)."""
    return is_int(v) or (isinstance(v, str) and v.strip().lstrip("-").isdigit())


def is_scalar(v: Any) -> bool:
    """Text, a number or a boolean."""
    return isinstance(v, str | int | float)


def is_object(v: Any) -> bool:
    """A JSON object."""
    return isinstance(v, dict)


def is_iso_time(v: Any) -> bool:
    """An ISO 8601 date or date-time (``Z`` allowed), or a parsed date."""
    if isinstance(v, dt.date | dt.datetime):
        return True
    if not isinstance(v, str):
        return False
    try:
        dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def list_of(item: Rule, expected: str) -> Rule:
    """A rule accepting a JSON list (``expected`` in words) whose every element passes ``item``."""
    return Rule(lambda v: isinstance(v, list), expected, item)


TEXT = Rule(is_text, "text")
REQUIRED_TEXT = Rule(is_nonempty_text, "non-empty text")
OBJECT = Rule(is_object, "an object")
OBJECTS = list_of(OBJECT, "a list of objects")
INT_LIKE = Rule(is_int_like, "a whole number")


def _fail(what: str, value: Any, source: str, field: str, where: str | None) -> ValidationError:
    msg = f"expected {what}, got {describe(value)}"
    return ValidationError(f"{where}: {msg}" if where else msg, source=source, field=field)


def check_fields(item: Any, rules: dict[str, Rule], where: str, source: str,
                 required: Iterable[str] = (), *, path: bool = True) -> dict[str, Any]:  # fmt: skip
    """``item`` if it is an object whose fields pass ``rules`` (null = absent) and has every
    ``required`` field; else ValidationError naming ``source`` and the field. With ``path`` the
    field is named by its path (``where.key``), else by its key with ``where`` in the message."""
    if not isinstance(item, dict):
        raise _fail("an object", item, source, where, None) if path else \
            ValidationError(f"{where}: expected an object, got {describe(item)}", source=source)  # fmt: skip
    name = (lambda key: f"{where}.{key}") if path else (lambda key: key)
    ctx = None if path else where
    for key in required:
        if item.get(key) is None:
            raise ValidationError(f"{ctx}: missing" if ctx else "missing", source=source, field=name(key))
    for key, rule in rules.items():
        value = item.get(key)
        if value is None:
            continue
        if not rule.ok(value):
            raise _fail(rule.expected, value, source, name(key), ctx)
        if rule.item is not None:
            for i, element in enumerate(value):
                if not rule.item.ok(element):
                    raise _fail(rule.item.expected, element, source, f"{name(key)}[{i}]", ctx)
    return item
