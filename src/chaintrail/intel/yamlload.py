"""A fast YAML loader for packs that keeps line numbers and GraphSense's YAML rules.

Built directly on the LibYAML event stream (``yaml.CSafeLoader`` when available), which is
several times faster than constructing PyYAML nodes. It promises:

* mappings come back as :class:`LineDict` (``.line`` and ``.key_lines``, 1-based) so validation
  errors can name ``file:line``;
* a duplicate key in any mapping is a :class:`~chaintrail.errors.ValidationError`;
* plain scalars resolve only to null, bool, date/datetime, decimal int and float; anything else
  (``0x...`` hex, ``0o17``, ``017``, ``1:20``) stays text, as GraphSense requires for addresses;
* ``!include other.yaml`` is replaced by the loaded content of that file (relative path).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import yaml

from chaintrail.errors import DecodeError, ValidationError

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_SPECIAL: dict[str, Any] = {"": None, "~": None, "null": None, "Null": None, "NULL": None}
for _w in ("yes", "true", "on"):
    _SPECIAL.update({_w: True, _w.capitalize(): True, _w.upper(): True})
for _w in ("no", "false", "off"):
    _SPECIAL.update({_w: False, _w.capitalize(): False, _w.upper(): False})

_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_STAMP = re.compile(
    r"^\d{4}-\d{1,2}-\d{1,2}(?:[Tt]|[ \t]+)\d{1,2}:\d{2}:\d{2}(?:\.\d*)?"
    r"(?:[ \t]*(?:Z|[-+]\d{1,2}(?::?\d{2})?))?$"
)
_INT = re.compile(r"^[-+]?(?:0|[1-9][0-9_]*)$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9][0-9_]*\.[0-9_]*)(?:[eE][-+]?[0-9]+)?$")
_NUMERIC_START = frozenset("0123456789-+.")
_STR_TAGS = frozenset({"tag:yaml.org,2002:str", "!!str", "!"})
_INCLUDE = "!include"


class LineDict(dict):
    """A mapping from YAML that remembers where it and each of its keys start (1-based)."""

    __slots__ = ("key_lines", "line")

    def __init__(self, line: int = 0) -> None:
        super().__init__()
        self.line = line
        self.key_lines: dict[Any, int] = {}

    def line_of(self, key: Any) -> int:
        """The line of ``key`` (the mapping's own line if unknown)."""
        return self.key_lines.get(key, self.line)


def _resolve_plain(value: str) -> Any:
    special = _SPECIAL.get(value, _SPECIAL)
    if special is not _SPECIAL:
        return special
    if value[0] not in _NUMERIC_START:
        return value
    m = _DATE.match(value)
    if m:
        try:
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            return value
    if _INT.match(value):
        return int(value.replace("_", ""))
    if _FLOAT.match(value):
        return float(value.replace("_", ""))
    if _STAMP.match(value):
        try:
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    return value


_NOKEY = object()


def load_yaml(path: str | Path, *, _chain: tuple[Path, ...] = ()) -> Any:
    """Load one YAML document from ``path`` under the rules above; errors carry ``file:line``."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DecodeError(f"cannot read file: {exc.strerror}", source=str(path)) from exc
    return loads_yaml(data, path, _chain=_chain)


def loads_yaml(data: bytes | str, path: str | Path, *, _chain: tuple[Path, ...] = ()) -> Any:
    """Load YAML text ``data`` that came from ``path`` (used for messages and ``!include``)."""
    path = Path(path)
    src = str(path)
    anchors: dict[str, Any] = {}
    stack: list[list[Any]] = []  # frames: [container, pending_key, key_line, is_map]
    root: list[Any] = []
    ScalarEvent = yaml.ScalarEvent
    MappingStartEvent = yaml.MappingStartEvent
    MappingEndEvent = yaml.MappingEndEvent
    SequenceStartEvent = yaml.SequenceStartEvent
    SequenceEndEvent = yaml.SequenceEndEvent
    AliasEvent = yaml.AliasEvent

    def add(value: Any, line: int) -> None:
        if not stack:
            root.append(value)
            return
        frame = stack[-1]
        container = frame[0]
        if not frame[3]:
            container.append(value)
        elif frame[1] is _NOKEY:
            try:
                dup = value in container
            except TypeError as exc:
                raise ValidationError(
                    "a mapping key must be a scalar", source=f"{src}:{line}"
                ) from exc
            if dup:
                raise ValidationError(f"duplicate key {value!r}", source=f"{src}:{line}")
            frame[1] = value
            frame[2] = line
        else:
            key = frame[1]
            container[key] = value
            container.key_lines[key] = frame[2]
            frame[1] = _NOKEY

    loader = _Loader(data)
    try:
        while loader.check_event():
            ev = loader.get_event()
            cls = type(ev)
            if cls is ScalarEvent:
                line = ev.start_mark.line + 1
                tag = ev.tag
                if tag is None or tag in _STR_TAGS:
                    value: Any = ev.value
                    if tag is None and ev.implicit[0]:
                        value = _resolve_plain(value)
                elif tag == _INCLUDE:
                    value = _include(path, ev.value, line, _chain)
                else:
                    raise ValidationError(f"unsupported YAML tag {tag}", source=f"{src}:{line}")
                if ev.anchor:
                    anchors[ev.anchor] = value
                add(value, line)
            elif cls is MappingStartEvent:
                d = LineDict(ev.start_mark.line + 1)
                if ev.anchor:
                    anchors[ev.anchor] = d
                stack.append([d, _NOKEY, 0, True])
            elif cls is SequenceStartEvent:
                seq: list[Any] = []
                if ev.anchor:
                    anchors[ev.anchor] = seq
                stack.append([seq, _NOKEY, 0, False])
            elif cls is MappingEndEvent or cls is SequenceEndEvent:
                frame = stack.pop()
                add(frame[0], frame[0].line if frame[3] else 0)
            elif cls is AliasEvent:
                if ev.anchor not in anchors:
                    raise ValidationError(
                        f"unknown alias *{ev.anchor}", source=f"{src}:{ev.start_mark.line + 1}"
                    )
                add(anchors[ev.anchor], ev.start_mark.line + 1)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{src}:{mark.line + 1}" if mark is not None else src
        raise DecodeError(f"not valid YAML: {exc.problem or exc.context}", source=where) from exc
    except yaml.YAMLError as exc:
        raise DecodeError(f"not valid YAML: {exc}", source=src) from exc
    finally:
        loader.dispose()
    if len(root) > 1:
        raise DecodeError("expected one YAML document, found several", source=src)
    return root[0] if root else None


def _include(path: Path, target: str, line: int, chain: tuple[Path, ...]) -> Any:
    inc = (path.parent / target.strip()).resolve()
    if inc in chain or inc == path.resolve():
        raise ValidationError(f"!include {target} includes itself", source=f"{path}:{line}")
    if not inc.is_file():
        raise ValidationError(f"!include {target}: no such file", source=f"{path}:{line}")
    return load_yaml(inc, _chain=(*chain, path.resolve()))
