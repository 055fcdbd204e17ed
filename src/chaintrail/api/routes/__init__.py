"""Route modules, one per resource; each exposes ``router``. Routes stay thin: parse, call a
service, return. The GraphSense subset mounts under ``/api``, chaintrail's own under ``/v1``."""

from __future__ import annotations

from fastapi import FastAPI

from chaintrail.api.models import ErrorBody

ERRORS = {
    400: {"model": ErrorBody, "description": "Malformed value (address, hash, token ...)"},
    401: {"model": ErrorBody, "description": "Missing or unknown API key"},
    404: {"model": ErrorBody, "description": "Unknown currency, address, tx, block or cluster"},
    422: {"model": ErrorBody, "description": "A parameter of the wrong type or out of range"},
    429: {"model": ErrorBody, "description": "Rate limit of this key exceeded"},
}


def register_routes(app: FastAPI) -> None:
    """Mount every router."""
    from chaintrail.api.routes import addresses, analysis, blocks, clusters, general, tags, txs

    for module in (general, addresses, clusters, txs, blocks, tags):
        app.include_router(module.router, prefix="/api", responses=ERRORS)
    app.include_router(analysis.router, prefix="/v1", responses=ERRORS)
