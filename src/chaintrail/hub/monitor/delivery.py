"""Delivering the outbox: webhooks (HMAC-SHA256 signed) and NATS JetStream, at least once.

Each delivery row is tried when due; success marks it ``delivered``; a failure (refused
connection, timeout, any non-2xx answer, a NATS publish without acknowledgment) schedules the
next try after ``base * 2**(attempts-1)`` seconds (capped, with jitter) until ``max_attempts``,
then ``dead`` (kept, with the last error, for ``chaintrail alerts deliveries``). A delivery whose
alert's marking no longer reaches its organisation is ``withheld``. A process killed mid-send
leaves the row ``pending``: it is sent again, with the same ``Idempotency-Key``.

Webhook request: ``POST`` the alert JSON with ``Idempotency-Key: <key>``,
``X-Chaintrail-Event``, and ``X-Chaintrail-Signature: t=<unix time>,v1=<hex>`` where ``hex`` is
HMAC-SHA256 of ``"<t>." + body`` under the channel's secret (see docs/MONITORING.md).
NATS: the alert JSON on ``<subject>.<severity>.<event>`` with header ``Nats-Msg-Id: <key>`` (so
JetStream drops duplicates inside its window); the stream is created if missing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import random
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select, update

from chaintrail.hub.db import Hub
from chaintrail.hub.models import Alert, AlertChannel, Delivery, utcnow
from chaintrail.hub.monitor.inbox import audience_may_see
from chaintrail.hub.monitor.outbox import alert_json

SIGNATURE_HEADER = "X-Chaintrail-Signature"
DEFAULT_STREAM = "CHAINTRAIL_ALERTS"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes, *, tolerance: float = 300.0, now: float | None = None) -> bool:  # fmt: skip
    """True if ``header`` signs ``body`` under ``secret`` and is at most ``tolerance`` s old."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        ts = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - ts) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, ts, body), f"t={ts},v1={parts.get('v1', '')}")


@dataclass
class RetryPolicy:
    """Exponential back-off and the dead-letter limit."""

    max_attempts: int = 8
    base: float = 2.0
    cap: float = 600.0
    timeout: float = 10.0

    def delay(self, attempts: int) -> float:
        """Seconds before the next try after ``attempts`` failures (jittered +-20 %)."""
        return min(self.cap, self.base * 2 ** (attempts - 1)) * random.uniform(0.8, 1.2)


class NatsPublisher:
    """A JetStream connection per server, on a private event loop (the deliverer is a thread)."""

    def __init__(self, timeout: float) -> None:
        self.loop = asyncio.new_event_loop()
        self.timeout = timeout
        self._conns: dict[str, Any] = {}

    async def _js(self, server: str, stream: str, subject: str) -> Any:
        # optional dependency, needed only by organisations with a NATS channel
        import nats
        from nats.js.errors import NotFoundError as StreamMissing

        if server not in self._conns:
            self._conns[server] = await nats.connect(server, connect_timeout=self.timeout, max_reconnect_attempts=1)  # fmt: skip
        js = self._conns[server].jetstream(timeout=self.timeout)
        try:
            await js.stream_info(stream)
        except StreamMissing:
            await js.add_stream(name=stream, subjects=[f"{subject}.>"])
        return js

    def publish(self, target: str, subject_tail: str, body: bytes, key: str) -> None:
        """Publish and wait for JetStream's acknowledgment (raises on failure)."""
        u = urlsplit(target)
        server = f"{u.scheme}://{u.netloc}"
        prefix = u.path.strip("/").replace("/", ".") or "chaintrail.alerts"
        stream = dict(p.split("=", 1) for p in u.query.split("&") if "=" in p).get("stream", DEFAULT_STREAM)

        async def run() -> None:
            js = await self._js(server, stream, prefix)
            await js.publish(f"{prefix}.{subject_tail}", body, headers={"Nats-Msg-Id": key})

        try:
            self.loop.run_until_complete(asyncio.wait_for(run(), self.timeout * 2))
        except BaseException:
            conn = self._conns.pop(server, None)
            if conn is not None:
                self.loop.run_until_complete(conn.close())
            raise

    def close(self) -> None:
        """Close every connection and the loop."""
        for conn in self._conns.values():
            self.loop.run_until_complete(conn.close())
        self._conns.clear()
        self.loop.close()


class Deliverer:
    """Sends due deliveries; run :meth:`run_once` in a loop (or :meth:`run_in_thread`)."""

    def __init__(self, hub: Hub, policy: RetryPolicy | None = None) -> None:
        self.hub = hub
        self.policy = policy or RetryPolicy()
        self.http = httpx.Client(timeout=self.policy.timeout)
        self.nats: NatsPublisher | None = None
        self.sent = 0

    def _send(self, alert: Alert, channel: AlertChannel) -> None:
        body = json.dumps(alert_json(alert), sort_keys=True).encode()
        if channel.kind == "nats":
            self.nats = self.nats or NatsPublisher(self.policy.timeout)
            self.nats.publish(channel.target, f"{alert.severity}.{alert.event}", body, alert.key)
            return
        ts = int(time.time())
        resp = self.http.post(channel.target, content=body, headers={
            "Content-Type": "application/json", "Idempotency-Key": alert.key,
            "X-Chaintrail-Event": alert.event, "X-Chaintrail-Alert-Id": str(alert.id),
            SIGNATURE_HEADER: sign(channel.secret or "", ts, body),
        })  # fmt: skip
        if not 200 <= resp.status_code < 300:
            raise RuntimeError(f"HTTP {resp.status_code} from {channel.target}")

    def run_once(self, limit: int = 200) -> int:
        """Try every due delivery once; returns how many were delivered."""
        now = utcnow()
        with self.hub.transaction() as s:
            due = s.execute(
                select(Delivery, Alert, AlertChannel)
                .join(Alert, Alert.id == Delivery.alert_id)
                .join(AlertChannel, AlertChannel.id == Delivery.channel_id)
                .where(Delivery.state == "pending", Delivery.next_attempt_at <= now)
                .order_by(Delivery.id).limit(limit)
            ).all()  # fmt: skip
            allowed = {d.id: audience_may_see(s, a) for d, a, _ in due}
        done = 0
        for d, a, ch in due:
            state, error = "delivered", None
            if ch.disabled_at is not None or not allowed[d.id]:
                state, error = "withheld", "the alert's marking no longer reaches the organisation" if ch.disabled_at is None else "channel disabled"  # fmt: skip
            else:
                try:
                    self._send(a, ch)
                except Exception as exc:  # noqa: BLE001 - any failure is a retry, recorded
                    error = f"{type(exc).__name__}: {exc}"[:500]
                    state = "dead" if d.attempts + 1 >= self.policy.max_attempts else "pending"
            values: dict[str, Any] = {"attempts": d.attempts + 1, "state": state, "last_error": error}
            if state == "delivered":
                values["delivered_at"] = utcnow()
                done += 1
            elif state == "pending":
                values["next_attempt_at"] = utcnow() + dt.timedelta(seconds=self.policy.delay(d.attempts + 1))
            with self.hub.transaction() as s:
                s.execute(update(Delivery).where(Delivery.id == d.id, Delivery.state == "pending")
                          .values(**values).execution_options(synchronize_session=False))  # fmt: skip
        self.sent += done
        return done

    def run_in_thread(self, stop: threading.Event, every: float = 0.5) -> threading.Thread:
        """Deliver in a daemon thread until ``stop`` is set."""

        def loop() -> None:
            while not stop.is_set():
                try:
                    self.run_once()
                except Exception:  # noqa: BLE001 - the database may be busy; try again
                    pass
                stop.wait(every)

        thread = threading.Thread(target=loop, name="deliver", daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        """Close connections."""
        self.http.close()
        if self.nats is not None:
            self.nats.close()
