"""TAXII 2.1 under ``/taxii2/``: discovery, the ``hub`` API root, collections, objects, manifest,
status. Authentication is the API's (a key as Bearer, or HTTP Basic ``user:key`` as the OASIS
``taxii2-client`` sends it). Not part of the OpenAPI document: TAXII is its own specification."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from chaintrail.api.hubgate import act
from chaintrail.errors import ValidationError
from chaintrail.hub import taxii
from chaintrail.hub.principal import Principal

TAXII = "application/taxii+json;version=2.1"
ROOT = "hub"
MAX_CONTENT = 20 * 1024 * 1024
router = APIRouter(prefix="/taxii2", include_in_schema=False)


def _reply(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status_code=status, media_type=TAXII, headers=headers)


def _filters(request: Request) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        if key.startswith("match[") and key.endswith("]"):
            out.setdefault(key[6:-1], []).extend(v for v in value.split(",") if v)
    return out


@router.get("/")
def discovery(request: Request) -> Response:
    """Server discovery: the one API root."""
    base = str(request.base_url).rstrip("/")
    return _reply({"title": "chaintrail hub", "description": "Cryptocurrency intelligence shared under TLP 2.0",
                   "default": f"{base}/taxii2/{ROOT}/", "api_roots": [f"{base}/taxii2/{ROOT}/"]})  # fmt: skip


@router.get(f"/{ROOT}/")
def api_root(request: Request) -> Response:
    """API root information."""
    return _reply({"title": "chaintrail hub", "description": "Collections per marking and sharing group",
                   "versions": [TAXII], "max_content_length": MAX_CONTENT})  # fmt: skip


@router.get(f"/{ROOT}/collections/")
def list_collections(request: Request) -> Response:
    """The caller's collections."""
    cols = act(request, lambda s, who: [c.resource() for c in taxii.collections(s, who)])
    return _reply({"collections": cols})


@router.get(f"/{ROOT}/collections/{{collection_id}}/")
def get_collection(request: Request, collection_id: str) -> Response:
    """One collection."""
    return _reply(act(request, lambda s, who: taxii.collection(s, who, collection_id).resource()))


def _page(request: Request, collection_id: str, limit: int, next_token: str | None, added_after: str | None,
          extra: dict[str, list[str]] | None = None, action: str = "taxii.objects") -> taxii.Page:  # fmt: skip
    filters = {**_filters(request), **(extra or {})}
    return act(request, taxii.list_objects, collection_id, limit=limit, next_token=next_token, added_after=added_after,
               filters=filters, audit_action=action)  # fmt: skip


def _date_headers(page: taxii.Page) -> dict[str, str]:
    if not page.objects:
        return {}
    return {
        "X-TAXII-Date-Added-First": page.objects[0][0],
        "X-TAXII-Date-Added-Last": page.objects[-1][0],
    }


Limit = Annotated[int, Query(ge=1, le=taxii.MAX_PAGE)]


@router.get(f"/{ROOT}/collections/{{collection_id}}/objects/")
def get_objects(
    request: Request,
    collection_id: str,
    limit: Limit = 100,
    next: str | None = None,
    added_after: str | None = None,
) -> Response:
    """An envelope of objects, ``limit`` at a time (``next`` for the following page)."""
    page = _page(request, collection_id, limit, next, added_after)
    body: dict[str, Any] = {"more": page.more, "objects": [o for _, o in page.objects]}
    if page.next:
        body["next"] = page.next
    return _reply(body, headers=_date_headers(page))


@router.post(f"/{ROOT}/collections/{{collection_id}}/objects/")
async def add_objects(request: Request, collection_id: str) -> Response:
    """Push an envelope of objects; answers with a status resource (202)."""
    raw = await request.body()
    if len(raw) > MAX_CONTENT:
        raise ValidationError(
            f"envelope of {len(raw):,} bytes exceeds max_content_length {MAX_CONTENT:,}",
            field="body",
        )
    try:
        envelope = json.loads(raw)
    except ValueError as exc:
        raise ValidationError(f"not JSON ({exc})", field="body") from exc
    status = await run_in_threadpool(
        act,
        request,
        taxii.add_objects,
        collection_id,
        envelope,
        f"taxii push from {request.client.host if request.client else '?'}",
    )
    return _reply(status, 202)


@router.get(f"/{ROOT}/collections/{{collection_id}}/objects/{{object_id}}/")
def get_object(
    request: Request,
    collection_id: str,
    object_id: str,
    limit: Limit = 100,
    next: str | None = None,
) -> Response:
    """Every version of one object."""
    page = _page(request, collection_id, limit, next, None, {"id": [object_id]})
    body: dict[str, Any] = {"more": page.more, "objects": [o for _, o in page.objects]}
    if page.next:
        body["next"] = page.next
    return _reply(body, headers=_date_headers(page))


@router.get(f"/{ROOT}/collections/{{collection_id}}/objects/{{object_id}}/versions/")
def get_versions(
    request: Request,
    collection_id: str,
    object_id: str,
    limit: Limit = 100,
    next: str | None = None,
) -> Response:
    """The versions of one object."""
    page = _page(request, collection_id, limit, next, None, {"id": [object_id]})
    versions = [o.get("modified") or o.get("created") or when for when, o in page.objects]
    return _reply({"more": page.more, "versions": versions}, headers=_date_headers(page))


@router.get(f"/{ROOT}/collections/{{collection_id}}/manifest/")
def get_manifest(
    request: Request,
    collection_id: str,
    limit: Limit = 100,
    next: str | None = None,
    added_after: str | None = None,
) -> Response:
    """One manifest record per object: id, date added, version, media type."""
    page = _page(request, collection_id, limit, next, added_after, action="taxii.manifest")
    rows = [{"id": o["id"], "date_added": when, "version": o.get("modified") or o.get("created") or when,
             "media_type": "application/stix+json;version=2.1"} for when, o in page.objects]  # fmt: skip
    body: dict[str, Any] = {"more": page.more, "objects": rows}
    if page.next:
        body["next"] = page.next
    return _reply(body, headers=_date_headers(page))


@router.get(f"/{ROOT}/status/{{status_id}}/")
def get_status(request: Request, status_id: str) -> Response:
    """The status of one of the caller's pushes."""

    def run(s: Session, who: Principal) -> dict[str, Any]:
        return taxii.get_status(s, who, status_id)

    return _reply(act(request, run))
