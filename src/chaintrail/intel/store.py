"""``<store>/intel.duckdb``: tags, packs, actors, sanctions list versions, off-chain entities, links.

:class:`IntelStore` is the only code that speaks SQL to the intel database. Writes go through
:meth:`IntelStore.transaction` so an import either lands completely or not at all; bulk rows
arrive as Arrow tables (one ``INSERT ... SELECT`` per table, never row-by-row).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from chaintrail.errors import StoreError
from chaintrail.intel.database import IntelDatabase, intel_path
from chaintrail.intel.model import TAG_COLUMNS

__all__ = ["IntelStore", "intel_path"]


class IntelStore:
    """A connection to one intel database, leased from the process's :class:`IntelDatabase`;
    use as a context manager (the lease ends with it)."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        path: Path,
        read_only: bool,
        lease: ExitStack | None = None,
    ) -> None:
        self.con = con
        self.path = path
        self.read_only = read_only
        self._lease = lease

    @classmethod
    def open(cls, store_dir: str | Path, *, read_only: bool = False) -> IntelStore:
        """Open (creating if needed and writable) ``<store_dir>/intel.duckdb``.

        Read-only opening of a store with no intel yet gives an empty in-memory database, so
        readers never fail just because nothing was imported. A writable store has the file to
        itself until closed (other writers and readers of this process wait; see
        :mod:`chaintrail.intel.database`).
        """
        db = IntelDatabase.of(store_dir)
        if not read_only:
            Path(store_dir).mkdir(parents=True, exist_ok=True)
        lease = ExitStack()
        con = lease.enter_context(db.reading() if read_only else db.writing())
        return cls(con, db.path, read_only, lease)

    def close(self) -> None:
        """End the lease on the connection (idempotent)."""
        lease, self._lease = self._lease, None
        if lease is not None:
            lease.close()

    def __enter__(self) -> IntelStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[IntelStore]:
        """All writes inside commit together or roll back together."""
        if self.read_only:
            raise StoreError(f"{self.path}: opened read-only")
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        else:
            try:
                self.con.execute("COMMIT")
            except duckdb.Error as exc:
                raise StoreError(f"{self.path}: commit failed: {exc}") from exc

    # ------------------------------------------------------------------ low level

    def insert_arrow(self, table: str, data: pa.Table) -> None:
        """Append an Arrow table to ``table`` (columns in table order) in one statement."""
        name = f"_arrow_{table}"
        self.con.register(name, data)
        try:
            cols = ", ".join(data.column_names)
            self.con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {name}")
        finally:
            self.con.unregister(name)

    def query(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        """Rows of a query as dicts."""
        cur = self.con.execute(sql, params or [])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    # ------------------------------------------------------------------ packs and tags

    def replace_pack(
        self, meta: dict[str, Any], tags: pa.Table | None = None, actors: pa.Table | None = None
    ) -> None:
        """Replace everything an earlier import of ``meta['pack_id']`` brought (idempotent)."""
        pid = meta["pack_id"]
        self.con.execute("DELETE FROM packs WHERE pack_id = ?", [pid])
        self.con.execute("DELETE FROM tags WHERE pack_id = ?", [pid])
        if actors is not None:
            self.con.execute("DELETE FROM actors WHERE pack_id = ?", [pid])
            self.con.execute(
                "DELETE FROM actors WHERE actor_id IN (SELECT unnest(?))",
                [actors.column("actor_id").to_pylist()],
            )
            self.insert_arrow("actors", actors)
        if tags is not None and tags.num_rows:
            self.insert_arrow("tags", tags)
        row = {
            k: meta.get(k)
            for k in (
                "pack_id",
                "kind",
                "title",
                "creator",
                "description",
                "path",
                "n_items",
                "n_warnings",
            )
        }
        row["imported_at"] = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        self.con.execute(
            "INSERT INTO packs (pack_id, kind, title, creator, description, path, n_items, n_warnings, imported_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            list(row.values()),
        )

    def tags_for(
        self, subject_keys: Sequence[str], subject_type: str | None = None
    ) -> list[dict[str, Any]]:
        """Every tag whose canonical subject is in ``subject_keys``, best confidence first."""
        sql = f"SELECT {', '.join(TAG_COLUMNS)} FROM tags WHERE subject_key IN (SELECT unnest(?))"
        params: list[Any] = [list(subject_keys)]
        if subject_type:
            sql += " AND subject_type = ?"
            params.append(subject_type)
        sql += " ORDER BY subject_key, confidence_level DESC, lastmod DESC NULLS LAST, label"
        return self.query(sql, params)

    def packs(self) -> list[dict[str, Any]]:
        """Imported packs and lists with their counts, newest first."""
        return self.query("SELECT * FROM packs ORDER BY imported_at DESC, pack_id")

    def counts(self) -> dict[str, int]:
        """Row counts of the main tables."""
        out = {}
        for t in (
            "packs",
            "tags",
            "actors",
            "list_versions",
            "list_entries",
            "entities",
            "links",
            "transactions",
        ):
            out[t] = int(self.con.execute(f"SELECT count(*) FROM {t}").fetchone()[0])  # type: ignore[index]
        return out

    def actor(self, actor_id: str) -> dict[str, Any] | None:
        """One actor by id (or alias), or None."""
        rows = self.query(
            "SELECT * FROM actors WHERE actor_id = ? OR list_contains(aliases, ?) LIMIT 1",
            [actor_id, actor_id],
        )
        return rows[0] if rows else None

    # ------------------------------------------------------------------ sanctions lists

    def replace_list_version(
        self, list_id: str, version: dt.date, path: str, entries: pa.Table
    ) -> None:
        """Store one list version (replacing the same list+version if imported before)."""
        self.con.execute(
            "DELETE FROM list_versions WHERE list_id = ? AND version = ?", [list_id, version]
        )
        self.con.execute(
            "DELETE FROM list_entries WHERE list_id = ? AND version = ?", [list_id, version]
        )
        self.insert_arrow("list_entries", entries)
        self.con.execute(
            "INSERT INTO list_versions VALUES (?, ?, ?, ?, ?)",
            [
                list_id,
                version,
                path,
                dt.datetime.now(dt.UTC).replace(tzinfo=None),
                entries.num_rows,
            ],
        )

    def latest_list_version(self, list_id: str) -> dt.date | None:
        """The newest version date of a list, or None."""
        row = self.con.execute(
            "SELECT max(version) FROM list_versions WHERE list_id = ?", [list_id]
        ).fetchone()
        return row[0] if row else None

    def list_hits(self, address_key: str, on: dt.date) -> list[dict[str, Any]]:
        """List entries saying ``address_key`` was listed on day ``on``.

        An entry counts if it is in the newest version of its list dated on or before ``on``,
        or if its ``listed_since`` date is on or before ``on`` and its version after it (the
        address was on the list continuously from ``listed_since`` to that version).
        """
        return self.query(
            """
            WITH cur AS (
              SELECT list_id, max(version) AS version FROM list_versions WHERE version <= ? GROUP BY list_id)
            SELECT e.list_id, e.version, e.currency, e.address, e.label, e.category, e.source,
                   e.confidence, e.listed_since
            FROM list_entries e LEFT JOIN cur ON e.list_id = cur.list_id AND e.version = cur.version
            WHERE e.address_key = ? AND (cur.version IS NOT NULL
                  OR (e.listed_since IS NOT NULL AND e.listed_since <= ? AND e.version >= ?))
            ORDER BY e.list_id, e.version
            """,
            [on, address_key, on, on],
        )

    def list_versions(self) -> list[dict[str, Any]]:
        """Every stored list version, oldest first."""
        return self.query("SELECT * FROM list_versions ORDER BY list_id, version")
