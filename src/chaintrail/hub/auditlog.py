"""Reading the audit log: who may see which entries (the chain itself is in :mod:`audit`).

A hub admin sees every entry; a supervisor or org admin sees the entries of its organisation's
users and of its organisation's cases. Reading the log is itself an audited action.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from chaintrail.errors import ForbiddenError, NotFoundError
from chaintrail.hub import audit
from chaintrail.hub.models import AuditEntry, Case
from chaintrail.hub.principal import HUB_ADMIN, ORG_ADMIN, SUPERVISOR, Principal


def show(
    session: Session,
    who: Principal,
    *,
    case_id: int | None = None,
    after: int = 0,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """Entries after ``after`` (of one case if given) the caller may read, oldest first."""
    if not who.has(HUB_ADMIN, ORG_ADMIN, SUPERVISOR):
        raise ForbiddenError(
            "reading the audit log needs a supervisor, an org admin or a hub admin"
        )
    q = select(AuditEntry).where(AuditEntry.seq > after)
    if case_id is not None:
        case = session.get(Case, case_id)
        if case is None or (not who.has(HUB_ADMIN) and case.owner_org_id != who.org_id):
            raise NotFoundError(f"case {case_id}: no such case of your organisation")
        q = q.where(AuditEntry.case_id == case_id)
    if not who.has(HUB_ADMIN):
        own_cases = select(Case.id).where(Case.owner_org_id == who.org_id)
        q = q.where(or_(AuditEntry.org_id == who.org_id, AuditEntry.case_id.in_(own_cases)))
    rows = [
        audit.entry_to_json(e) for e in session.scalars(q.order_by(AuditEntry.seq).limit(limit))
    ]
    audit.append(session, who, "audit.read", "audit", case_id if case_id is not None else "*", case_id=case_id,
                 detail={"after": after, "entries": len(rows)}, read=True)  # fmt: skip
    return rows
