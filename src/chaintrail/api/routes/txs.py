"""GET /{currency}/txs/{tx_hash} and its inputs/outputs, spending and spent_in."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request

from chaintrail.api.models import TxRef, TxUtxo, TxValue
from chaintrail.api.params import Currency, TxHashPath, ctx
from chaintrail.api.services import txs

router = APIRouter(prefix="/{currency}/txs/{tx_hash}", tags=["txs"])
IoIndex = Annotated[int | None, Query(ge=0, le=2**31 - 1)]


@router.get(
    "",
    response_model=TxUtxo,
    response_model_exclude_none=True,
    operation_id="get_tx",
    summary="A transaction, optionally with inputs and outputs",
)
def get_tx(
    request: Request,
    currency: Currency,
    tx_hash: TxHashPath,
    include_io: bool = False,
    include_nonstandard_io: bool = False,
    include_io_index: bool = False,
) -> dict:
    return txs.tx(
        ctx(request), currency, tx_hash, include_io, include_nonstandard_io, include_io_index
    )


@router.get(
    "/spending",
    response_model=list[TxRef],
    operation_id="get_spending_txs",
    summary="Transactions whose outputs this one spends",
)
def get_spending_txs(
    request: Request, currency: Currency, tx_hash: TxHashPath, io_index: IoIndex = None
) -> list:
    return txs.spending(ctx(request), currency, tx_hash, io_index)


@router.get(
    "/spent_in",
    response_model=list[TxRef],
    operation_id="get_spent_in_txs",
    summary="Transactions that spend this one's outputs",
)
def get_spent_in_txs(
    request: Request, currency: Currency, tx_hash: TxHashPath, io_index: IoIndex = None
) -> list:
    return txs.spent_in(ctx(request), currency, tx_hash, io_index)


@router.get(
    "/{io}",
    response_model=list[TxValue],
    response_model_exclude_none=True,
    operation_id="get_tx_io",
    summary="Inputs or outputs of a transaction",
)
def get_tx_io(
    request: Request,
    currency: Currency,
    tx_hash: TxHashPath,
    io: Annotated[Literal["inputs", "outputs"], Path()],
    include_nonstandard_io: bool = False,
    include_io_index: bool = False,
) -> list:
    return txs.tx_io(ctx(request), currency, tx_hash, io, include_nonstandard_io, include_io_index)
