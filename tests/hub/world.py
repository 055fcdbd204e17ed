"""A small hub world for tests: agencies, an obliged entity, a group, users with keys."""

from __future__ import annotations

from dataclasses import dataclass, field

from chaintrail.hub import directory as d
from chaintrail.hub.db import Hub
from chaintrail.hub.setup import local_principal

HOME = "Home Police"  # the home organisation hub_env creates
PARTNER = "Partner FIU"
OTHER = "Other Customs"
EXCHANGE = "Exchange E"
AGENCY_ROLES = ("investigator", "analyst", "supervisor", "org_admin", "hub_admin")
OE_ROLES = ("compliance_officer", "org_admin")


@dataclass
class World:
    """Users by name with their org, role and API key."""

    keys: dict[str, str] = field(default_factory=dict)
    org_of: dict[str, str] = field(default_factory=dict)
    role_of: dict[str, str] = field(default_factory=dict)

    def auth(self, user: str) -> dict[str, str]:
        """Headers for a request as ``user``."""
        return {"Authorization": f"Bearer {self.keys[user]}"}


def build_world(hub: Hub) -> World:
    """Orgs HOME (hub_env's), PARTNER (FIU), OTHER (customs), EXCHANGE (obliged entity); group
    "ops" = HOME + PARTNER; per org one user per role (``a-``/``b-``/``e-`` + role) and an
    owner investigator ``a-owner`` in HOME, each with a write key."""
    w = World()
    with hub.transaction() as s:
        home = d.org_by_name(s, HOME)
        partner = d.add_org(s, None, PARTNER, "fiu", "DE")
        d.add_org(s, None, OTHER, "customs", "FR")
        exchange = d.add_org(s, None, EXCHANGE, "obliged_entity", "MT", "MT-VASP-1")
        d.add_group(s, None, "ops", "operation participants", [HOME, PARTNER])
        people = [("a-owner", home, "investigator")]
        people += [(f"a-{r}", home, r) for r in AGENCY_ROLES]
        people += [(f"b-{r}", partner, r) for r in AGENCY_ROLES]
        people += [(f"e-{r}", exchange, r) for r in OE_ROLES]
        for name, org, role in people:
            d.add_user(s, None, name, org, [role])
            w.keys[name] = d.new_key_for(s, None, name)[0]
            w.org_of[name] = org.name
            w.role_of[name] = role
    local_principal(hub)  # the local user exists
    return w
