"""A PostgreSQL database as one end of `watcher db copy` (see store/copy.py)."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

import psycopg

from watcher.errors import StoreError
from watcher.store.copy import INDEX, Progress, Row, Table
from watcher.store.postgres import schema
from watcher.store.postgres.connection import NUL, REPLACEMENT, connect, describe, shown
from watcher.store.postgres.fulltext import FullText
from watcher.store.postgres.sql import PostgresSql

log = logging.getLogger(__name__)


def without_nul(rows: Sequence[Row]) -> tuple[list[Row], int]:
    """The rows with each NUL in their text replaced, and how many values had one."""
    changed = 0
    clean = []
    for row in rows:
        if any(isinstance(value, str) and NUL in value for value in row):
            changed += sum(1 for value in row if isinstance(value, str) and NUL in value)
            row = tuple(
                value.replace(NUL, REPLACEMENT) if isinstance(value, str) else value
                for value in row
            )
        clean.append(row)
    return clean, changed


class PostgresEnd:
    """Reads in one repeatable-read transaction (a source) or commits each batch (a target)."""

    def __init__(self, url: str, role: str, *, readonly: bool) -> None:
        self.where = f"{role} {shown(url)}"
        try:
            self.conn = connect(url, autocommit=not readonly)
        except StoreError as exc:
            raise StoreError(f"{role} {exc}") from None

    @contextmanager
    def _translated(self, detail: str = "") -> Iterator[None]:
        """A psycopg error from the block as a one-line `StoreError` naming this end."""
        try:
            yield
        except psycopg.Error as exc:
            raise StoreError(f"{self.where}: {detail}{describe(exc)}") from None

    def applied(self) -> list[str]:
        with self._translated():
            return schema.applied(self.conn)

    def is_empty(self) -> bool:
        with self._translated():
            row = self.conn.execute(
                "SELECT COUNT(*) FROM information_schema.tables"
                " WHERE table_schema = current_schema()"
            ).fetchone()
        return row is not None and row[0] == 0

    def create(self, now: datetime) -> None:
        schema.migrate(self.conn, self.where, now)

    def snapshot(self) -> None:
        """Every read from here on sees the database as it was at the first one."""
        with self._translated():
            self.conn.rollback()  # end the transaction the version check started
            self.conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            self.conn.read_only = True

    def count(self, table: Table) -> int:
        with self._translated(f"table {table.name}: "):
            row = self.conn.execute(f"SELECT COUNT(*) FROM {table.name}".encode()).fetchone()
        count = 0 if row is None else row[0]
        assert isinstance(count, int)
        return count

    def last_key(self, table: Table) -> Row | None:
        order = ", ".join(f"{column} DESC" for column in table.key)
        sql = f"SELECT {', '.join(table.key)} FROM {table.name} ORDER BY {order} LIMIT 1"
        with self._translated(f"table {table.name}: "):
            row = self.conn.execute(sql.encode()).fetchone()
        return None if row is None else tuple(row)

    def read(self, table: Table, after: Row | None, limit: int) -> list[Row]:
        key = ", ".join(table.key)
        where = "" if after is None else f"WHERE ({key}) > ({', '.join('%s' for _ in after)})"
        sql = f"SELECT {', '.join(table.columns)} FROM {table.name} {where} ORDER BY {key} LIMIT %s"
        with self._translated(f"table {table.name}: "):
            return [tuple(row) for row in self.conn.execute(sql.encode(), [*(after or ()), limit])]

    def write(self, table: Table, rows: Sequence[Row]) -> None:
        marks = ", ".join("%s" for _ in table.columns)
        sql = (
            f"INSERT INTO {table.name} ({', '.join(table.columns)}) VALUES ({marks})"
            " ON CONFLICT DO NOTHING"
        )
        clean, changed = without_nul(rows)
        if changed:
            log.warning(
                "%s: table %s: %d values in the rows from key %s held NUL characters,"
                " written as U+FFFD",
                self.where,
                table.name,
                changed,
                table.key_of(rows[0]),
            )
        with (
            self._translated(f"table {table.name}, rows from key {table.key_of(rows[0])}: "),
            self.conn.transaction(),
            self.conn.cursor() as cursor,
        ):
            cursor.executemany(sql.encode(), clean)

    def finish(self, tables: Sequence[Table], progress: Progress) -> None:
        """Move each id sequence past the copied ids, so new rows get fresh ones; index
        the copied articles' words for search (`article_words`)."""
        with self._translated("moving the id sequences on: "):
            identities = self.conn.execute(
                "SELECT table_name, column_name FROM information_schema.columns"
                " WHERE table_schema = current_schema() AND is_identity = 'YES'"
            ).fetchall()
            for table, column in identities:
                self.conn.execute(
                    f"SELECT setval(pg_get_serial_sequence(%s, %s), COALESCE(MAX({column}), 1),"
                    f" MAX({column}) IS NOT NULL) FROM {table}".encode(),
                    [table, column],
                )
        with self._translated(f"{INDEX}: "):
            FullText(PostgresSql(self.conn)).rebuild(
                lambda done, total: progress(INDEX, done, total)
            )

    def close(self) -> None:
        self.conn.close()
