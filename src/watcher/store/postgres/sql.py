"""A PostgreSQL connection as the store's parts use it (store/sql.py's `Sql`).

The parts write SQL in SQLite's style; `PostgresSql` rewrites each statement
for psycopg once (`?` as `%s`, `:name` as `%(name)s`, a literal `%` doubled)
and keeps the rewrite. The rest is where PostgreSQL differs: several watchers
on several hosts share the database, so claims skip rows another is claiming
and locks are advisory locks every connection sees.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import psycopg

from watcher.store.sql import Params

Connection = psycopg.Connection[tuple[Any, ...]]
Cursor = psycopg.Cursor[tuple[Any, ...]]

__all__ = ["Connection", "PostgresSql", "to_psycopg"]

# A quoted literal (kept, its % doubled), a %, a ?, or a :name (not a ::cast).
_PLACE = re.compile(r"'(?:[^']|'')*'|%|\?|(?<!:):([A-Za-z_]\w*)")
_KEPT = 2000  # rewritten statements kept; IN lists of every length make new ones


def _place(found: re.Match[str]) -> str:
    text = found.group(0)
    if text == "?":
        return "%s"
    if found.group(1) is not None:
        return f"%({found.group(1)})s"
    return text.replace("%", "%%")


def to_psycopg(sql: str) -> str:
    """A statement written with SQLite's placeholders, as psycopg takes it."""
    return _PLACE.sub(_place, sql)


class PostgresSql:
    """One psycopg connection (autocommit: each part opens its transactions)."""

    skip_locked = " FOR UPDATE SKIP LOCKED"
    refused: tuple[type[Exception], ...] = (psycopg.IntegrityError, psycopg.DataError, ValueError)

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._rewritten: dict[str, str] = {}

    def _psycopg(self, sql: str) -> str:
        rewritten = self._rewritten.get(sql)
        if rewritten is None:
            if len(self._rewritten) >= _KEPT:
                self._rewritten.clear()
            rewritten = self._rewritten[sql] = to_psycopg(sql)
        return rewritten

    def execute(self, sql: str, params: Params = ()) -> Cursor:
        return self.conn.execute(self._psycopg(sql), params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.conn.cursor().executemany(self._psycopg(sql), rows)

    def writing(self) -> AbstractContextManager[psycopg.Transaction]:
        return self.conn.transaction()

    def savepoint(self) -> AbstractContextManager[psycopg.Transaction]:
        return self.conn.transaction()  # inside another: a savepoint

    def insert(self, sql: str, params: Params) -> int | None:
        row = self.conn.execute(self._psycopg(sql + " RETURNING id"), params).fetchone()
        return None if row is None else int(row[0])

    def json_array(self, expression: str) -> str:
        return f"json_agg({expression})::text"

    def indexed_by(self, index: str) -> str:
        return ""  # the planner chooses

    def hold(self, key: int, name: str = "") -> None:
        """Wait for the advisory lock `key` (with `name`: the pair of `key` and its hash),
        held to the end of the transaction."""
        if name:
            self.conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [key, name])
        else:
            self.conn.execute("SELECT pg_advisory_xact_lock(%s)", [key])

    @contextmanager
    def exclusive(self, key: int) -> Iterator[bool]:
        row = self.conn.execute("SELECT pg_try_advisory_lock(%s)", [key]).fetchone()
        got = bool(row and row[0])
        try:
            yield got
        finally:
            if got:
                self.conn.execute("SELECT pg_advisory_unlock(%s)", [key])
