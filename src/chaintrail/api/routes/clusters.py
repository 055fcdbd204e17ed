"""GET /{currency}/clusters/{cluster}/... and the deprecated /entities/{entity}/... aliases.

Both families are built by :func:`_add_family` from one definition, so an alias can never
drift from the endpoint it stands for. Everything but the cluster itself and its addresses
is deprecated upstream and carries ``Deprecation: true``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from chaintrail.api.models import (
    AddressTags,
    AddressTxs,
    Cluster,
    ClusterAddresses,
    Links,
    NeighborClusters,
    SearchResultLevel,
)
from chaintrail.api.params import (
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
from chaintrail.api.services import clusters, tags

ClusterId = Annotated[int, Path(ge=0, le=2**63 - 1, description="Cluster id")]
router = APIRouter()


def _add_family(noun: str, plural: str, tag: str, legacy: bool) -> None:
    """Register the endpoints under ``/{currency}/{plural}/{id}`` with operation ids for ``noun``."""
    base = f"/{{currency}}/{plural}/{{cluster}}"
    dep = Deprecated if legacy else []
    kw = {"tags": [tag]}

    @router.get(
        base,
        response_model=Cluster,
        operation_id=f"get_{noun}",
        summary=f"A {noun} with totals",
        deprecated=legacy,
        dependencies=dep,
        **kw,
    )
    def get_one(request: Request, currency: Currency, cluster: ClusterId) -> dict:
        return clusters.cluster(ctx(request), currency, cluster)

    @router.get(
        f"{base}/addresses",
        response_model=ClusterAddresses,
        operation_id=f"list_{noun}_addresses",
        summary=f"Addresses of a {noun}",
        deprecated=legacy,
        dependencies=dep,
        **kw,
    )
    def list_addresses(
        request: Request,
        currency: Currency,
        cluster: ClusterId,
        pg: Annotated[PageArgs, Depends(page_args)],
    ) -> dict:
        return clusters.cluster_addresses(ctx(request), currency, cluster, pg)

    @router.get(
        f"{base}/neighbors",
        response_model=NeighborClusters,
        operation_id=f"list_{noun}_neighbors",
        summary=f"{noun.title()}s this one paid (out) or was paid by (in)",
        deprecated=True,
        dependencies=Deprecated,
        **kw,
    )
    def list_neighbors(
        request: Request,
        currency: Currency,
        cluster: ClusterId,
        direction: Direction,
        pg: Annotated[PageArgs, Depends(page_args)],
        meter: MeterDep,
        include_labels: bool = False,
    ) -> dict:
        return clusters.cluster_neighbors(
            ctx(request), currency, cluster, direction, include_labels, pg, meter
        )

    @router.get(
        f"{base}/links",
        response_model=Links,
        operation_id=f"list_{noun}_links",
        summary=f"Transactions from this {noun} to a neighbor",
        deprecated=True,
        dependencies=Deprecated,
        **kw,
    )
    def list_links(
        request: Request,
        currency: Currency,
        cluster: ClusterId,
        neighbor: Annotated[int, Query(ge=0, le=2**63 - 1)],
        rng: Annotated[RangeArgs, Depends(range_args)],
    ) -> dict:
        return clusters.cluster_links(ctx(request), currency, cluster, neighbor, rng)

    @router.get(
        f"{base}/tags",
        response_model=AddressTags,
        operation_id=f"list_address_tags_by_{noun}",
        summary=f"Tags of the addresses of a {noun}",
        deprecated=True,
        dependencies=Deprecated,
        **kw,
    )
    def list_tags(
        request: Request,
        currency: Currency,
        cluster: ClusterId,
        pg: Annotated[PageArgs, Depends(page_args)],
    ) -> dict:
        return tags.tags_of_cluster(ctx(request), currency, cluster, pg)

    @router.get(
        f"{base}/txs",
        response_model=AddressTxs,
        operation_id=f"list_{noun}_txs",
        summary=f"Transactions of a {noun}",
        deprecated=True,
        dependencies=Deprecated,
        **kw,
    )
    def list_txs(
        request: Request,
        currency: Currency,
        cluster: ClusterId,
        rng: Annotated[RangeArgs, Depends(range_args)],
        direction: Direction | None = None,
    ) -> dict:
        return clusters.cluster_txs(ctx(request), currency, cluster, direction, rng)

    @router.get(
        f"{base}/search",
        response_model=list[SearchResultLevel],
        operation_id=f"search_{noun}_neighbors",
        summary="Paths to neighbors holding a category or address",
        deprecated=True,
        dependencies=Deprecated,
        **kw,
    )
    def search_neighbors(
        request: Request,
        currency: Currency,
        cluster: ClusterId,
        direction: Direction,
        key: Annotated[str, Query(pattern="^(category|addresses)$")],
        value: Annotated[str, Query(max_length=2000)],
        depth: Annotated[int, Query(ge=1, le=7)],
        meter: MeterDep,
        breadth: Annotated[int, Query(ge=1, le=100)] = 16,
        skip_num_addresses: Annotated[int | None, Query(ge=1)] = None,
    ) -> list:
        return clusters.search_neighbors(
            ctx(request),
            currency,
            cluster,
            direction,
            key,
            value,
            depth,
            breadth,
            skip_num_addresses,
            meter,
        )


_add_family("cluster", "clusters", "clusters", legacy=False)
_add_family("entity", "entities", "entities", legacy=True)
