"""chaintrail's own endpoints under /v1: trace, exposure, tx heuristics."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from chaintrail.api.params import AddressPath, Currency, TxHashPath, ctx
from chaintrail.api.services import analysis

router = APIRouter(prefix="/{currency}", tags=["analysis"])


class TraceRequest(BaseModel):
    """Where to start and how taint spreads (see docs/TRACING.md)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"address": "12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S", "model": "haircut", "hops": 3}
            ]
        },
    )
    address: str | None = Field(None, max_length=200)
    tx_hash: str | None = Field(None, max_length=64)
    output_index: int | None = Field(None, ge=0, le=2**31 - 1)
    direction: Literal["forward", "backward"] = "forward"
    model: Literal["poison", "haircut", "fifo"] = "haircut"
    hops: int = Field(3, ge=0, le=50)
    min_value: int = Field(0, ge=0, le=21 * 10**14)
    height_from: int | None = Field(None, ge=0, le=2**31 - 1)
    height_to: int | None = Field(None, ge=0, le=2**31 - 1)
    stop_at_services: bool = False
    demix: bool = True
    max_frontier: int = Field(10_000, ge=1, le=100_000)
    cluster_nodes: bool = False


@router.post(
    "/trace",
    operation_id="trace",
    summary="Trace value forward/backward under a taint model (poison, haircut, fifo)",
)
def trace(request: Request, currency: Currency, body: TraceRequest) -> dict:
    return analysis.trace(ctx(request), currency, body)


@router.get(
    "/exposure",
    operation_id="exposure",
    summary="Direct and indirect exposure of an address or cluster by tag category",
)
def exposure(
    request: Request,
    currency: Currency,
    address: Annotated[str | None, Query(max_length=200)] = None,
    cluster: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None,
    hops: Annotated[int, Query(ge=1, le=10)] = 3,
) -> dict:
    return analysis.exposure(ctx(request), currency, address, cluster, hops)


@router.get(
    "/txs/{tx_hash}/heuristics",
    operation_id="tx_heuristics",
    summary="Change-output and CoinJoin heuristics of a transaction",
)
def tx_heuristics(request: Request, currency: Currency, tx_hash: TxHashPath) -> dict:
    return analysis.heuristics(ctx(request), currency, tx_hash)


@router.get(
    "/addresses/{address}/offchain",
    operation_id="offchain_links",
    summary="Off-chain links (emails, accounts, cases) of a wallet",
)
def offchain_links(request: Request, currency: Currency, address: AddressPath) -> dict:
    return analysis.offchain_links(ctx(request), currency, address)
