"""``hub pull`` and ``hub push``: exchanging STIX objects with another TAXII 2.1 server (another
chaintrail hub, OpenCTI, medallion ...).

Pull pages through a remote collection and keeps its objects for the local organisation, each
under its own marking (see :func:`chaintrail.hub.taxii.store_pulled`). Push sends the items of one
of the organisation's own cases, in their STIX form and markings; TLP:RED items never leave (they
are for named people), and items another organisation shared with us are not ours to pass on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from chaintrail.errors import ForbiddenError, RemoteError, UsageError
from chaintrail.hub import audit
from chaintrail.hub.cases import visible_scope
from chaintrail.hub.db import Hub
from chaintrail.hub.directory import reach_of
from chaintrail.hub.export import visible_items
from chaintrail.hub.principal import Principal
from chaintrail.hub.stixmap import boilerplate, item_objects
from chaintrail.hub.taxii import store_pulled

TAXII = "application/taxii+json;version=2.1"
PAGE = 500


@dataclass(frozen=True)
class Remote:
    """A TAXII API root and how to sign in to it (HTTP Basic user and API key or password)."""

    root: str
    user: str
    secret: str

    def client(self) -> httpx.Client:
        """An HTTP client for the root."""
        return httpx.Client(auth=(self.user, self.secret), headers={"Accept": TAXII}, timeout=60)


def _json(resp: httpx.Response, what: str) -> Any:
    if resp.status_code >= 400:
        detail = resp.text[:300].replace("\n", " ")
        raise RemoteError(f"{what}: HTTP {resp.status_code} {detail}")
    try:
        return resp.json()
    except ValueError as exc:
        raise RemoteError(f"{what}: not JSON") from exc


def api_root(url: str, client: httpx.Client) -> str:
    """The API root of ``url``: itself, or the default root of a discovery URL."""
    url = url if url.endswith("/") else url + "/"
    if not url.startswith(("http://", "https://")):
        raise UsageError(
            f"--taxii {url!r}: expected an http(s) URL of a TAXII API root or discovery endpoint"
        )
    try:
        doc = _json(client.get(url), f"TAXII {url}")
    except httpx.HTTPError as exc:
        raise RemoteError(f"TAXII {url}: {exc}") from exc
    if "api_roots" in doc:
        root = doc.get("default") or (doc["api_roots"] or [None])[0]
        if not root:
            raise RemoteError(f"TAXII {url}: the server lists no API root")
        return str(root)
    return url


def pull(hub: Hub, who: Principal, remote: Remote, collection_id: str) -> tuple[int, int]:
    """Fetch every object of a remote collection and keep it; returns (received, newly stored)."""
    received: list[dict[str, Any]] = []
    with remote.client() as client:
        root = api_root(remote.root, client)
        url = f"{root}collections/{collection_id}/objects/"
        params: dict[str, Any] = {"limit": PAGE}
        try:
            while True:
                env = _json(client.get(url, params=params), f"TAXII {url}")
                received.extend(o for o in env.get("objects", []) if isinstance(o, dict))
                if not env.get("more") or not env.get("next"):
                    break
                params = {"limit": PAGE, "next": env["next"]}
        except httpx.HTTPError as exc:
            raise RemoteError(f"TAXII {url}: {exc}") from exc
    with hub.transaction() as s:
        stored = store_pulled(s, who, received, f"{root}collections/{collection_id}/")
    return len(received), stored


def push(
    hub: Hub, who: Principal, remote: Remote, collection_id: str, case_id: int
) -> dict[str, Any]:
    """Send the items of one of our cases (RED excepted) to a remote collection; returns its status."""
    with hub.transaction() as s:
        scope, _ = visible_scope(s, who, reach_of(s, who), case_id)
        if scope.case.owner_org_id != who.org_id:
            raise ForbiddenError(
                f"case {case_id} belongs to another organisation: its items are not yours to pass on"
            )
        _, items = visible_items(s, who, case_id)
        sendable = [it for it in items if it["tlp"] != "RED" and it["view"] == "full"]
        objects = [o for it in sendable for o in item_objects(it)]
        audit.append(s, who, "taxii.push.remote", "case", case_id, case_id=case_id,
                     detail={"to": f"{remote.root} {collection_id}", "items": [i["id"] for i in sendable]})  # fmt: skip
    if not objects:
        raise UsageError(f"case {case_id} has nothing to push (TLP:RED items stay here)")
    envelope = {"objects": [*boilerplate(), *objects]}
    with remote.client() as client:
        root = api_root(remote.root, client)
        url = f"{root}collections/{collection_id}/objects/"
        try:
            resp = client.post(url, json=envelope, headers={"Content-Type": TAXII})
        except httpx.HTTPError as exc:
            raise RemoteError(f"TAXII {url}: {exc}") from exc
        return dict(_json(resp, f"TAXII {url}"))
