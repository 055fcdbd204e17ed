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

HUB_ERRORS = {
    **ERRORS,
    403: {
        "model": ErrorBody,
        "description": "The caller's role, organisation or a TLP marking forbids it",
    },
    404: {"model": ErrorBody, "description": "Unknown, or not shared with the caller"},
    409: {
        "model": ErrorBody,
        "description": "A duplicate, or the object changed since it was read",
    },
    503: {
        "model": ErrorBody,
        "description": "No hub database, or it needs `chaintrail hub migrate`",
    },
}


def register_routes(app: FastAPI) -> None:
    """Mount every router."""
    from chaintrail.api.routes import (
        addresses,
        analysis,
        blocks,
        clusters,
        general,
        hub_cases,
        hub_directory,
        tags,
        taxii,
        txs,
    )

    for module in (general, addresses, clusters, txs, blocks, tags):
        app.include_router(module.router, prefix="/api", responses=ERRORS)
    app.include_router(analysis.router, prefix="/v1", responses=ERRORS)
    for module in (hub_directory, hub_cases):
        app.include_router(module.router, prefix="/v1", responses=HUB_ERRORS)
    app.include_router(taxii.router)
