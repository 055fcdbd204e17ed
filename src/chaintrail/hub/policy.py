"""TLP 2.0 as the hub enforces it: who may see a case or an item, and who may share it further.

Reading (every read path calls :func:`access`):

* in the **owner organisation**, users who work cases see everything of the case except
  TLP:RED items, which only the case's members, the item's author and named people see;
* a **foreign** user sees CLEAR always; GREEN if its organisation is a member agency; and
  otherwise only through a share that reaches it (its user, its organisation, or a sharing group
  its organisation is in) and that the marking admits: RED only shares to named people;
  AMBER+STRICT shares to agencies (organisations or groups); AMBER those too, plus a share that
  names an obliged entity (need to know). A share may be redacted; a user reached only by redacted
  shares sees the redacted view.
* Administration roles alone (org admin, hub admin) read no case data.

Sharing (:func:`check_share`): the owner organisation may name any recipient the marking admits;
a recipient may pass an item on only as far as its marking allows (AMBER: to obliged entities it
names; GREEN/CLEAR: to anyone; RED and AMBER+STRICT: not at all), and never less redacted than it
got it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from chaintrail.errors import ValidationError
from chaintrail.hub.principal import (
    CASE_ROLES,
    COMPLIANCE_OFFICER,
    Principal,
)
from chaintrail.intel.model import normalise_tlp

RED, STRICT, AMBER, GREEN, CLEAR = "RED", "AMBER+STRICT", "AMBER", "GREEN", "CLEAR"
READ_ROLES = CASE_ROLES | {COMPLIANCE_OFFICER}


def parse_tlp(value: str, *, field: str = "tlp") -> str:
    """A TLP marking (``amber``, ``TLP:AMBER+STRICT``, ...) -> its TLP 2.0 name; ValidationError if bad."""
    tlp = normalise_tlp(value)
    if tlp is None:
        raise ValidationError(
            "a TLP marking is required (CLEAR, GREEN, AMBER, AMBER+STRICT, RED)", field=field
        )
    return tlp


class View(Enum):
    """How much of an object a user may see."""

    FULL = "full"
    REDACTED = "redacted"


@dataclass(frozen=True)
class Reach:
    """Everything a share can name a user by: the user, its organisation, its groups."""

    user_id: int
    org_id: int
    group_ids: frozenset[int]
    is_agency: bool


@dataclass(frozen=True)
class ShareRef:
    """The part of a share the rules look at."""

    item_id: int | None  # None: the share opens the whole case
    target_kind: str  # user | org | group
    target_id: int
    target_is_obliged: bool  # the named organisation is an obliged entity
    redacted: bool


@dataclass(frozen=True)
class Marked:
    """A case or an item as the rules see it."""

    owner_org_id: int
    tlp: str
    item_id: int | None  # None for the case itself
    author_id: int


def _reaches(s: ShareRef, r: Reach) -> bool:
    if s.target_kind == "user":
        return s.target_id == r.user_id
    if s.target_kind == "org":
        return s.target_id == r.org_id
    return s.target_id in r.group_ids


def _admits(tlp: str, s: ShareRef, r: Reach) -> bool:
    """Does the marking let this share (which reaches the user) open the object to it?"""
    if s.target_kind == "user" or tlp in (GREEN, CLEAR):
        return True
    if tlp == RED:
        return False
    if r.is_agency:
        return True
    return tlp == AMBER and s.target_kind == "org" and s.target_is_obliged


def access(
    who: Principal,
    reach: Reach,
    obj: Marked,
    shares: Iterable[ShareRef],
    case_members: frozenset[int],
) -> View | None:
    """The view ``who`` has of a case or item (``None``: it may not know the object exists).

    ``shares`` are the live shares of the object's case (case-wide and per item).
    """
    if not who.roles & READ_ROLES:
        return None
    if who.org_id == obj.owner_org_id:
        if not who.works_cases():
            return None
        if obj.tlp != RED or who.user_id in case_members or who.user_id == obj.author_id:
            return View.FULL
    elif obj.tlp == CLEAR or (obj.tlp == GREEN and reach.is_agency):
        return View.FULL
    best: View | None = None
    for s in shares:
        if s.item_id not in (None, obj.item_id) or not _reaches(s, reach):
            continue
        if obj.item_id is None and s.item_id is not None:
            continue
        if _admits(obj.tlp, s, reach):
            if not s.redacted:
                return View.FULL
            best = View.REDACTED
    return best


def share_refusal(
    who: Principal,
    obj: Marked,
    view: View,
    target_kind: str,
    target_is_obliged: bool,
    redacted: bool,
) -> str | None:
    """Why ``who`` may not share ``obj`` with this target (None: it may)."""
    if not who.works_cases() or not who.can_write:
        return "sharing needs an investigator, analyst or supervisor of a member agency with a write key"
    tlp = obj.tlp
    if view is View.REDACTED and not redacted:
        return "you see this only redacted: share it redacted (--redacted) or not at all"
    if who.org_id == obj.owner_org_id:
        if tlp == RED and target_kind != "user":
            return "TLP:RED is shared with named people only (share with a user)"
        if tlp == STRICT and target_is_obliged:
            return (
                "TLP:AMBER+STRICT stays within the recipient organisation: not for obliged entities"
            )
        return None
    if tlp in (RED, STRICT):
        return f"TLP:{tlp} may not be passed on by a recipient"
    if tlp == AMBER and not (target_kind == "org" and target_is_obliged):
        return "a recipient may pass TLP:AMBER on only to obliged entities it names (need to know)"
    return None
