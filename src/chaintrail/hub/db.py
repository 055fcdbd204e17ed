"""Opening the hub database: where it is, its engine, its schema version, its transactions.

SQLite at ``<store>/hub.sqlite`` is the default (WAL mode, every transaction ``BEGIN IMMEDIATE``
so two writers queue instead of failing mid-way); a PostgreSQL URL (``--db`` or
``$CHAINTRAIL_HUB_DB``, ``postgresql+psycopg://...``) is used for a real deployment. A database
whose Alembic revision is not the one this chaintrail ships is refused with the command to run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from chaintrail.errors import StoreError, UsageError

DB_ENV = "CHAINTRAIL_HUB_DB"
SQLITE_FILE = "hub.sqlite"
FILES_DIR = "hub-files"


def resolve_url(store_dir: Path, url: str | None = None) -> str:
    """The database URL: ``url`` if given, else ``$CHAINTRAIL_HUB_DB``, else SQLite in the store."""
    chosen = url or os.environ.get(DB_ENV) or ""
    if not chosen:
        return f"sqlite:///{Path(store_dir).resolve() / SQLITE_FILE}"
    if chosen.startswith(("postgresql://", "postgres://")):
        chosen = "postgresql+psycopg://" + chosen.split("://", 1)[1]
    if not chosen.startswith(("sqlite:", "postgresql+psycopg:")):
        raise UsageError(
            f"hub database URL {redact_url(chosen)!r}: expected sqlite:///PATH or "
            "postgresql+psycopg://USER@HOST/DB"
        )
    return chosen


def redact_url(url: str) -> str:
    """The URL with any password replaced by ``***`` (for messages and logs)."""
    scheme, sep, rest = url.partition("://")
    cred, at, host = rest.rpartition("@")
    if not at or ":" not in cred:
        return url
    return f"{scheme}{sep}{cred.split(':', 1)[0]}:***@{host}"


def _sqlite_engine(url: str) -> Engine:
    path = Path(url.removeprefix("sqlite:///"))
    if not path.parent.is_dir():
        raise StoreError(f"hub database {path}: folder {path.parent} does not exist")
    engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_con: Any, _: Any) -> None:
        dbapi_con.isolation_level = None  # we issue BEGIN ourselves (below)
        cur = dbapi_con.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a killed process loses nothing
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(con: Any) -> None:
        con.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def make_engine(url: str) -> Engine:
    """An engine for a resolved URL (SQLite pragmas applied on every connection)."""
    if url.startswith("sqlite:"):
        return _sqlite_engine(url)
    try:
        return create_engine(url, pool_size=8, max_overflow=8, pool_recycle=3600)
    except (ImportError, ModuleNotFoundError) as exc:
        raise UsageError(
            "the hub on PostgreSQL needs psycopg: pip install 'chaintrail[postgres]'"
        ) from exc


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration over the migrations shipped in the package."""
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("chaintrail.hub") / "migrations"))
    cfg.attributes["engine"] = engine
    return cfg


def head_revision(engine: Engine) -> str:
    """The newest migration this chaintrail ships."""
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None: never initialised)."""
    try:
        with engine.connect() as con:
            return MigrationContext.configure(con).get_current_revision()
    except SQLAlchemyError as exc:
        raise StoreError(
            f"hub database {redact_url(str(engine.url))}: cannot open ({exc.__class__.__name__}: {str(exc).splitlines()[0]})"
        ) from exc


def _known(engine: Engine, revision: str) -> bool:
    scripts = ScriptDirectory.from_config(alembic_config(engine))
    return any(r.revision == revision for r in scripts.walk_revisions())


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Migrate to the newest revision; returns (revision before, revision after)."""
    before = current_revision(engine)
    try:
        command.upgrade(alembic_config(engine), "head")
    except SQLAlchemyError as exc:
        raise StoreError(
            f"hub database {redact_url(str(engine.url))}: migration failed ({str(exc).splitlines()[0]})"
        ) from exc
    return before, head_revision(engine)


@dataclass
class Hub:
    """An open hub: the database engine, the store folder its files live in, a session maker."""

    store_dir: Path
    engine: Engine
    url: str

    def __post_init__(self) -> None:
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def files_dir(self) -> Path:
        """Where attachments are kept, by SHA-256."""
        return self.store_dir / FILES_DIR

    @property
    def is_postgres(self) -> bool:
        """True on PostgreSQL (row locks on the audit head), False on SQLite."""
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back on any error."""
        with self.sessions() as session, session.begin():
            yield session

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()


def open_hub(store_dir: Path, url: str | None = None, *, check: bool = True) -> Hub:
    """Open the hub of a store; StoreError naming the command to run if it is missing or stale."""
    resolved = resolve_url(store_dir, url)
    if (
        resolved.startswith("sqlite:")
        and check
        and not Path(resolved.removeprefix("sqlite:///")).exists()
    ):
        raise StoreError(
            f"no hub database at {resolved.removeprefix('sqlite:///')}: run "
            f"`chaintrail hub init --store {store_dir}`"
        )
    engine = make_engine(resolved)
    hub = Hub(Path(store_dir), engine, resolved)
    if check:
        current, head = current_revision(engine), head_revision(engine)
        if current is None:
            hub.close()
            raise StoreError(
                f"hub database {redact_url(resolved)} is not initialised: run `chaintrail hub init`"
            )
        if current != head and not _known(engine, current):
            hub.close()
            raise StoreError(
                f"hub database {redact_url(resolved)} is at revision {current}, newer than this "
                f"chaintrail knows ({head}): upgrade chaintrail"
            )
        if current != head:
            hub.close()
            raise StoreError(
                f"hub database {redact_url(resolved)} is at revision {current}, this chaintrail "
                f"needs {head}: run `chaintrail hub migrate`"
            )
    return hub


def insert_ignoring_duplicates(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """INSERT rows, skipping those whose key exists (safe when two writers add the same row)."""
    if not rows:
        return
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(table).values(rows).on_conflict_do_nothing())
