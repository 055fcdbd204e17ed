"""chaintrail's own endpoints under /v1: trace, exposure, risk, tx heuristics, off-chain links."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator

from chaintrail.api.access import require_analyst
from chaintrail.api.fields import bitcoin_address_field, tx_hash_field
from chaintrail.api.params import AddressPath, Currency, MeterDep, TxHashPath, ctx
from chaintrail.api.services import analysis
from chaintrail.limits import MAX_EXPOSURE_HOPS, MAX_FRONTIER, MAX_LINK_DEPTH, MAX_TRACE_HOPS

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
    hops: int = Field(3, ge=0, le=MAX_TRACE_HOPS)
    min_value: int = Field(0, ge=0, le=21 * 10**14)
    height_from: int | None = Field(None, ge=0, le=2**31 - 1)
    height_to: int | None = Field(None, ge=0, le=2**31 - 1)
    stop_at_services: bool = False
    demix: bool = True
    max_frontier: int = Field(10_000, ge=1, le=MAX_FRONTIER)
    cluster_nodes: bool = False

    @field_validator("address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        return None if value is None else bitcoin_address_field(value)

    @field_validator("tx_hash")
    @classmethod
    def _tx_hash(cls, value: str | None) -> str | None:
        return None if value is None else tx_hash_field(value)


@router.post(
    "/trace",
    operation_id="trace",
    summary="Trace value forward/backward under a taint model (poison, haircut, fifo)",
)
def trace(request: Request, currency: Currency, body: TraceRequest, meter: MeterDep) -> dict:
    return analysis.trace(ctx(request), currency, body, meter)


@router.get(
    "/exposure",
    operation_id="exposure",
    summary="Direct and indirect exposure of an address or cluster by tag category",
)
def exposure(
    request: Request,
    currency: Currency,
    meter: MeterDep,
    address: Annotated[str | None, Query(max_length=200)] = None,
    cluster: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None,
    hops: Annotated[int, Query(ge=1, le=MAX_EXPOSURE_HOPS)] = 3,
) -> dict:
    return analysis.exposure(ctx(request), currency, address, cluster, hops, meter)


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
    summary="Off-chain entities (emails, accounts, cases) linked to a wallet",
)
def offchain_links(
    request: Request,
    currency: Currency,
    address: AddressPath,
    depth: Annotated[int, Query(ge=1, le=MAX_LINK_DEPTH)] = 1,
) -> dict:
    return analysis.offchain_links(ctx(request), currency, address, depth)


class LinkRequest(BaseModel):
    """One evidence link from the wallet to another entity (``kind:value`` or an address)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "ref": "email:extortion@example.org",
                    "relation": "paid-by",
                    "evidence": "case 2024-17, ransom note",
                }
            ]
        },
    )
    ref: str = Field(min_length=1, max_length=300)
    relation: str = Field("related-to", min_length=1, max_length=100)
    evidence: str | None = Field(None, max_length=2000)
    note: str | None = Field(None, max_length=2000)
    tlp: Literal["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"] | None = None


@router.post(
    "/addresses/{address}/offchain",
    operation_id="add_offchain_link",
    summary="Record an off-chain link of a wallet (analyst keys)",
    responses={403: {"description": "Reader key"}},
)
def add_offchain_link(
    request: Request,
    currency: Currency,
    address: AddressPath,
    body: LinkRequest,
    caller: Annotated[str, Depends(require_analyst)],
) -> dict:
    return analysis.add_offchain_link(ctx(request), currency, address, body, caller)


@router.get(
    "/addresses/{address}/risk",
    operation_id="risk",
    summary="Risk score 0-10 of an address and the rules that fired",
)
def risk(
    request: Request,
    currency: Currency,
    address: AddressPath,
    meter: MeterDep,
    hops: Annotated[int, Query(ge=1, le=MAX_EXPOSURE_HOPS)] = 3,
) -> dict:
    return analysis.risk(ctx(request), currency, address, hops, meter)
