"""The authorisation matrix: every hub endpoint x role x own/foreign organisation x TLP level x
shared/not shared, through the real app with real keys, on SQLite and PostgreSQL.

The expected outcome of each cell comes from the rules as docs/HUB.md states them (the table in
:func:`expected_view`, written independently of the implementation). Each cell must match
exactly: an allowed call must succeed (2xx) and a forbidden one must fail (403/404) without the
case's secret marker anywhere in the response. Both directions are counted so a matrix where
everything is refused cannot pass.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from chaintrail.api.app import ApiSettings, create_app
from chaintrail.hub import cases, shares
from chaintrail.hub.attachments import attach
from chaintrail.hub.setup import local_principal

from .conftest import HubEnv
from .world import EXCHANGE, HOME, OTHER, PARTNER, World, build_world

TLPS = ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED")
CASE_ROLES = {"investigator", "analyst", "supervisor"}
READ_ROLES = CASE_ROLES | {"compliance_officer"}
CALLERS = [f"a-{r}" for r in ("investigator", "analyst", "supervisor", "org_admin", "hub_admin")] + \
          [f"b-{r}" for r in ("investigator", "analyst", "supervisor", "org_admin", "hub_admin")] + \
          ["e-compliance_officer", "e-org_admin"]  # fmt: skip


def expected_view(user_org: str, role: str, tlp: str, shared: bool) -> bool:
    """May a user of ``user_org`` with ``role`` read a case marked ``tlp`` owned by HOME?

    Shared cells: RED shared with every caller by name; other markings shared with PARTNER's
    organisation, and with EXCHANGE where the marking lets an obliged entity be named (AMBER,
    GREEN, CLEAR). The owner's colleagues are not case members (RED needs them named).
    """
    if role not in READ_ROLES:
        return False
    if user_org == HOME:
        return tlp != "RED" or shared
    if tlp == "CLEAR" or (tlp == "GREEN" and user_org != EXCHANGE):
        return True
    if not shared:
        return False
    if tlp == "RED" or user_org == PARTNER:
        return True
    return tlp in ("AMBER", "GREEN")  # the exchange, named under AMBER


def may_write(user_org: str, role: str, tlp: str, shared: bool) -> bool:
    """File into / change the case: the owner organisation's case roles, if they see it."""
    return user_org == HOME and role in CASE_ROLES and expected_view(user_org, role, tlp, shared)


def may_reshare_to_agency(user_org: str, role: str, tlp: str, shared: bool) -> bool:
    """Share the case's note with another agency (OTHER): owner unless RED; a recipient only
    GREEN/CLEAR (AMBER goes only to named obliged entities, RED and STRICT nowhere)."""
    if role not in CASE_ROLES or not expected_view(user_org, role, tlp, shared):
        return False
    if user_org == HOME:
        return tlp != "RED"
    return tlp in ("GREEN", "CLEAR")


def may_read_audit(user_org: str, role: str) -> bool:
    """The case's audit entries: hub admins, and the owner's supervisors and org admins."""
    return role == "hub_admin" or (user_org == HOME and role in ("supervisor", "org_admin"))


@pytest.fixture
def matrix(
    hub_env: HubEnv,
) -> Iterator[tuple[TestClient, World, dict[tuple[str, bool], dict[str, int]]]]:
    hub = hub_env.open()
    world = build_world(hub)
    owner = local_principal(hub, "a-owner")
    cells: dict[tuple[str, bool], dict[str, int]] = {}
    for tlp in TLPS:
        for shared in (False, True):
            marker = f"SECRET-{tlp}-{shared}"
            with hub.transaction() as s:
                case = cases.create_case(s, owner, f"case {marker}", tlp)
                note = cases.add_item(s, owner, case.id, "note", {"markdown": f"{marker} note"})
            att = attach(hub, owner, case.id, "evidence.txt", [f"{marker} file".encode()])
            if shared:
                with hub.transaction() as s:
                    if tlp == "RED":
                        for user in CALLERS:
                            shares.create_share(s, owner, "user", user, case_id=case.id)
                    else:
                        shares.create_share(s, owner, "org", PARTNER, case_id=case.id)
                        if tlp in ("AMBER", "GREEN", "CLEAR"):
                            shares.create_share(s, owner, "org", EXCHANGE, case_id=case.id)
            cells[(tlp, shared)] = {"case": case.id, "note": note.id, "att": att.id}
    hub.close()
    # the matrix tests rules, not PostgreSQL's durability: do not wait for a WAL flush per read
    url = hub_env.url + "%20-csynchronous_commit%3Doff" if hub_env.url else None
    app = create_app(ApiSettings(hub_env.store, rate_limit=0, hub_db=url))
    with TestClient(app) as client:
        yield client, world, cells
    app.state.hub.close()


def test_every_cell_matches_the_rules(matrix) -> None:
    client, world, cells = matrix
    tally: Counter[tuple[str, bool]] = Counter()
    failures: list[str] = []

    def check(
        endpoint: str, user: str, tlp: str, shared: bool, allowed: bool, resp, marker: str | None
    ) -> None:
        ok = 200 <= resp.status_code < 300
        tally[(endpoint, allowed)] += 1
        if ok != allowed:
            failures.append(
                f"{endpoint} as {user} TLP:{tlp} shared={shared}: expected {'2xx' if allowed else 'refusal'}, got {resp.status_code} {resp.text[:120]}"
            )
        if not allowed and resp.status_code not in (403, 404):
            failures.append(
                f"{endpoint} as {user} TLP:{tlp} shared={shared}: refusal must be 403/404, got {resp.status_code}"
            )
        if not allowed and marker and marker in resp.text:
            failures.append(f"LEAK {endpoint} as {user} TLP:{tlp} shared={shared}")

    for user in CALLERS:
        org, role = world.org_of[user], world.role_of[user]
        h = world.auth(user)
        listed = client.get("/v1/hub/cases", headers=h)
        listed_ids = {c["id"] for c in listed.json()} if listed.status_code == 200 else set()
        for (tlp, shared), ids in cells.items():
            marker = f"SECRET-{tlp}-{shared}"
            view = expected_view(org, role, tlp, shared)
            check(
                "GET case",
                user,
                tlp,
                shared,
                view,
                client.get(f"/v1/hub/cases/{ids['case']}", headers=h),
                marker,
            )
            if (ids["case"] in listed_ids) != view:
                failures.append(
                    f"GET cases as {user} TLP:{tlp} shared={shared}: listed={ids['case'] in listed_ids}"
                )
            check(
                "GET item",
                user,
                tlp,
                shared,
                view,
                client.get(f"/v1/hub/items/{ids['note']}", headers=h),
                marker,
            )
            check(
                "GET content",
                user,
                tlp,
                shared,
                view,
                client.get(f"/v1/hub/items/{ids['att']}/content", headers=h),
                marker,
            )
            found = client.get("/v1/hub/search", params={"q": marker}, headers=h)
            hit = found.status_code == 200 and any(i["id"] == ids["note"] for i in found.json())
            if hit != view or (not view and marker in found.text):
                failures.append(f"search as {user} TLP:{tlp} shared={shared}: hit={hit}")
            tally[("search", view)] += 1
            check(
                "export stix",
                user,
                tlp,
                shared,
                view,
                client.get(f"/v1/hub/cases/{ids['case']}/export", headers=h),
                marker,
            )
            check(
                "export misp",
                user,
                tlp,
                shared,
                view,
                client.get(f"/v1/hub/cases/{ids['case']}/export?format=misp", headers=h),
                marker,
            )
            write = may_write(org, role, tlp, shared)
            r = client.post(
                f"/v1/hub/cases/{ids['case']}/items",
                headers=h,
                json={"kind": "note", "payload": {"markdown": f"by {user}"}},
            )
            check("POST item", user, tlp, shared, write, r, marker)
            r = client.patch(f"/v1/hub/cases/{ids['case']}", headers=h, json={"status": "active"})
            check("PATCH case", user, tlp, shared, write, r, marker)
            r = client.post(
                "/v1/hub/shares",
                headers=h,
                json={"item_id": ids["note"], "target_kind": "org", "target": OTHER},
            )
            check(
                "POST share",
                user,
                tlp,
                shared,
                may_reshare_to_agency(org, role, tlp, shared),
                r,
                marker,
            )
            if r.status_code == 201:
                assert (
                    client.delete(f"/v1/hub/shares/{r.json()['id']}", headers=h).status_code == 200
                )
            r = client.get("/v1/hub/audit", params={"case_id": ids["case"]}, headers=h)
            check("GET audit", user, tlp, shared, may_read_audit(org, role), r, None)
        # directory: registering organisations (hub admins), users of one's own org (its admins)
        r = client.post(
            "/v1/hub/orgs",
            headers=h,
            json={"name": f"org by {user}", "kind": "police", "country": "IT"},
        )
        check("POST org", user, "-", False, role == "hub_admin", r, None)
        r = client.post(
            "/v1/hub/users",
            headers=h,
            json={
                "name": f"new-{user}",
                "org": org,
                "roles": ["analyst" if org != EXCHANGE else "compliance_officer"],
            },
        )
        check("POST user", user, "-", False, role in ("org_admin", "hub_admin"), r, None)
        r = client.post(
            "/v1/hub/users",
            headers=h,
            json={
                "name": f"x-{user}",
                "org": HOME if org != HOME else PARTNER,
                "roles": ["analyst"],
            },
        )
        check("POST foreign user", user, "-", False, role == "hub_admin", r, None)
        check(
            "POST own key",
            user,
            "-",
            False,
            True,
            client.post(f"/v1/hub/users/{user}/keys", headers=h, json={}),
            None,
        )
    assert not failures, f"{len(failures)} cells wrong:\n" + "\n".join(failures[:40])
    for endpoint in {
        e for e, _ in tally
    }:  # every endpoint has cells that succeed and that are refused
        assert tally[(endpoint, True)] > 0, endpoint
        if endpoint != "POST own key":
            assert tally[(endpoint, False)] > 0, endpoint


def test_read_only_key_reads_but_never_writes(matrix) -> None:
    client, world, cells = matrix
    app_hub = client.app.state.hub.hub()
    with app_hub.transaction() as s:
        from chaintrail.hub import directory as d

        key = d.new_key_for(s, None, "a-investigator", access="read")[0]
    h = {"Authorization": f"Bearer {key}"}
    ids = cells[("AMBER", False)]
    assert client.get(f"/v1/hub/cases/{ids['case']}", headers=h).status_code == 200
    r = client.post(
        f"/v1/hub/cases/{ids['case']}/items",
        headers=h,
        json={"kind": "note", "payload": {"markdown": "x"}},
    )
    assert r.status_code == 403 and "read-only" in r.json()["detail"]
