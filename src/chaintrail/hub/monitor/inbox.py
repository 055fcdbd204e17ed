"""Who receives which alert: the organisation inbox, acknowledgments, channels, and the TLP
check every delivery path makes.

An alert belongs to its rule's organisation (or, for a user-owned rule, to that user). It
carries the marking of what it is about (the rule's, by default its case's) and reaches a
recipient only while that marking still lets the recipient see the case: a share revoked after
the rule was made stops the alerts with it (deliveries become ``withheld``).
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from chaintrail.errors import ForbiddenError, NotFoundError, ValidationError
from chaintrail.hub import audit
from chaintrail.hub.cases import load_scope
from chaintrail.hub.directory import reach_of
from chaintrail.hub.models import Alert, AlertChannel, Organisation, utcnow
from chaintrail.hub.monitor.outbox import alert_json
from chaintrail.hub.monitor.rules import SEVERITIES
from chaintrail.hub.policy import READ_ROLES, access
from chaintrail.hub.principal import (
    COMPLIANCE_OFFICER,
    INVESTIGATOR,
    OBLIGED_ENTITY,
    ORG_ADMIN,
    SUPERVISOR,
    Principal,
)


def _org_principal(session: Session, org_id: int, user_id: int | None) -> Principal:
    org = session.get(Organisation, org_id)
    assert org is not None
    role = COMPLIANCE_OFFICER if org.kind == OBLIGED_ENTITY else INVESTIGATOR
    return Principal(user_id or -1, org.name, org.id, org.kind, frozenset({role}))


def audience_may_see(session: Session, alert: Alert, who: Principal | None = None) -> bool:
    """Whether the alert's marking still lets its audience (``who``, or the owning
    organisation) see what it is about."""
    if alert.case_id is None:
        return True
    scope = load_scope(session, alert.case_id)
    if scope is None:
        return False
    who = who or _org_principal(session, alert.org_id, alert.user_id)
    return access(who, reach_of(session, who), scope.marked(), scope.shares, scope.members) is not None


def _mine(who: Principal) -> Any:
    return (Alert.org_id == who.org_id) & (Alert.user_id.is_(None) | (Alert.user_id == who.user_id))


def visible_alerts(session: Session, who: Principal, *, after: int = 0, limit: int = 100,
                   unacked: bool = False, min_severity: str = "info") -> list[Alert]:  # fmt: skip
    """Alerts after id ``after`` the caller may read, oldest first (no audit: the caller audits)."""
    if not who.roles & READ_ROLES:
        raise ForbiddenError("reading alerts needs a case role or a compliance officer")
    if min_severity not in SEVERITIES:
        raise ValidationError(f"severity {min_severity!r}: expected {', '.join(SEVERITIES)}", field="severity")  # fmt: skip
    q = select(Alert).where(_mine(who), Alert.id > after,
                            Alert.severity.in_(SEVERITIES[SEVERITIES.index(min_severity):]))  # fmt: skip
    if unacked:
        q = q.where(Alert.acked_at.is_(None))
    out: list[Alert] = []
    for a in session.scalars(q.order_by(Alert.id).limit(limit * 4)):
        if audience_may_see(session, a, who):
            out.append(a)
            if len(out) >= limit:
                break
    return out


def list_alerts(session: Session, who: Principal, *, after: int = 0, limit: int = 100,
                unacked: bool = False, min_severity: str = "info") -> list[dict[str, Any]]:  # fmt: skip
    """The caller's inbox (its organisation's alerts it may read); audited as a read."""
    rows = [alert_json(a) for a in visible_alerts(session, who, after=after, limit=limit,
                                                 unacked=unacked, min_severity=min_severity)]  # fmt: skip
    audit.append(session, who, "alert.list", "alert", "*", detail={"after": after, "alerts": len(rows)}, read=True)  # fmt: skip
    return rows


def ack_alert(session: Session, who: Principal, alert_id: int) -> dict[str, Any]:
    """Acknowledge an alert of the caller's inbox (idempotent); audited."""
    a = session.get(Alert, alert_id)
    if a is None or a.org_id != who.org_id or (a.user_id is not None and a.user_id != who.user_id) \
            or not audience_may_see(session, a, who):  # fmt: skip
        raise NotFoundError(f"alert {alert_id}: no such alert in your inbox")
    if not who.roles & READ_ROLES or not who.can_write:
        raise ForbiddenError("acknowledging needs a case role or compliance officer, and a write key")  # fmt: skip
    if a.acked_at is None:
        a.acked_at, a.acked_by = utcnow(), who.user_id
        session.flush()
    audit.append(session, who, "alert.ack", "alert", alert_id, case_id=a.case_id, marking=a.tlp)
    return alert_json(a)


def add_channel(session: Session, who: Principal, kind: str, target: str, *, min_severity: str = "info",
                secret: str | None = None) -> tuple[AlertChannel, str | None]:  # fmt: skip
    """Register a webhook URL or NATS target for the caller's organisation; a webhook gets an
    HMAC secret (returned once)."""
    if not who.has(ORG_ADMIN, SUPERVISOR, COMPLIANCE_OFFICER) or not who.can_write:
        raise ForbiddenError("alert channels are set by an org admin, a supervisor or a compliance officer")  # fmt: skip
    if kind not in ("webhook", "nats"):
        raise ValidationError(f"channel kind {kind!r}: expected webhook or nats", field="kind")
    if min_severity not in SEVERITIES:
        raise ValidationError(f"severity {min_severity!r}: expected {', '.join(SEVERITIES)}", field="min_severity")  # fmt: skip
    schemes = ("http://", "https://") if kind == "webhook" else ("nats://", "tls://")
    if not target.startswith(schemes) or len(target) > 500:
        raise ValidationError(f"a {kind} target starts with {' or '.join(schemes)}, got {target!r}", field="target")  # fmt: skip
    if kind == "webhook":
        secret = secret or secrets.token_hex(32)
    ch = AlertChannel(org_id=who.org_id, kind=kind, target=target, secret=secret, min_severity=min_severity,
                      created_by=who.user_id, created_at=utcnow())  # fmt: skip
    session.add(ch)
    session.flush()
    audit.append(session, who, "channel.create", "alert_channel", ch.id, detail={"kind": kind, "target": target})  # fmt: skip
    return ch, secret


def list_channels(session: Session, who: Principal) -> list[dict[str, Any]]:
    """The caller's organisation's channels (secrets never shown again)."""
    rows = session.scalars(select(AlertChannel).where(AlertChannel.org_id == who.org_id).order_by(AlertChannel.id))  # fmt: skip
    return [{"id": c.id, "kind": c.kind, "target": c.target, "min_severity": c.min_severity,
             "enabled": c.disabled_at is None} for c in rows]  # fmt: skip
