"""Creating, migrating and opening the hub database; old API keys carried over into it."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import text

from chaintrail.api.app import ApiSettings, create_app
from chaintrail.api.keys import KeyStore
from chaintrail.cli import main
from chaintrail.errors import StoreError
from chaintrail.hub import directory as d
from chaintrail.hub.credentials import LegacyKey
from chaintrail.hub.db import Hub, alembic_config, make_engine, open_hub, resolve_url
from chaintrail.hub.models import Base
from chaintrail.hub.setup import init_hub

from .conftest import HubEnv


def test_the_migrations_build_exactly_the_models(hub_env: HubEnv) -> None:
    hub = hub_env.open()
    try:
        with hub.engine.connect() as con:
            diff = compare_metadata(
                MigrationContext.configure(con, opts={"compare_type": True}), Base.metadata
            )
        assert diff == []
    finally:
        hub.close()


def test_sqlite_is_in_wal_mode(tmp_path: Path) -> None:
    init_hub(tmp_path, None)
    hub = open_hub(tmp_path)
    try:
        with hub.engine.connect() as con:
            assert con.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        hub.close()


def test_a_missing_or_stale_database_names_the_command_to_run(
    tmp_path: Path, db_url: str | None, capsys
) -> None:
    with pytest.raises(StoreError, match="chaintrail hub init"):
        open_hub(tmp_path / "nowhere")
    store = tmp_path / "store"
    store.mkdir()
    old = Hub(store, make_engine(resolve_url(store, db_url)), resolve_url(store, db_url))
    command.upgrade(alembic_config(old.engine), "0001")  # a database made by the previous release
    old.close()
    with pytest.raises(
        StoreError,
        match="at revision 0001, this chaintrail needs 0002: run `chaintrail hub migrate`",
    ):
        open_hub(store, db_url)
    db = ["--db", db_url] if db_url else []
    with pytest.raises(SystemExit) as exc:  # every command says so in one line
        main(["hub", "case", "list", "--store", str(store), *db])
    err = capsys.readouterr().err
    assert exc.value.code == 1 and "chaintrail hub migrate" in err and "Traceback" not in err
    with pytest.raises(SystemExit) as exc:
        main(["hub", "migrate", "--store", str(store), *db])
    assert exc.value.code == 0
    assert "at revision 0002 (was 0001)" in " ".join(capsys.readouterr().err.split())
    open_hub(store, db_url).close()


def test_a_database_newer_than_the_code_says_so(hub_env: HubEnv) -> None:
    hub = hub_env.open()
    with hub.engine.begin() as con:
        con.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    hub.close()
    with pytest.raises(StoreError, match="newer than this chaintrail knows"):
        hub_env.open()


def test_init_twice_keeps_everything(hub_env: HubEnv) -> None:
    report = init_hub(hub_env.store, hub_env.url, org="ignored the second time")
    assert not report.created and report.home_org == "Home Police"


def test_every_old_api_key_still_works_after_init(tmp_path: Path, db_url: str | None) -> None:
    store = tmp_path / "store"
    keystore = KeyStore(store)
    reader, _ = keystore.create("reader", "ops desk")
    analyst, _ = keystore.create("analyst", "analyst laptop", rate_limit=5)
    revoked, rec = keystore.create("analyst", "left the unit")
    keystore.revoke(rec.id)
    legacy = [
        LegacyKey(r.id, r.role, r.name, r.sha256, r.created, r.rate_limit, r.revoked)
        for r in keystore.load()
    ]
    report = init_hub(store, db_url, legacy_keys=legacy)
    assert report.keys_imported == 3
    assert init_hub(store, db_url, legacy_keys=legacy).keys_imported == 0  # idempotent
    app = create_app(ApiSettings(store, rate_limit=0, hub_db=db_url))
    with TestClient(app) as client:
        me = client.get("/v1/hub/me", headers={"Authorization": f"Bearer {analyst}"})
        assert me.status_code == 200 and me.json()["user"] == "local" and me.json()["can_write"]
        ro = client.get("/v1/hub/me", headers={"Authorization": reader})
        assert ro.status_code == 200 and not ro.json()["can_write"]
        assert (
            client.get("/v1/hub/me", headers={"Authorization": f"Bearer {revoked}"}).status_code
            == 401
        )
        r = client.post("/v1/hub/cases", headers={"Authorization": reader}, json={"title": "x"})
        assert r.status_code == 403
    app.state.hub.close()


def test_no_auth_on_loopback_acts_as_the_local_user(hub_env: HubEnv) -> None:
    app = create_app(ApiSettings(hub_env.store, auth=False, rate_limit=0, hub_db=hub_env.url))
    with TestClient(app) as client:
        r = client.post("/v1/hub/cases", json={"title": "single analyst"})
        assert r.status_code == 201 and r.json()["owner_org"] == "Home Police"
        assert client.get(f"/v1/hub/cases/{r.json()['id']}").json()["members"] == ["local"]
    app.state.hub.close()


def test_the_api_without_a_hub_says_what_to_run(tmp_path: Path) -> None:
    app = create_app(ApiSettings(tmp_path, auth=False, rate_limit=0))
    with TestClient(app) as client:
        r = client.get("/v1/hub/cases")
    assert r.status_code == 503 and "chaintrail hub init" in r.json()["detail"]


def test_a_password_signs_in_over_http_basic(hub_env: HubEnv) -> None:
    hub = hub_env.open()
    with hub.transaction() as s:
        d.add_user(
            s,
            None,
            "ines",
            d.org_by_name(s, "Home Police"),
            ["analyst"],
            password="correct horse battery",
        )
    hub.close()
    app = create_app(ApiSettings(hub_env.store, rate_limit=0, hub_db=hub_env.url))
    with TestClient(app) as client:
        me = client.get("/v1/hub/me", auth=("ines", "correct horse battery"))
        assert me.status_code == 200 and me.json()["user"] == "ines"
        assert client.get("/v1/hub/me", auth=("ines", "wrong horse battery")).status_code == 401
        assert client.get("/v1/hub/me", auth=("nobody", "correct horse battery")).status_code == 401
    app.state.hub.close()
