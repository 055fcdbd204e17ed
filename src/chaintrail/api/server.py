"""Run the API under uvicorn, in one process or several workers sharing the port.

Workers are separate processes, so settings travel in ``$CHAINTRAIL_API_SETTINGS`` (JSON) to
:func:`app_from_env`. Rate-limit buckets are per process: each of ``n`` workers enforces
``rate_limit / n`` so a key's total stays at ``rate_limit`` when the kernel spreads connections.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

from fastapi import FastAPI

from chaintrail.api.app import ApiSettings, create_app, is_loopback
from chaintrail.api.budget import default_budgets
from chaintrail.budget import Budget
from chaintrail.errors import UsageError

ENV = "CHAINTRAIL_API_SETTINGS"
# running work is cancelled at SIGTERM (api/budget.py); a reply still unsent after this long
# is abandoned, so a shutdown never waits longer
SHUTDOWN_GRACE_SECONDS = 3


def app_from_env() -> FastAPI:
    """App factory for uvicorn workers: settings from ``$CHAINTRAIL_API_SETTINGS``."""
    raw = json.loads(os.environ[ENV])
    warm = raw.pop("warm", False)
    raw["store_dir"] = Path(raw["store_dir"])
    if "budgets" in raw:  # absent: every role gets the default budget
        raw["budgets"] = {role: Budget(**b) for role, b in raw["budgets"].items()}
    app = create_app(ApiSettings(**raw))
    if warm:  # build the in-memory indexes before the first request, not during it
        app.state.ctx.warm()
    return app


def run_server(
    store_dir: Path,
    host: str,
    port: int,
    workers: int,
    auth: bool,
    rate_limit: float,
    cors_origins: list[str],
    trusted_proxies: list[str] | None = None,
    budgets: dict[str, Budget] | None = None,
) -> None:
    """Serve until interrupted; UsageError for --no-auth off loopback.

    ``X-Forwarded-For`` is believed only from ``trusted_proxies`` (else a client could pick
    its own address: a fresh rate-limit bucket per request with ``--no-auth``, a forged
    ``reported_by``)."""
    import uvicorn

    if not auth and not is_loopback(host):
        raise UsageError(f"--no-auth on host {host!r}: keys may be skipped only on a loopback host")
    settings = {
        "store_dir": str(Path(store_dir).resolve()),
        "auth": auth,
        "host": host,
        "rate_limit": rate_limit / workers,
        "cors_origins": cors_origins,
        "trusted_proxies": trusted_proxies or [],
        "budgets": {role: asdict(b) for role, b in (budgets or default_budgets()).items()},
    }
    os.environ[ENV] = json.dumps(settings)
    app_from_env()  # fail here, in one clear line, rather than in every worker (and build caches)
    os.environ[ENV] = json.dumps({**settings, "warm": True})
    uvicorn.run(
        "chaintrail.api.server:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
        proxy_headers=bool(trusted_proxies),
        forwarded_allow_ips=list(trusted_proxies or []) or None,
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
    )
