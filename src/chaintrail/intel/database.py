"""The one owner, per process, of the connection to a store's intel database file.

DuckDB lets a process hold a database file in one configuration only (a read-only and a
read-write connection at once fail with "Can't open a connection to same database file with a
different configuration"), and one connection object must never run two statements at once.
So every intel access of a process goes through the single :class:`IntelDatabase` of that
file:

* readers share one read-only connection, each with a cursor of its own;
* a writer has the file alone: it waits until the readers are done, opens it read-write,
  and new readers wait until it has committed (writers queue behind each other, so writes
  are serialised, and waiting writers go before new readers);
* the connection is closed when its last user leaves, so other processes (``chaintrail tags
  import`` while a server runs, a second server worker) can open the file; when another
  process holds it, opening is retried for up to :data:`BUSY_SECONDS`;
* the database (and its write-ahead log) holds intelligence such as TLP:RED off-chain links,
  so it is created and written owner-only (0600).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from chaintrail.errors import StoreError

INTEL_DB = "intel.duckdb"
BUSY_SECONDS = 10.0  # how long to wait for another process that holds the file
SCHEMA_VERSION = 1

_DDL = """
CREATE TABLE IF NOT EXISTS meta (key VARCHAR, value VARCHAR);
CREATE TABLE IF NOT EXISTS packs (
  pack_id VARCHAR, kind VARCHAR, title VARCHAR, creator VARCHAR, description VARCHAR,
  path VARCHAR, imported_at TIMESTAMP, n_items INTEGER, n_warnings INTEGER);
CREATE TABLE IF NOT EXISTS tags (
  pack_id VARCHAR, subject_type VARCHAR, subject VARCHAR, subject_key VARCHAR, currency VARCHAR,
  network VARCHAR, label VARCHAR, category VARCHAR, abuse VARCHAR, concepts VARCHAR[],
  actor VARCHAR, confidence VARCHAR, confidence_level SMALLINT, source VARCHAR, creator VARCHAR,
  lastmod DATE, tlp VARCHAR, provenance VARCHAR, is_cluster_definer BOOLEAN, tag_type VARCHAR,
  context VARCHAR, line INTEGER);
CREATE TABLE IF NOT EXISTS actors (
  actor_id VARCHAR, pack_id VARCHAR, label VARCHAR, uri VARCHAR, lastmod DATE,
  categories VARCHAR[], jurisdictions VARCHAR[], aliases VARCHAR[], context VARCHAR);
CREATE TABLE IF NOT EXISTS list_versions (
  list_id VARCHAR, version DATE, path VARCHAR, imported_at TIMESTAMP, n_entries INTEGER);
CREATE TABLE IF NOT EXISTS list_entries (
  list_id VARCHAR, version DATE, currency VARCHAR, address VARCHAR, address_key VARCHAR,
  label VARCHAR, category VARCHAR, source VARCHAR, confidence VARCHAR, listed_since DATE);
CREATE TABLE IF NOT EXISTS entities (
  entity_id VARCHAR, kind VARCHAR, value VARCHAR, name VARCHAR, attrs VARCHAR, tlp VARCHAR,
  created_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS links (
  link_id VARCHAR, src VARCHAR, dst VARCHAR, relation VARCHAR, evidence VARCHAR,
  observed_at TIMESTAMP, valid_from TIMESTAMP, valid_to TIMESTAMP, confidence SMALLINT,
  tlp VARCHAR, note VARCHAR, created_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS transactions (
  tx_hash VARCHAR, currency VARCHAR, execution_time TIMESTAMP, fee BIGINT, inputs VARCHAR,
  outputs VARCHAR, source VARCHAR);
"""


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the intel tables that do not exist yet."""
    con.execute(_DDL)

_registry: dict[Path, IntelDatabase] = {}
_registry_lock = threading.Lock()
_umask_lock = threading.Lock()
_umask_users = 0
_umask_saved = 0


def intel_path(store_dir: str | Path) -> Path:
    """Path of the intel database inside a store directory."""
    return Path(store_dir) / INTEL_DB


@contextmanager
def private_files() -> Iterator[None]:
    """Files created meanwhile (by this process) are owner-only; nests across threads."""
    global _umask_users, _umask_saved
    with _umask_lock:
        if _umask_users == 0:
            _umask_saved = os.umask(0o077)
        _umask_users += 1
    try:
        yield
    finally:
        with _umask_lock:
            _umask_users -= 1
            if _umask_users == 0:
                os.umask(_umask_saved)


def make_private(path: Path) -> None:
    """chmod 0600 ``path`` and its write-ahead log, where they exist and are ours."""
    for p in (path, path.with_name(path.name + ".wal")):
        try:
            if p.stat().st_mode & 0o077:
                p.chmod(0o600)
        except OSError:
            pass


def _connect(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    """Open the file, retrying while another process holds it (StoreError after BUSY_SECONDS)."""
    deadline = time.monotonic() + BUSY_SECONDS
    pause = 0.01
    while True:
        try:
            if read_only:
                return duckdb.connect(str(path), read_only=True)
            with private_files():
                con = duckdb.connect(str(path))
            make_private(path)
            return con
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise StoreError(
                    f"{path}: intel database busy or unreadable ({exc}); is another chaintrail "
                    "process writing it? retry"
                ) from exc
        except (duckdb.Error, OSError) as exc:
            raise StoreError(f"{path}: cannot open intel database: {exc}") from exc
        time.sleep(pause)
        pause = min(pause * 2, 0.2)


class IntelDatabase:
    """The single connection of this process to one intel database file (see module doc)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._cond = threading.Condition()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._readers = 0
        self._writer: int | None = None  # thread id of the writer
        self._writer_depth = 0
        self._writers_waiting = 0
        self._local = threading.local()  # this thread's read depth
        self.writes = 0  # commits through this process (a change counter for caches)

    @classmethod
    def of(cls, store_dir: str | Path) -> IntelDatabase:
        """The owner of ``<store_dir>/intel.duckdb`` in this process."""
        path = intel_path(store_dir).resolve()
        with _registry_lock:
            db = _registry.get(path)
            if db is None:
                db = _registry[path] = cls(path)
            return db

    @contextmanager
    def reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor to read with (on an empty in-memory database if the file does not exist).

        Re-entrant: a thread already reading does not queue behind a waiting writer (which
        waits for that very read to end)."""
        me = threading.get_ident()
        depth = getattr(self._local, "reads", 0)
        counted = False
        cur: duckdb.DuckDBPyConnection | None = None
        with self._cond:
            if self._writer == me:  # the writer reading its own writes
                assert self._con is not None
                cur = self._con.cursor()
            else:
                while depth == 0 and (self._writer is not None or self._writers_waiting):
                    self._cond.wait()
                if self._con is None and self.path.exists():
                    self._con = _connect(self.path, read_only=True)
                if self._con is not None:
                    cur = self._con.cursor()
                    self._readers += 1
                    counted = True
        if cur is None:  # nothing imported yet: an empty database with the tables
            con = duckdb.connect(":memory:")
            create_tables(con)
            try:
                yield con
            finally:
                con.close()
            return
        self._local.reads = depth + 1
        try:
            yield cur
        finally:
            self._local.reads = depth
            cur.close()
            if counted:
                with self._cond:
                    self._readers -= 1
                    self._release_if_idle()

    @contextmanager
    def writing(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The read-write connection, exclusively (re-entrant in the writing thread)."""
        me = threading.get_ident()
        if getattr(self._local, "reads", 0) and self._writer != me:
            raise StoreError(f"{self.path}: a write was started inside a read of the same thread")
        with self._cond:
            if self._writer == me:
                self._writer_depth += 1
            else:
                self._writers_waiting += 1
                try:
                    while self._writer is not None or self._readers:
                        self._cond.wait()
                finally:
                    self._writers_waiting -= 1
                self._writer, self._writer_depth = me, 1
                try:
                    if self._con is not None:  # the idle read-only connection
                        self._con.close()
                        self._con = None
                    self._con = _connect(self.path, read_only=False)
                    with private_files():
                        create_tables(self._con)
                except BaseException:
                    if self._con is not None:
                        self._con.close()
                        self._con = None
                    self._writer = None
                    self._cond.notify_all()
                    raise
        con = self._con
        assert con is not None
        try:
            with private_files():
                yield con
        finally:
            with self._cond:
                self._writer_depth -= 1
                if self._writer_depth == 0:
                    self.writes += 1
                    self._writer = None
                    con.close()  # checkpoints; lets other processes in
                    self._con = None
                    self._cond.notify_all()

    def _release_if_idle(self) -> None:
        if self._readers == 0 and self._writer is None and self._con is not None:
            self._con.close()
            self._con = None
        self._cond.notify_all()
