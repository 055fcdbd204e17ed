"""GET /{currency}/addresses/{address} and its sub-resources."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from chaintrail.api.models import (
    Address,
    AddressTags,
    AddressTxs,
    Cluster,
    Links,
    NeighborAddresses,
    TagSummary,
)
from chaintrail.api.params import (
    AddressPath,
    Currency,
    Deprecated,
    Direction,
    MeterDep,
    PageArgs,
    RangeArgs,
    ctx,
    page_args,
    range_args,
)
from chaintrail.api.services import addresses, clusters, tags

router = APIRouter(prefix="/{currency}/addresses/{address}", tags=["addresses"])


@router.get(
    "",
    response_model=Address,
    operation_id="get_address",
    summary="An address with totals and degrees",
)
async def get_address(request: Request, currency: Currency, address: AddressPath) -> Response:
    # the hot path: ~25 us of array lookups, answered on the event loop (no thread hop) and
    # serialised once (no response-model round trip); the schema above still documents it
    body = addresses.address(ctx(request), currency, address)
    return Response(json.dumps(body, separators=(",", ":")), media_type="application/json")


@router.get(
    "/cluster",
    response_model=Cluster,
    operation_id="get_address_cluster",
    summary="The cluster of an address",
)
def get_address_cluster(request: Request, currency: Currency, address: AddressPath) -> dict:
    return clusters.address_cluster(ctx(request), currency, address)


@router.get(
    "/entity",
    response_model=Cluster,
    operation_id="get_address_entity",
    summary="Deprecated alias of /cluster",
    deprecated=True,
    dependencies=Deprecated,
)
def get_address_entity(request: Request, currency: Currency, address: AddressPath) -> dict:
    return clusters.address_cluster(ctx(request), currency, address)


@router.get(
    "/txs",
    response_model=AddressTxs,
    operation_id="list_address_txs",
    summary="Transactions of an address (value < 0: outgoing)",
)
def list_address_txs(
    request: Request,
    currency: Currency,
    address: AddressPath,
    rng: Annotated[RangeArgs, Depends(range_args)],
    direction: Direction | None = None,
) -> dict:
    return addresses.address_txs(ctx(request), currency, address, direction, rng)


@router.get(
    "/neighbors",
    response_model=NeighborAddresses,
    operation_id="list_address_neighbors",
    summary="Addresses this one paid (out) or was paid by (in)",
)
def list_address_neighbors(
    request: Request,
    currency: Currency,
    address: AddressPath,
    direction: Direction,
    pg: Annotated[PageArgs, Depends(page_args)],
    meter: MeterDep,
    include_labels: bool = False,
) -> dict:
    return addresses.neighbors(
        ctx(request), currency, address, direction, include_labels, pg, meter
    )


@router.get(
    "/links",
    response_model=Links,
    operation_id="list_address_links",
    summary="Transactions from this address to a neighbor",
)
def list_address_links(
    request: Request,
    currency: Currency,
    address: AddressPath,
    neighbor: Annotated[str, Query(max_length=200)],
    rng: Annotated[RangeArgs, Depends(range_args)],
) -> dict:
    return addresses.links(ctx(request), currency, address, neighbor, rng)


@router.get(
    "/tags",
    response_model=AddressTags,
    operation_id="list_tags_by_address",
    summary="Attribution tags of an address",
)
def list_tags_by_address(
    request: Request,
    currency: Currency,
    address: AddressPath,
    pg: Annotated[PageArgs, Depends(page_args)],
) -> dict:
    return tags.tags_of_address(ctx(request), currency, address, pg)


@router.get(
    "/tag_summary",
    response_model=TagSummary,
    operation_id="get_tag_summary_by_address",
    summary="What the tags of an address say",
)
def get_tag_summary_by_address(request: Request, currency: Currency, address: AddressPath) -> dict:
    return tags.tag_summary(ctx(request), currency, address)
