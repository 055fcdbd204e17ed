"""GET /{currency}/blocks/{height}, /block_by_date/{date}, /rates/{height}."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from chaintrail.api.models import Block, BlockAtDate, Rates
from chaintrail.api.params import Currency, ctx
from chaintrail.api.services import blocks

router = APIRouter(prefix="/{currency}")
Height = Annotated[int, Path(ge=0, le=2**31 - 1, description="Block height")]


@router.get(
    "/blocks/{height}",
    response_model=Block,
    operation_id="get_block",
    summary="A block",
    tags=["blocks"],
)
def get_block(request: Request, currency: Currency, height: Height) -> dict:
    return blocks.block(ctx(request), currency, height)


@router.get(
    "/block_by_date/{date}",
    response_model=BlockAtDate,
    operation_id="get_block_by_date",
    summary="The blocks around a date/time (UTC)",
    tags=["blocks"],
)
def get_block_by_date(
    request: Request,
    currency: Currency,
    date: Annotated[str, Path(max_length=40, examples=["2009-01-10"])],
) -> dict:
    return blocks.block_by_date(ctx(request), currency, date)


@router.get(
    "/rates/{height}",
    response_model=Rates,
    operation_id="get_exchange_rates",
    summary="Fiat rates at a block (empty outside the shipped 2013-2025 prices)",
    tags=["rates"],
)
def get_exchange_rates(request: Request, currency: Currency, height: Height) -> dict:
    return blocks.rates(ctx(request), currency, height)
