"""The API application factory: routes, access control, error shape, CORS.

``create_app(settings)`` builds a FastAPI app over one store directory. Every error leaves
as a 4xx/5xx JSON body ``{"detail": "<one line>"}``: chaintrail's NotFoundError -> 404,
InputError/UsageError -> 400, ForbiddenError -> 403, ConflictError -> 409, StoreError -> 503, RemoteError -> 502; request-shape errors
(missing/mistyped parameters) -> 422 with the same one-line shape.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from chaintrail import __version__
from chaintrail.api.access import AccessMiddleware
from chaintrail.api.budget import BudgetMiddleware, default_budgets, install_shutdown_hook
from chaintrail.api.docs import add_docs
from chaintrail.api.hubgate import HubGate
from chaintrail.api.keys import KeyIndex, KeyStore
from chaintrail.api.ratelimit import TokenBuckets
from chaintrail.api.routes import register_routes
from chaintrail.api.services.context import ServiceContext
from chaintrail.budget import Budget
from chaintrail.errors import (
    ChaintrailError,
    ConflictError,
    ForbiddenError,
    InputError,
    NotFoundError,
    RemoteError,
    StoreError,
    UsageError,
)

log = logging.getLogger("chaintrail.api")

DESCRIPTION = """\
chaintrail's investigation API.

* `/api/...` serves the GraphSense REST subset unchanged, so the `graphsense-python` client
  (host `http://HOST:PORT/api`) and tools built on it work against chaintrail.
* `/v1/...` adds what GraphSense lacks: traces with taint models, exposure, risk, transaction
  heuristics and off-chain links.
* `/v1/hub/...` is the cooperation hub: organisations, users, cases, TLP 2.0 sharing and the
  audit log (docs/HUB.md); `/taxii2/` serves the hub's STIX 2.1 objects over TAXII 2.1.

Send an API key in `Authorization` (`KEY` or `Bearer KEY`); keys come from
`chaintrail apikey create --role reader|analyst`. Amounts are integer base units (satoshis);
`fiat_values` hold USD from the daily prices chaintrail ships (empty outside 2013-2025).
"""


@dataclass
class ApiSettings:
    """How the server runs: store, access control, limits."""

    store_dir: Path
    auth: bool = True
    host: str = "127.0.0.1"
    rate_limit: float = 100.0  # requests/s per key (per worker process); 0 = unlimited
    cors_origins: list[str] = field(default_factory=list)
    hub_db: str | None = None  # hub database URL; None: $CHAINTRAIL_HUB_DB or <store>/hub.sqlite
    # proxies whose X-Forwarded-For/-Proto is believed (uvicorn rewrites the client from it);
    # empty: the client is the TCP peer, whatever headers say
    trusted_proxies: list[str] = field(default_factory=list)
    # what one request of each role may do (time, frontier, result rows); see api/budget.py
    budgets: dict[str, Budget] = field(default_factory=default_budgets)


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback IPs (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _one_line(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("query", "path", "body")]
        where = err["loc"][0] if err.get("loc") else "request"
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")  # our validators' text
        parts.append(f"{where} parameter {'.'.join(loc)!r}: {msg}" if loc else f"{where}: {msg}")
    return "; ".join(parts) or "invalid request"


def _install_error_handlers(app: FastAPI) -> None:
    def status_of(exc: ChaintrailError) -> int:
        if isinstance(exc, NotFoundError):
            return 404
        if isinstance(exc, InputError | UsageError):
            return 400
        if isinstance(exc, ForbiddenError):
            return 403
        if isinstance(exc, ConflictError):
            return 409
        if isinstance(exc, RemoteError):
            return 502
        if isinstance(exc, StoreError):
            return 503
        return 400

    @app.exception_handler(ChaintrailError)
    async def chaintrail_error(_: Request, exc: ChaintrailError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=status_of(exc))

    @app.exception_handler(RequestValidationError)
    async def request_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _one_line(exc)}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            {"detail": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s", request.url.path)
        return JSONResponse(
            {"detail": f"internal error ({type(exc).__name__}); see the server log"},
            status_code=500,
        )


def create_app(settings: ApiSettings) -> FastAPI:
    """A ready-to-serve app; UsageError if auth is off on a non-loopback host."""
    if not settings.auth and not is_loopback(settings.host):
        raise UsageError(
            f"--no-auth on host {settings.host!r}: keys may be skipped only on a loopback host"
        )
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        install_shutdown_hook()  # SIGTERM stops running work first, then uvicorn shuts down
        yield

    app = FastAPI(
        lifespan=lifespan,
        docs_url=None,  # served by api/docs.py from shipped files (no CDN)
        redoc_url=None,  # ReDoc would load from a CDN
        title="chaintrail investigation API",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=[
            {"name": "general", "description": "Statistics and search"},
            {"name": "addresses", "description": "Addresses (GraphSense)"},
            {"name": "clusters", "description": "Clusters (GraphSense)"},
            {"name": "entities", "description": "Deprecated aliases of clusters (GraphSense)"},
            {"name": "txs", "description": "Transactions (GraphSense)"},
            {"name": "blocks", "description": "Blocks (GraphSense)"},
            {"name": "rates", "description": "Fiat exchange rates (GraphSense)"},
            {"name": "tags", "description": "Tags, actors, taxonomies (GraphSense)"},
            {"name": "analysis", "description": "chaintrail: trace, exposure, risk, heuristics"},
            {
                "name": "hub",
                "description": "chaintrail hub: organisations, users, cases, TLP sharing, audit",
            },
        ],
    )
    app.state.settings = settings
    app.state.ctx = ServiceContext(settings.store_dir)
    app.state.hub = HubGate(settings.store_dir, settings.hub_db)
    _install_error_handlers(app)
    register_routes(app)
    add_docs(app)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict:
        return {"status": "ok"}

    keys = KeyIndex(KeyStore(settings.store_dir)) if settings.auth else None
    buckets = TokenBuckets(settings.rate_limit) if settings.rate_limit > 0 else None
    app.add_middleware(BudgetMiddleware, budgets=settings.budgets)  # inside: needs the role
    app.add_middleware(
        AccessMiddleware, keys=keys, buckets=buckets, hub=app.state.hub if settings.auth else None
    )
    if settings.cors_origins:  # added last = outermost: 401/429 refusals carry CORS headers too
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
            expose_headers=["Retry-After", "WWW-Authenticate", "Deprecation", "Chaintrail-Budget"],
        )
    return app
