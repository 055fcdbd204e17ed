"""Who is acting: the roles, organisation kinds and the :class:`Principal` every hub call takes.

A principal is a user of one organisation with its roles, how it came in (an API key with read
or write access, the CLI, ``--no-auth``) and the request id that its audit entries carry.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

INVESTIGATOR = "investigator"
ANALYST = "analyst"
SUPERVISOR = "supervisor"
COMPLIANCE_OFFICER = "compliance_officer"
ORG_ADMIN = "org_admin"
HUB_ADMIN = "hub_admin"
ROLES = (INVESTIGATOR, ANALYST, SUPERVISOR, COMPLIANCE_OFFICER, ORG_ADMIN, HUB_ADMIN)
#: roles that work cases (read their organisation's cases, file items, share)
CASE_ROLES = frozenset({INVESTIGATOR, ANALYST, SUPERVISOR})

OBLIGED_ENTITY = "obliged_entity"
AGENCY_KINDS = ("police", "fiu", "prosecutor", "customs", "hub")
ORG_KINDS = (*AGENCY_KINDS, OBLIGED_ENTITY)
#: roles an organisation of each kind may give its users
ROLES_OF_KIND = {
    **{
        k: frozenset({INVESTIGATOR, ANALYST, SUPERVISOR, ORG_ADMIN, HUB_ADMIN})
        for k in AGENCY_KINDS
    },
    OBLIGED_ENTITY: frozenset({COMPLIANCE_OFFICER, ORG_ADMIN}),
}


def new_request_id() -> str:
    """A fresh request id (audit entries of one request share it)."""
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Principal:
    """A user acting on the hub, as resolved from a key, the CLI or ``--no-auth``."""

    user_id: int
    name: str
    org_id: int
    org_kind: str
    roles: frozenset[str]
    can_write: bool = True  # False for a read-only API key
    via: str = "cli"
    request_id: str = field(default_factory=new_request_id)

    @property
    def is_agency(self) -> bool:
        """True for a member agency's user, False for an obliged entity's."""
        return self.org_kind != OBLIGED_ENTITY

    def has(self, *roles: str) -> bool:
        """True if the user holds any of ``roles``."""
        return bool(self.roles & set(roles))

    def works_cases(self) -> bool:
        """True if the user may file into and share its organisation's cases."""
        return self.is_agency and bool(self.roles & CASE_ROLES)
