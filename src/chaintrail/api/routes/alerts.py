"""``/v1/alerts``: the organisation's inbox, acknowledgments, the live stream (Server-Sent
Events, resumable by ``Last-Event-ID``), and ``/v1/watch/rules``."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from chaintrail.api.hubgate import act, principal_of
from chaintrail.hub import audit
from chaintrail.hub.monitor import inbox, rules
from chaintrail.hub.monitor.outbox import alert_json
from chaintrail.hub.principal import Principal

router = APIRouter(tags=["hub"])
MAX_ID = 2**62
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
HEARTBEAT = 15.0
POLL = 0.5


class SubjectBody(BaseModel):
    """A watched subject."""

    kind: str = Field(description="address, cluster (by a member address), output (TXID:VOUT) or tx")
    value: str
    role: str = Field("source", description="source, or service (service rules)")


class RuleBody(BaseModel):
    """A watch rule to create."""

    name: str
    kind: str = Field(description=", ".join(rules.KINDS))
    severity: str = "medium"
    tlp: str | None = None
    case_id: int | None = Field(None, ge=1)
    subjects: list[SubjectBody] = []
    params: dict[str, float] = {}
    owner: str = "org"


@router.get("/alerts", summary="The alert inbox", operation_id="alerts_list")
def list_alerts(request: Request, after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
                limit: Annotated[int, Query(ge=1, le=10_000)] = 100, unacked: bool = False,
                severity: str = "info") -> list[dict[str, Any]]:  # fmt: skip
    """Alerts of the caller's organisation it may read (TLP), oldest first, after an id."""
    return act(request, inbox.list_alerts, after=after, limit=limit, unacked=unacked, min_severity=severity)


@router.post("/alerts/{alert_id}/ack", summary="Acknowledge an alert", operation_id="alerts_ack")
def ack_alert(request: Request, alert_id: Id) -> dict[str, Any]:
    """Mark an alert as seen (audited)."""
    return act(request, inbox.ack_alert, alert_id)


@router.get("/alerts/stream", summary="Alerts as Server-Sent Events", operation_id="alerts_stream",
            response_class=StreamingResponse)  # fmt: skip
async def stream(request: Request, last_event_id: Annotated[str | None, Header()] = None,
                 after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0) -> StreamingResponse:  # fmt: skip
    """``text/event-stream``: each alert as ``id: <alert id>``, ``event: alert|pending|retraction``,
    ``data: <JSON>``; reconnect with ``Last-Event-ID`` (or ``?after=``) to resume."""
    who = principal_of(request)
    start = min(int(last_event_id), MAX_ID) if last_event_id and last_event_id.isdigit() else after
    hub = request.app.state.hub.hub()

    def opened(s: Session, p: Principal) -> None:
        inbox.visible_alerts(s, p, after=start, limit=1)  # the caller may read alerts at all
        audit.append(s, p, "alert.stream", "alert", "*", detail={"after": start}, read=True)

    await run_in_threadpool(act, request, opened)

    def batch(after_id: int) -> list[dict[str, Any]]:
        with hub.transaction() as s:
            return [alert_json(a) for a in inbox.visible_alerts(s, who, after=after_id, limit=500)]

    async def events() -> AsyncIterator[bytes]:
        last, beat = start, time.monotonic()
        yield b"retry: 2000\n\n"
        while not await request.is_disconnected():
            rows = await run_in_threadpool(batch, last)
            for r in rows:
                last = r["id"]
                yield f"id: {r['id']}\nevent: {r['event']}\ndata: {json.dumps(r, sort_keys=True)}\n\n".encode()
            if not rows:
                if time.monotonic() - beat > HEARTBEAT:
                    beat = time.monotonic()
                    yield b": keep-alive\n\n"
                await asyncio.sleep(POLL)

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})  # fmt: skip


@router.get("/watch/rules", summary="Watch rules", operation_id="watch_list")
def list_rules(request: Request) -> list[dict[str, Any]]:
    """The caller's organisation's rules (and the caller's own)."""
    return act(request, rules.list_rules)


@router.post("/watch/rules", status_code=201, summary="Create a watch rule", operation_id="watch_create")
def create_rule(request: Request, body: RuleBody) -> dict[str, Any]:
    """A rule over explicit subjects and/or a case's items (audited)."""
    spec = rules.RuleIn(body.name, body.kind, body.severity, body.tlp, body.case_id,
                        [rules.SubjectIn(s.kind, s.value, s.role) for s in body.subjects], dict(body.params), body.owner)  # fmt: skip
    return act(request, lambda s, who: rules.rule_json(s, rules.create_rule(s, who, spec)))


@router.post("/watch/rules/{rule_id}/disable", summary="Disable a watch rule", operation_id="watch_disable")
def disable_rule(request: Request, rule_id: Id) -> dict[str, Any]:
    """Stop a rule; its alerts stay."""
    return act(request, lambda s, who: rules.rule_json(s, rules.disable_rule(s, who, rule_id)))
