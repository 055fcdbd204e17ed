"""``/v1/hub``: the caller, organisations, sharing groups, users and their keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from sqlalchemy.orm import Session

from chaintrail.api.hub_models import (
    GroupIn,
    GroupMembersIn,
    GroupOut,
    KeyIn,
    KeyOut,
    MeOut,
    OrgIn,
    OrgOut,
    UserIn,
    UserOut,
)
from chaintrail.api.hubgate import act, principal_of
from chaintrail.hub import directory as d
from chaintrail.hub.principal import Principal

router = APIRouter(prefix="/hub", tags=["hub"])
NameParam = Annotated[str, Path(min_length=1, max_length=200)]


@router.get("/me", response_model=MeOut, summary="Who the caller is", operation_id="hub_me")
def me(request: Request) -> MeOut:
    """The caller's user, organisation, roles and whether its key may write."""
    who = principal_of(request)
    with request.app.state.hub.hub().transaction() as s:
        org = d.org_of(s, who)
    return MeOut(
        user=who.name,
        org=org.name,
        org_kind=org.kind,
        roles=sorted(who.roles),
        can_write=who.can_write,
    )


@router.get(
    "/orgs", response_model=list[OrgOut], summary="List organisations", operation_id="hub_list_orgs"
)
def list_orgs(request: Request) -> list[OrgOut]:
    """Member agencies and obliged entities."""
    return [OrgOut(**vars(o)) for o in act(request, d.list_orgs)]


@router.post(
    "/orgs",
    response_model=OrgOut,
    status_code=201,
    summary="Register an organisation",
    operation_id="hub_create_org",
)
def create_org(request: Request, body: OrgIn) -> OrgOut:
    """Hub admins register agencies and obliged entities."""

    def run(s: Session, who: Principal) -> OrgOut:
        return OrgOut(
            **vars(
                d.OrgView.of(d.add_org(s, who, body.name, body.kind, body.country, body.licence_id))
            )
        )

    return act(request, run)


@router.get(
    "/groups",
    response_model=list[GroupOut],
    summary="List sharing groups",
    operation_id="hub_list_groups",
)
def list_groups(request: Request) -> list[GroupOut]:
    """Sharing groups with their organisations."""
    return [GroupOut(**g) for g in act(request, d.list_groups)]


@router.post(
    "/groups",
    response_model=GroupOut,
    status_code=201,
    summary="Create a sharing group",
    operation_id="hub_create_group",
)
def create_group(request: Request, body: GroupIn) -> GroupOut:
    """Hub admins create groups of organisations."""

    def run(s: Session, who: Principal) -> GroupOut:
        return GroupOut(
            **d.group_json(s, d.add_group(s, who, body.name, body.description, body.members))
        )

    return act(request, run)


@router.post(
    "/groups/{name}/members",
    response_model=GroupOut,
    summary="Add organisations to a group",
    operation_id="hub_group_add",
)
def add_group_members(request: Request, name: NameParam, body: GroupMembersIn) -> GroupOut:
    """Hub admins add organisations to a group."""

    def run(s: Session, who: Principal) -> GroupOut:
        group = d.group_by_name(s, name)
        d.set_group_members(s, who, group, body.members)
        return GroupOut(**d.group_json(s, group))

    return act(request, run)


@router.get(
    "/users", response_model=list[UserOut], summary="List users", operation_id="hub_list_users"
)
def list_users(
    request: Request, org: Annotated[str | None, Query(max_length=200)] = None
) -> list[UserOut]:
    """Users of the caller's organisation (all users for a hub admin)."""
    return [UserOut(**u) for u in act(request, d.list_users, org)]


@router.post(
    "/users",
    response_model=UserOut,
    status_code=201,
    summary="Create a user",
    operation_id="hub_create_user",
)
def create_user(request: Request, body: UserIn) -> UserOut:
    """Org admins create users of their organisation; hub admins of any."""

    def run(s: Session, who: Principal) -> UserOut:
        org = d.org_by_name(s, body.org)
        user = d.add_user(
            s,
            who,
            body.name,
            org,
            list(body.roles),
            password=body.password,
            display_name=body.display_name,
        )
        return UserOut(**d.user_json(s, user))

    return act(request, run)


@router.post(
    "/users/{name}/keys",
    response_model=KeyOut,
    status_code=201,
    summary="Create an API key",
    operation_id="hub_create_key",
)
def create_key(request: Request, name: NameParam, body: KeyIn) -> KeyOut:
    """A key for a user (oneself, or as its org admin or a hub admin); shown once."""

    def run(s: Session, who: Principal) -> KeyOut:
        key, rec, user = d.new_key_for(
            s, who, name, name=body.name, access=body.access, rate_limit=body.rate_limit
        )
        return KeyOut(id=rec.id, key=key, user=user.name, access=rec.access)

    return act(request, run)
