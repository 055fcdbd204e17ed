"""The durable outbox: alerts, their deliveries and the processed blocks in one transaction.

:func:`record_blocks` stores a block's alerts, one delivery per matching channel of the owning
organisation, the taint rows that changed and the block itself as processed, all inside the
caller's transaction: after a crash either all of it is there or none, and the block is
evaluated again (same keys, so nothing is stored twice). :func:`retract_above` answers a reorg:
every alert of a block that left the best chain gets a ``retraction`` event (delivered like an
alert), and the monitor's own state goes back to the fork.

Keys: an alert's key is its base key (rule, block, tx, subject); if a retracted alert's block
comes back into the best chain, the new alert gets ``<base>:<n>`` so every event keeps a key of
its own while replays of the same event keep theirs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from chaintrail.hub import audit
from chaintrail.hub.db import insert_ignoring_duplicates
from chaintrail.hub.models import (
    Alert,
    AlertChannel,
    Delivery,
    MonitorBlock,
    MonitorTaint,
    utcnow,
)
from chaintrail.hub.monitor.evaluate import AlertDraft, alert_key
from chaintrail.hub.monitor.rules import SEVERITIES

CHUNK = 500


def _channels(session: Session) -> dict[int, list[AlertChannel]]:
    by_org: dict[int, list[AlertChannel]] = {}
    for ch in session.scalars(select(AlertChannel).where(AlertChannel.disabled_at.is_(None))):
        by_org.setdefault(ch.org_id, []).append(ch)
    return by_org


def _wants(ch: AlertChannel, severity: str) -> bool:
    return SEVERITIES.index(severity) >= SEVERITIES.index(ch.min_severity)


def _existing(session: Session, bases: list[str]) -> dict[str, list[tuple[str, int | None]]]:
    """base key -> [(event, retracted_by)] of alerts already stored."""
    out: dict[str, list[tuple[str, int | None]]] = {}
    for i in range(0, len(bases), CHUNK):
        rows = session.execute(
            select(Alert.base_key, Alert.event, Alert.retracted_by).where(
                Alert.base_key.in_(bases[i : i + CHUNK])
            )
        ).all()
        for base, event, retracted in rows:
            out.setdefault(base, []).append((event, retracted))
    return out


def _store(session: Session, rows: list[Alert]) -> list[Alert]:
    """Add alerts and a delivery per channel that wants them."""
    if not rows:
        return rows
    session.add_all(rows)
    session.flush()
    channels = _channels(session)
    session.add_all(
        Delivery(alert_id=a.id, channel_id=ch.id, state="pending", attempts=0, next_attempt_at=a.created_at)
        for a in rows for ch in channels.get(a.org_id, []) if _wants(ch, a.severity)
    )  # fmt: skip
    return rows


def _row(d: AlertDraft, key: str, now: Any) -> Alert:
    r = d.rule
    return Alert(key=key, base_key=d.base_key, event=d.event, rule_id=r.id, org_id=r.org_id, user_id=r.user_id,
                 kind=r.kind, severity=r.severity, tlp=r.tlp, case_id=r.case_id, height=d.height,
                 block_hash=d.block_hash, txid=d.txid, subject=d.subject[:200], amount=d.amount,
                 payload=json.dumps({"rule": r.name, **d.payload}, sort_keys=True), created_at=now)  # fmt: skip


def store_drafts(session: Session, drafts: Sequence[AlertDraft]) -> list[Alert]:
    """Store drafts not stored yet (a replay stores nothing); returns the new alerts."""
    now = utcnow()
    seen = _existing(session, sorted({d.base_key for d in drafts}))
    rows: list[Alert] = []
    for d in drafts:
        events = seen.setdefault(d.base_key, [])
        live = [e for e in events if e[0] != "retraction" and e[1] is None]
        if live:
            continue
        n = sum(1 for e in events if e[0] != "retraction")
        rows.append(_row(d, d.base_key if n == 0 else f"{d.base_key}:{n}", now))
        events.append((d.event, None))
    return _store(session, rows)


def record_blocks(
    session: Session,
    blocks: Sequence[tuple[int, str]],
    drafts: Sequence[AlertDraft],
    taint_added: Sequence[tuple[int, int, float, int, int]],
    taint_spent: Sequence[tuple[int, int, int]],
) -> list[Alert]:
    """Alerts, deliveries, taint changes and the blocks as processed, in ``session``'s
    transaction; returns the alerts stored now."""
    stored = store_drafts(session, drafts)
    insert_ignoring_duplicates(session, MonitorTaint.__table__, [
        {"rule_id": r, "out_id": o, "fraction": f, "hops": h, "height": ht, "spent_height": None}
        for r, o, f, h, ht in taint_added
    ])  # fmt: skip
    for r, o, ht in taint_spent:
        session.execute(
            update(MonitorTaint).where(MonitorTaint.rule_id == r, MonitorTaint.out_id == o)
            .values(spent_height=ht).execution_options(synchronize_session=False)
        )  # fmt: skip
    insert_ignoring_duplicates(session, MonitorBlock.__table__,
                               [{"height": h, "hash": b, "processed_at": utcnow()} for h, b in blocks])  # fmt: skip
    if stored:
        audit.append(session, None, "monitor.alerts", "block", blocks[-1][1], operator="monitor",
                     detail={"heights": [blocks[0][0], blocks[-1][0]], "alerts": len(stored)})  # fmt: skip
    return stored


def processed_tip(session: Session) -> tuple[int, str] | None:
    """The highest processed block ``(height, hash)``, or None before the first."""
    row = session.execute(
        select(MonitorBlock.height, MonitorBlock.hash).order_by(MonitorBlock.height.desc()).limit(1)
    ).first()
    return (int(row[0]), str(row[1])) if row else None


def processed_hash(session: Session, height: int) -> str | None:
    """The hash recorded as processed at ``height``."""
    return session.scalar(select(MonitorBlock.hash).where(MonitorBlock.height == height))


def retract_above(session: Session, fork_height: int, reason: str) -> list[Alert]:
    """Retract the alerts of processed blocks above ``fork_height`` and forget those blocks
    (and the taint they moved); returns the retraction events."""
    orphaned = {
        h: b
        for h, b in session.execute(
            select(MonitorBlock.height, MonitorBlock.hash).where(MonitorBlock.height > fork_height)
        ).all()
    }
    now = utcnow()
    gone = (
        list(
            session.scalars(
                select(Alert).where(
                    Alert.block_hash.in_(list(orphaned.values())),
                    Alert.event == "alert",
                    Alert.retracted_by.is_(None),
                ).order_by(Alert.id)
            )
        )
        if orphaned
        else []
    )
    events = [
        Alert(key=f"retract:{a.key}", base_key=alert_key("retraction", a.key), event="retraction", rule_id=a.rule_id,
              org_id=a.org_id, user_id=a.user_id, kind=a.kind, severity=a.severity, tlp=a.tlp, case_id=a.case_id,
              height=a.height, block_hash=a.block_hash, txid=a.txid, subject=a.subject, amount=a.amount,
              payload=json.dumps({"retracts": a.id, "retracts_key": a.key, "reason": reason}), created_at=now)
        for a in gone
    ]  # fmt: skip
    _store(session, events)
    for a, e in zip(gone, events, strict=True):
        a.retracted_by = e.id
    session.execute(delete(MonitorBlock).where(MonitorBlock.height > fork_height))
    session.execute(delete(MonitorTaint).where(MonitorTaint.height > fork_height))
    session.execute(
        update(MonitorTaint).where(MonitorTaint.spent_height > fork_height).values(spent_height=None)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    if orphaned:
        audit.append(session, None, "monitor.reorg", "block", fork_height, operator="monitor",
                     detail={"fork_height": fork_height, "orphaned": len(orphaned), "retracted": len(events)})  # fmt: skip
    return events


def alert_json(a: Alert) -> dict[str, Any]:
    """An alert as JSON (what webhooks, NATS, SSE and the inbox carry)."""
    return {"id": a.id, "key": a.key, "event": a.event, "kind": a.kind, "severity": a.severity, "tlp": a.tlp,
            "rule_id": a.rule_id, "case_id": a.case_id, "height": a.height, "block_hash": a.block_hash,
            "txid": a.txid, "subject": a.subject, "amount": a.amount,
            "created_at": a.created_at.isoformat() + "Z", "acked": a.acked_at is not None,
            "retracted_by": a.retracted_by, "detail": json.loads(a.payload)}  # fmt: skip
