"""Copying a database between SQLite and PostgreSQL, either way (`watcher db copy`).

Every table this watcher's schema has is copied, parents before children, in
batches read in key order (keyset pagination: `WHERE key > last ORDER BY key`)
from one snapshot of the source, each batch committed on its own in the
target. An interrupted copy, run again, starts each table after the last key
the target holds, so nothing is copied twice; ids are kept. Then the target
is made usable: PostgreSQL's id sequences move past the copied ids, and an
SQLite target gets its full-text index rebuilt from the articles (the index
is never copied: PostgreSQL has none of SQLite's). Last, each table's rows
are counted on both sides.

Both databases must be at this watcher's schema version; an empty target is
brought to it first. Keys compare the same way on both backends because every
PostgreSQL text column sorts by bytes, as SQLite does (store/postgres/schema.py).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from sqlite_utils import Database

from watcher.errors import ArgumentError, StoreError
from watcher.store.backends import is_url
from watcher.store.fulltext import FullText
from watcher.store.schema import migrations, writing
from watcher.store.sql import SqliteSql

BATCH = 1000  # rows per batch: a few MB of article text, one commit each
BUSY = 10.0  # seconds an SQLite end waits for another process's write lock
INDEX = "search index"  # the name progress reports give the rebuild of SQLite's index

Row = tuple[object, ...]
# progress(table, rows done, rows in all): after each batch, and once as each table starts.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Table:
    """A table to copy: its columns, and the key its rows are copied in the order of."""

    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]

    def key_of(self, row: Row) -> Row:
        return tuple(row[self.columns.index(column)] for column in self.key)


@dataclass(frozen=True)
class Count:
    """A table's rows, counted in the source and in the target after the copy."""

    table: str
    source: int
    target: int


class End(Protocol):
    """One end of a copy: a database of either kind, at one place."""

    where: str

    def applied(self) -> list[str]:
        """The names of the schema migrations applied to this database."""

    def is_empty(self) -> bool:
        """Whether the database has no tables at all (a new one)."""

    def create(self, now: datetime) -> None:
        """Bring an empty database to this watcher's schema."""

    def snapshot(self) -> None:
        """Read everything from here on from one consistent state (a source's)."""

    def count(self, table: Table) -> int: ...

    def last_key(self, table: Table) -> Row | None:
        """The key of the table's last row in key order, None when it is empty."""

    def read(self, table: Table, after: Row | None, limit: int) -> list[Row]:
        """Up to `limit` rows whose keys follow `after` (all, for None), in key order."""

    def write(self, table: Table, rows: Sequence[Row]) -> None:
        """Insert rows, skipping any already there, and commit."""

    def finish(self, tables: Sequence[Table], progress: Progress) -> None:
        """Make the copied rows usable: sequences moved on, derived indexes rebuilt."""

    def close(self) -> None: ...


def known_version() -> list[str]:
    """The names of this watcher's migrations: its schema version, on either backend."""
    return [migration.name for migration in migrations._migrations]


def plan() -> list[Table]:
    """The tables to copy, parents before children, as this watcher's SQLite schema has them.

    Left out: SQLite's own tables, the record of migrations (each backend keeps
    its own) and the full-text index (virtual tables and their shadow tables).
    """
    db = Database(memory=True)
    migrations.apply(db)
    rows = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall()
    virtual = [name for name, sql in rows if sql.upper().startswith("CREATE VIRTUAL TABLE")]
    names = [
        name
        for name, _ in rows
        if not name.startswith(("sqlite_", "_sqlite_"))
        and not any(name == table or name.startswith(f"{table}_") for table in virtual)
    ]
    tables: dict[str, Table] = {}
    parents: dict[str, set[str]] = {}
    for name in names:
        info = db.execute(f"PRAGMA table_info({name})").fetchall()
        columns = tuple(column for _, column, *_ in info)
        keyed = sorted((pk, column) for _, column, _, _, _, pk in info if pk)
        if keyed:
            key = tuple(column for _, column in keyed)
        elif all(notnull for _, _, _, notnull, _, _ in info):
            key = columns  # no primary key (article_bands): the whole row, never null
        else:
            raise StoreError(f"table {name} has no key to copy its rows in the order of")
        tables[name] = Table(name, columns, key)
        references = db.execute(f"PRAGMA foreign_key_list({name})").fetchall()
        parents[name] = {row[2] for row in references} - {name}
    db.close()
    ordered: list[Table] = []
    while len(ordered) < len(tables):
        done = {table.name for table in ordered}
        ready = [name for name in names if name not in done and parents[name] <= done]
        if not ready:
            raise StoreError(f"the tables {sorted(set(names) - done)} refer to each other")
        ordered.append(tables[ready[0]])
    return ordered


def open_end(text: str, role: str, *, readonly: bool = False) -> End:
    """The database `text` names: a `postgresql://` URL or an SQLite file's path."""
    if is_url(text):
        from watcher.store.postgres.copy import PostgresEnd

        return PostgresEnd(text, role, readonly=readonly)
    if "://" in text:
        scheme = text.partition("://")[0]
        raise ArgumentError(
            f"{role} {text!r}: unknown scheme {scheme!r}: give an SQLite file's path or a"
            " postgresql:// URL"
        )
    return SqliteEnd(Path(text), role, readonly=readonly)


def copy_database(
    source: str,
    target: str,
    now: datetime,
    *,
    batch: int = BATCH,
    progress: Progress | None = None,
) -> list[Count]:
    """Copy every table from `source` to `target` (paths or URLs); the rows counted on each."""
    report = progress or (lambda table, done, total: None)
    if _same(source, target):
        raise ArgumentError(f"source and target are the same database: {source}")
    reader = open_end(source, "source", readonly=True)
    try:
        _check_source(reader)
        writer = open_end(target, "target")  # opened (an SQLite file made) once SOURCE is fine
        try:
            _check_target(writer, now)
            reader.snapshot()
            tables = plan()
            for table in tables:
                _copy_table(reader, writer, table, batch, report)
            writer.finish(tables, report)
            return [Count(table.name, reader.count(table), writer.count(table)) for table in tables]
        finally:
            writer.close()
    finally:
        reader.close()


def _same(source: str, target: str) -> bool:
    if is_url(source) or is_url(target):
        return source == target
    return Path(source).resolve() == Path(target).resolve()


def _check_source(reader: End) -> None:
    """The source at this watcher's schema version."""
    known = known_version()
    version = reader.applied()
    if version != known:
        newer = set(version) - set(known)
        raise StoreError(
            f"{reader.where}: {_version(version)}, not this watcher's {_version(known)}: "
            + (
                "copy it with the newer watcher that wrote it"
                if newer
                else "open it with this watcher first (any command upgrades it)"
            )
        )


def _check_target(writer: End, now: datetime) -> None:
    """The target at this watcher's schema version; an empty one is brought to it."""
    known = known_version()
    version = writer.applied()
    if not version and writer.is_empty():
        writer.create(now)
    elif version != known:
        raise StoreError(
            f"{writer.where}: {_version(version)}, not this watcher's {_version(known)}:"
            " copy into a new, empty database"
        )


def _version(names: list[str]) -> str:
    if not names:
        return "no watcher schema"
    return f"schema version {len(names)} ({names[-1]})"


def _copy_table(reader: End, writer: End, table: Table, batch: int, report: Progress) -> None:
    total = reader.count(table)
    done = writer.count(table)
    last = writer.last_key(table)
    report(table.name, done, total)
    while rows := reader.read(table, last, batch):
        writer.write(table, rows)
        done += len(rows)
        last = table.key_of(rows[-1])
        report(table.name, done, total)


class SqliteEnd:
    """An SQLite database file as one end of a copy."""

    def __init__(self, path: Path, role: str, *, readonly: bool) -> None:
        self.where = f"{role} {path}"
        if path.is_dir():
            raise ArgumentError(f"{self.where}: is a folder, not a database file")
        if readonly and not path.is_file():
            raise ArgumentError(f"{self.where}: no such file")
        if not readonly and not path.parent.is_dir():
            raise ArgumentError(f"{self.where}: no such folder {path.parent}")
        with self._translated():
            if readonly:
                name, uri = f"{path.resolve().as_uri()}?mode=ro", True
            else:
                name, uri = str(path), False
            self.conn = sqlite3.connect(name, uri=uri, isolation_level=None, timeout=BUSY)
            if not readonly:
                self.conn.execute("PRAGMA journal_mode=WAL")
                self.conn.execute("PRAGMA foreign_keys=ON")
            self.db = Database(self.conn)
            self.conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()

    @contextmanager
    def _translated(self, detail: str = "") -> Iterator[None]:
        """An SQLite error from the block as a one-line `StoreError` naming this end."""
        try:
            yield
        except sqlite3.Error as exc:
            raise StoreError(f"{self.where}: {detail}{exc}") from None

    def applied(self) -> list[str]:
        with self._translated():
            return [migration.name for migration in migrations.applied(self.db)]

    def is_empty(self) -> bool:
        with self._translated():
            row = self.conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        return int(row[0]) == 0

    def create(self, now: datetime) -> None:
        with self._translated():
            migrations.apply(self.db)

    def snapshot(self) -> None:
        with self._translated():
            self.conn.execute("BEGIN")  # WAL: a reader sees the database as of its first read

    def count(self, table: Table) -> int:
        with self._translated(f"table {table.name}: "):
            return int(self.conn.execute(f"SELECT COUNT(*) FROM {table.name}").fetchone()[0])

    def last_key(self, table: Table) -> Row | None:
        order = ", ".join(f"{column} DESC" for column in table.key)
        sql = f"SELECT {', '.join(table.key)} FROM {table.name} ORDER BY {order} LIMIT 1"
        with self._translated(f"table {table.name}: "):
            row = self.conn.execute(sql).fetchone()
        return None if row is None else tuple(row)

    def read(self, table: Table, after: Row | None, limit: int) -> list[Row]:
        key = ", ".join(table.key)
        where = "" if after is None else f"WHERE ({key}) > ({', '.join('?' for _ in after)})"
        sql = f"SELECT {', '.join(table.columns)} FROM {table.name} {where} ORDER BY {key} LIMIT ?"
        with self._translated(f"table {table.name}: "):
            return [tuple(row) for row in self.conn.execute(sql, [*(after or ()), limit])]

    def write(self, table: Table, rows: Sequence[Row]) -> None:
        marks = ", ".join("?" for _ in table.columns)
        sql = (
            f"INSERT INTO {table.name} ({', '.join(table.columns)}) VALUES ({marks})"
            " ON CONFLICT DO NOTHING"
        )
        detail = f"table {table.name}, rows from key {table.key_of(rows[0])}: "
        with self._translated(detail), writing(self.db):
            self.conn.executemany(sql, rows)

    def finish(self, tables: Sequence[Table], progress: Progress) -> None:
        """Rebuild the full-text index from the copied articles."""
        with self._translated(f"{INDEX}: "):
            FullText(SqliteSql(self.db)).rebuild(lambda done, total: progress(INDEX, done, total))

    def close(self) -> None:
        self.conn.close()
