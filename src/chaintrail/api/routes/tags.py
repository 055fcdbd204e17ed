"""GET /tags, actors, taxonomies and concepts; POST /tags/report-tag (analyst keys only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from chaintrail.api.access import require_analyst
from chaintrail.api.models import (
    Actor,
    AddressTags,
    Concept,
    Taxonomy,
    UserReportedTag,
    UserTagReportResponse,
)
from chaintrail.api.params import PageArgs, ctx, page_args
from chaintrail.api.services import tags

router = APIRouter(prefix="/tags", tags=["tags"])
ActorId = Annotated[str, Path(max_length=200, examples=["binance"])]


@router.get(
    "", response_model=AddressTags, operation_id="list_address_tags", summary="Tags with a label"
)
def list_address_tags(
    request: Request,
    label: Annotated[str, Query(min_length=1, max_length=500)],
    pg: Annotated[PageArgs, Depends(page_args)],
) -> dict:
    return tags.tags_by_label(ctx(request), label, pg)


@router.get("/actors/{actor}", response_model=Actor, operation_id="get_actor", summary="An actor")
def get_actor(request: Request, actor: ActorId) -> dict:
    return tags.actor(ctx(request), actor)


@router.get(
    "/actors/{actor}/tags",
    response_model=AddressTags,
    operation_id="get_actor_tags",
    summary="Tags of an actor",
)
def get_actor_tags(
    request: Request, actor: ActorId, pg: Annotated[PageArgs, Depends(page_args)]
) -> dict:
    return tags.actor_tags(ctx(request), actor, pg)


@router.get(
    "/taxonomies",
    response_model=list[Taxonomy],
    operation_id="list_taxonomies",
    summary="Taxonomies of concepts",
)
def list_taxonomies(request: Request) -> list:
    return tags.taxonomies(ctx(request))


@router.get(
    "/taxonomies/{taxonomy}/concepts",
    response_model=list[Concept],
    operation_id="list_concepts",
    summary="Concepts of a taxonomy",
)
def list_concepts(request: Request, taxonomy: Annotated[str, Path(max_length=100)]) -> list:
    return tags.concepts(ctx(request), taxonomy)


@router.post(
    "/report-tag",
    response_model=UserTagReportResponse,
    operation_id="report_tag",
    summary="Report a tag (analyst keys)",
    responses={403: {"description": "Reader key"}},
)
def report_tag(
    request: Request, body: UserReportedTag, caller: Annotated[str, Depends(require_analyst)]
) -> dict:
    return tags.report_tag(ctx(request), body, caller)
