"""``/v1/hub``: cases, items, attachments, search, shares, exports and the audit log."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from chaintrail.api.hub_models import (
    AuditOut,
    CaseDetail,
    CaseIn,
    CaseOut,
    CasePatch,
    ItemIn,
    ItemOut,
    MembersIn,
    ShareIn,
    ShareOut,
)
from chaintrail.api.hubgate import act, principal_of
from chaintrail.hub import attachments, auditlog, cases, shares
from chaintrail.hub.cluster_view import live_view
from chaintrail.hub.export import export_case
from chaintrail.hub.policy import View
from chaintrail.hub.principal import Principal

router = APIRouter(prefix="/hub", tags=["hub"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
UPLOAD_BODY = {
    "requestBody": {
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        "required": True,
    }
}


@router.get(
    "/cases", response_model=list[CaseOut], summary="List cases", operation_id="hub_list_cases"
)
def list_cases(request: Request) -> list[dict[str, Any]]:
    """The caller's organisation's cases and those shared with it."""
    return act(request, cases.list_cases)


@router.post(
    "/cases",
    response_model=CaseOut,
    status_code=201,
    summary="Open a case",
    operation_id="hub_create_case",
)
def create_case(request: Request, body: CaseIn) -> dict[str, Any]:
    """A case owned by the caller's organisation."""

    def run(s: Session, who: Principal) -> dict[str, Any]:
        return cases.case_json(
            s, cases.create_case(s, who, body.title, body.tlp, body.members), View.FULL
        )

    return act(request, run)


@router.get(
    "/cases/{case_id}",
    response_model=CaseDetail,
    summary="Read a case",
    operation_id="hub_read_case",
)
def read_case(request: Request, case_id: Id) -> dict[str, Any]:
    """The case with every item the caller may see."""
    return act(request, cases.read_case, case_id)


@router.patch(
    "/cases/{case_id}",
    response_model=CaseOut,
    summary="Change a case",
    operation_id="hub_update_case",
)
def update_case(request: Request, case_id: Id, body: CasePatch) -> dict[str, Any]:
    """Title, status, default marking; with ``version``, 409 if it changed since."""

    def run(s: Session, who: Principal) -> dict[str, Any]:
        case = cases.update_case(
            s,
            who,
            case_id,
            title=body.title,
            status=body.status,
            tlp=body.tlp,
            expected_version=body.version,
        )
        return cases.case_json(s, case, View.FULL)

    return act(request, run)


@router.post(
    "/cases/{case_id}/members",
    response_model=list[str],
    summary="Add case members",
    operation_id="hub_case_members",
)
def add_members(request: Request, case_id: Id, body: MembersIn) -> list[str]:
    """Users of the owner organisation who work the case (and see its RED items)."""
    return act(request, cases.add_members, case_id, body.members)


@router.post(
    "/cases/{case_id}/items",
    response_model=ItemOut,
    status_code=201,
    summary="File an item",
    operation_id="hub_add_item",
)
def add_item(request: Request, case_id: Id, body: ItemIn) -> dict[str, Any]:
    """An address, cluster snapshot, tx, trace, tag, entity, link or note."""

    def run(s: Session, who: Principal) -> dict[str, Any]:
        item = cases.add_item(s, who, case_id, body.kind, body.payload, tlp=body.tlp, via=who.via)
        return cases.item_json(s, item, View.FULL)

    return act(request, run)


@router.post(
    "/cases/{case_id}/attachments", response_model=ItemOut, status_code=201, summary="Upload an attachment",
    operation_id="hub_add_attachment", openapi_extra=UPLOAD_BODY,
)  # fmt: skip
async def add_attachment(
    request: Request, case_id: Id, name: Annotated[str, Query(min_length=1, max_length=255)],
    tlp: Annotated[Literal["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"] | None, Query()] = None,
) -> dict[str, Any]:  # fmt: skip
    """The request body is the file; stored by SHA-256, limited in size (413-free: 400 past it)."""
    body = await request.body()
    who = principal_of(request)
    hub = request.app.state.hub.hub()

    def run() -> dict[str, Any]:
        item = attachments.attach(
            hub,
            who,
            case_id,
            name,
            [body],
            media_type=request.headers.get("content-type"),
            tlp=tlp,
            via=who.via,
        )
        with hub.transaction() as s:
            return cases.item_json(s, item, View.FULL)

    return await run_in_threadpool(run)


@router.get(
    "/items/{item_id}", response_model=ItemOut, summary="Read an item", operation_id="hub_read_item"
)
def read_item(
    request: Request,
    item_id: Id,
    live: Annotated[
        bool, Query(description="Cluster items: where the snapshot's addresses are now")
    ] = False,
) -> dict[str, Any]:
    """One item in the caller's view (``live=true`` adds a cluster snapshot's live view)."""
    item = act(request, cases.read_item, item_id)
    if live and item["kind"] == "cluster":
        item["live"] = live_view(request.app.state.hub.hub().store_dir, item["payload"])
    return item


@router.get(
    "/items/{item_id}/content", summary="Download an attachment", operation_id="hub_item_content",
    response_class=FileResponse, responses={200: {"content": {"application/octet-stream": {}}}},
)  # fmt: skip
def item_content(request: Request, item_id: Id) -> FileResponse:
    """The file of an attachment item (not for redacted shares)."""
    hub = request.app.state.hub.hub()
    path, meta = act(request, attachments.open_content, hub, item_id)
    return FileResponse(path, media_type="application/octet-stream", filename=meta["name"])


@router.get(
    "/search", response_model=list[ItemOut], summary="Search items", operation_id="hub_search"
)
def search(
    request: Request, q: Annotated[str, Query(min_length=1, max_length=200)]
) -> list[dict[str, Any]]:
    """Items the caller may see whose subject is ``q`` or whose title contains it."""
    return act(request, cases.search, q)


@router.get("/cases/{case_id}/export", summary="Export a case", operation_id="hub_export_case",
            responses={200: {"content": {"application/json": {}}}})  # fmt: skip
def export(
    request: Request, case_id: Id, format: Annotated[Literal["stix", "misp"], Query()] = "stix"
) -> Response:
    """The items the caller may see, as a STIX 2.1 bundle or a MISP event (markings kept)."""
    text = act(request, export_case, case_id, format)
    return Response(text, media_type="application/json")


@router.get(
    "/shares", response_model=list[ShareOut], summary="List shares", operation_id="hub_list_shares"
)
def list_shares(request: Request) -> list[dict[str, Any]]:
    """Shares the caller's organisation made or owns the case of."""
    return act(request, shares.list_shares)


@router.post(
    "/shares",
    response_model=ShareOut,
    status_code=201,
    summary="Share a case or item",
    operation_id="hub_share",
)
def create_share(request: Request, body: ShareIn) -> dict[str, Any]:
    """Within what the marking allows (see docs/HUB.md)."""

    def run(s: Session, who: Principal) -> dict[str, Any]:
        share = shares.create_share(
            s,
            who,
            body.target_kind,
            body.target,
            case_id=body.case_id,
            item_id=body.item_id,
            redacted=body.redacted,
        )
        return shares.share_json(s, share)

    return act(request, run)


@router.delete(
    "/shares/{share_id}",
    response_model=ShareOut,
    summary="Revoke a share",
    operation_id="hub_revoke_share",
)
def revoke_share(request: Request, share_id: Id) -> dict[str, Any]:
    """Close a share of the caller's organisation."""

    def run(s: Session, who: Principal) -> dict[str, Any]:
        return shares.share_json(s, shares.revoke_share(s, who, share_id))

    return act(request, run)


@router.get(
    "/audit", response_model=list[AuditOut], summary="Read the audit log", operation_id="hub_audit"
)
def audit_show(
    request: Request, case_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0, limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[dict[str, Any]]:  # fmt: skip
    """Entries the caller may read (supervisors and org admins: their organisation's)."""
    return act(request, auditlog.show, case_id=case_id, after=after, limit=limit)
