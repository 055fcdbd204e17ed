"""GET /stats and /search."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from chaintrail.api.models import SearchResult, Stats
from chaintrail.api.params import ctx
from chaintrail.api.services import general

router = APIRouter(tags=["general"])


@router.get(
    "/stats", response_model=Stats, operation_id="get_statistics", summary="What this server holds"
)
def get_statistics(request: Request) -> dict:
    return general.stats(ctx(request))


@router.get(
    "/search",
    response_model=SearchResult,
    operation_id="search",
    summary="Addresses, txs, labels and actors starting with q",
)
def search(
    request: Request,
    q: Annotated[str, Query(min_length=2, max_length=200)],
    currency: Annotated[str | None, Query(max_length=16)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> dict:
    return general.search(ctx(request), q, currency, limit)
