"""Query/path parameters shared by the routes, with the bounds the GraphSense client checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Path, Query, Request, Response

from chaintrail.api.budget import request_meter
from chaintrail.api.paging import DEFAULT_PAGESIZE, MAX_PAGESIZE
from chaintrail.budget import Meter

Currency = Annotated[
    str, Path(description="Lower-case ticker of a served chain", examples=["btc"], max_length=16)
]
AddressPath = Annotated[
    str,
    Path(
        description="An address as shown by explorers",
        examples=["1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"],
        max_length=200,
    ),
]
TxHashPath = Annotated[str, Path(description="Transaction hash (display hex)", max_length=200)]
ClusterPath = Annotated[int, Path(description="Cluster id", ge=0, le=2**63 - 1)]
Page = Annotated[str | None, Query(description="Opaque next_page token", max_length=200)]
Pagesize = Annotated[
    int | None, Query(description="Items per page (1-5000)", ge=1, le=MAX_PAGESIZE)
]
Direction = Literal["in", "out"]
Order = Literal["asc", "desc"]


@dataclass
class PageArgs:
    """A page request: token and size."""

    page: str | None
    pagesize: int


def page_args(page: Page = None, pagesize: Pagesize = None) -> PageArgs:
    """Dependency: page token and size (default 100)."""
    return PageArgs(page, pagesize or DEFAULT_PAGESIZE)


@dataclass
class RangeArgs:
    """Height/date window, order and page of a transaction listing."""

    min_height: int | None
    max_height: int | None
    min_date: str | None
    max_date: str | None
    order: str
    page: str | None
    pagesize: int


def range_args(
    min_height: Annotated[int | None, Query(ge=0, le=2**31 - 1)] = None,
    max_height: Annotated[int | None, Query(ge=0, le=2**31 - 1)] = None,
    min_date: Annotated[
        str | None, Query(description="ISO date or datetime (UTC)", max_length=40)
    ] = None,
    max_date: Annotated[
        str | None, Query(description="ISO date or datetime (UTC)", max_length=40)
    ] = None,
    order: Order = "asc",
    token_currency: Annotated[str | None, Query(max_length=20)] = None,
    page: Page = None,
    pagesize: Pagesize = None,
) -> RangeArgs:
    """Dependency: the GraphSense ``R`` parameter set (token_currency only for account chains)."""
    return RangeArgs(
        min_height, max_height, min_date, max_date, order, page, pagesize or DEFAULT_PAGESIZE
    )


def mark_deprecated(response: Response) -> None:
    """Dependency: tell clients this GraphSense endpoint is deprecated (``Deprecation: true``)."""
    response.headers["Deprecation"] = "true"


Deprecated = [Depends(mark_deprecated)]

#: the request's work meter (its role's budget; cancelled when the client leaves)
MeterDep = Annotated[Meter, Depends(request_meter)]


def ctx(request: Request):  # noqa: ANN201 - returns ServiceContext (import cycle)
    """The app's ServiceContext."""
    return request.app.state.ctx
