"""TAXII 2.1 against the live server: the OASIS ``taxii2-client`` lists collections, pages through
objects and pushes a bundle; a second chaintrail instance pulling from the first ends with
exactly the GREEN (and CLEAR) objects and the ones shared with it."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from sqlalchemy import select
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

from chaintrail.cli import main
from chaintrail.hub import cases, directory, shares
from chaintrail.hub.db import open_hub
from chaintrail.hub.models import StixObject
from chaintrail.hub.setup import init_hub, local_principal
from chaintrail.hub.stixmap import item_objects
from chaintrail.intel.stix_model import TLP_MARKINGS

from .conftest import HubEnv, ServerProcess
from .world import PARTNER, build_world

TLPS = ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED")


def _file_notes(env: HubEnv, per_tlp: int = 3) -> dict[str, list[int]]:
    """a-owner files ``per_tlp`` notes per marking into one case per marking; returns item ids."""
    hub = env.open()
    try:
        owner = local_principal(hub, "a-owner")
        out: dict[str, list[int]] = {}
        for tlp in TLPS:
            with hub.transaction() as s:
                case = cases.create_case(s, owner, f"federation {tlp}", tlp)
                out[tlp] = [
                    cases.add_item(s, owner, case.id, "note", {"markdown": f"{tlp} note {i}"}).id
                    for i in range(per_tlp)
                ]
        return out
    finally:
        hub.close()


def test_the_oasis_client_lists_pages_and_pushes(server: ServerProcess) -> None:
    hub = server.env.open()
    world = build_world(hub)
    hub.close()
    _file_notes(server.env, per_tlp=5)
    srv = Server(f"{server.base}/taxii2/", user="b-analyst", password=world.keys["b-analyst"])
    assert srv.title == "chaintrail hub"
    root: ApiRoot = srv.api_roots[0]
    titles = {c.title: c for c in root.collections}
    assert {
        "TLP:CLEAR",
        "TLP:GREEN",
        f"Shared with {PARTNER}",
        "ops TLP:AMBER",
        "ops TLP:AMBER+STRICT",
    } <= set(titles)
    green: Collection = titles["TLP:GREEN"]
    pages = list(as_pages(green.get_objects, per_request=2))
    assert len(pages) == 3 and [len(p["objects"]) for p in pages] == [2, 2, 1]
    got = [o for p in pages for o in p["objects"]]
    assert all(o["object_marking_refs"] == [TLP_MARKINGS["GREEN"]] for o in got)
    assert sorted(o["content"] for o in got) == [f"GREEN note {i}" for i in range(5)]
    manifest = green.get_manifest()
    assert {m["id"] for m in manifest["objects"]} == {o["id"] for o in got}
    # nothing of the AMBER/STRICT/RED cases: they were not shared
    shared = titles[f"Shared with {PARTNER}"].get_objects()
    assert shared["objects"] == [] and shared["more"] is False

    note_id = f"note--{uuid.uuid4()}"
    bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": [
        {"type": "note", "spec_version": "2.1", "id": note_id, "created": "2026-01-02T03:04:05.000Z",
         "modified": "2026-01-02T03:04:05.000Z", "content": "wallet seen at a mixer", "object_refs": [note_id.replace("note", "identity")]},
        {"type": "note", "spec_version": "2.1", "id": f"note--{uuid.uuid4()}", "created": "2026-01-02T03:04:05.000Z",
         "modified": "2026-01-02T03:04:05.000Z", "content": "red", "object_refs": [note_id.replace("note", "identity")],
         "object_marking_refs": [TLP_MARKINGS["RED"]]},
    ]}  # fmt: skip
    status = titles["ops TLP:AMBER"].add_objects(json.dumps(bundle))
    assert status.status == "complete" and status.success_count == 1 and status.failure_count == 1
    assert "TLP:RED" in status.failures[0]["message"]
    assert titles["TLP:GREEN"].can_write and not titles[f"Shared with {PARTNER}"].can_write
    # the group's other member reads it, marked AMBER; an outsider's collections do not have it
    a_root = Server(
        f"{server.base}/taxii2/", user="a-investigator", password=world.keys["a-investigator"]
    ).api_roots[0]
    ops = next(c for c in a_root.collections if c.title == "ops TLP:AMBER")
    seen = ops.get_object(note_id)["objects"]
    assert seen[0]["content"] == "wallet seen at a mixer" and seen[0]["object_marking_refs"] == [
        TLP_MARKINGS["AMBER"]
    ]
    e_root = Server(
        f"{server.base}/taxii2/",
        user="e-compliance_officer",
        password=world.keys["e-compliance_officer"],
    ).api_roots[0]
    assert "TLP:GREEN" not in {c.title for c in e_root.collections}
    for c in e_root.collections:
        assert note_id not in json.dumps(c.get_objects())


def test_a_second_instance_pulls_exactly_what_it_may_have(
    server: ServerProcess, tmp_path: Path, capsys
) -> None:
    hub = server.env.open()
    build_world(hub)
    with hub.transaction() as s:
        b_org = directory.add_org(s, None, "Instance B Police", "police", "DE")
        directory.add_user(s, None, "b-sync", b_org, ["investigator"])
        key = directory.new_key_for(s, None, "b-sync", access="read")[0]
    hub.close()
    items = _file_notes(server.env)
    hub = server.env.open()
    owner = local_principal(hub, "a-owner")
    with hub.transaction() as s:
        # shared with B: two AMBER notes, one STRICT note, one RED note (to b-sync by name)
        for item_id in (items["AMBER"][0], items["AMBER"][1], items["AMBER+STRICT"][0]):
            shares.create_share(s, owner, "org", "Instance B Police", item_id=item_id)
        shares.create_share(s, owner, "user", "b-sync", item_id=items["RED"][0])
        shares.create_share(s, owner, "org", PARTNER, item_id=items["AMBER+STRICT"][1])  # not B's
        expected_items = [
            *items["CLEAR"],
            *items["GREEN"],
            items["AMBER"][0],
            items["AMBER"][1],
            items["AMBER+STRICT"][0],
            items["RED"][0],
        ]
        expected = {
            o["id"]
            for i in expected_items
            for o in item_objects(
                cases.item_json(s, cases.visible_item(s, owner, i)[0], cases.View.FULL)
            )
        }
    hub.close()

    b_store = tmp_path / "instance-b"
    init_hub(b_store, None, org="Instance B Police", country="DE")
    root = Server(f"{server.base}/taxii2/", user="b-sync", password=key).api_roots[0]
    for col in root.collections:
        capsys.readouterr()
        main_args = ["hub", "pull", "--taxii", f"{server.base}/taxii2/", "--collection", col.id, "--user", "b-sync",
                     "--key", key, "--store", str(b_store)]  # fmt: skip
        try:
            main(main_args)
        except SystemExit as exc:  # typer ends with SystemExit(0) on success
            assert exc.code == 0, f"hub pull exited {exc.code}: {capsys.readouterr().err}"
    b_hub = open_hub(b_store)
    try:
        with b_hub.transaction() as s:
            rows = list(s.scalars(select(StixObject)))
    finally:
        b_hub.close()
    got = {r.stix_id for r in rows}
    assert got == expected
    by_tlp = {r.tlp for r in rows}
    assert by_tlp == {"CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"}
    assert all(
        r.audience.startswith("org:") for r in rows if r.tlp in ("AMBER", "AMBER+STRICT", "RED")
    )
