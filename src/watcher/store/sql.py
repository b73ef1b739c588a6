"""The connection every part of the store talks through, one for each backend (issue 20).

Each part (`feeds.py`, `articles.py`, ...) writes its SQL once, in SQLite's
style (`?` and `:name` placeholders), and runs it through an `Sql`:
`SqliteSql` here hands it to sqlite3 as it is written; `PostgresSql`
(postgres/sql.py) rewrites the placeholders for psycopg, once per statement.
Where the two databases really differ (a JSON array, a lock several hosts
share, rows several processes claim at once, text PostgreSQL cannot hold),
the `Sql` says how; on SQLite, whose one writer at a time already serialises
everything, most of those are nothing.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

from sqlite_utils import Database

Params = Sequence[Any] | Mapping[str, Any]


class Rows(Protocol):
    """What a statement gives back: sqlite3's and psycopg's cursors both are one."""

    @property
    def rowcount(self) -> int: ...

    def __iter__(self) -> Iterator[Any]: ...

    def fetchone(self) -> Any: ...

    def fetchmany(self, size: int) -> list[Any]: ...

    def fetchall(self) -> list[Any]: ...


class Sql(Protocol):
    """A database connection as the store's parts use it, whichever the backend."""

    # Appended to a claim's inner SELECT: rows another process is claiming are skipped.
    skip_locked: str
    # Errors meaning the database refused one row (a constraint, text it cannot hold).
    refused: tuple[type[Exception], ...]

    def execute(self, sql: str, params: Params = ()) -> Rows: ...

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...

    def writing(self) -> AbstractContextManager[object]:
        """A transaction that writes (the outermost one)."""
        ...

    def savepoint(self) -> AbstractContextManager[object]:
        """A transaction inside `writing`, rolled back alone when its block raises."""
        ...

    def insert(self, sql: str, params: Params) -> int | None:
        """Run `sql`, an INSERT ... ON CONFLICT DO NOTHING of one row into a table with an
        `id`: the new row's id, or None when a row with the same unique key was there."""
        ...

    def json_array(self, expression: str) -> str:
        """SQL for the aggregate of `expression` as a JSON array's text."""
        ...

    def indexed_by(self, index: str) -> str:
        """The clause pinning a join to `index`, where the backend takes one."""
        ...

    def hold(self, key: int, name: str = "") -> None:
        """Take the lock (`key`, `name`) until the transaction ends, waiting for it."""
        ...

    def exclusive(self, key: int) -> AbstractContextManager[bool]:
        """Whether this process got the lock `key` (held for the block) or another holds it."""
        ...


def among(column: str, values: Sequence[object]) -> str:
    """ "column IN (?, ?, ?)" with one placeholder per value (FALSE for none:
    PostgreSQL, unlike SQLite, refuses an empty IN list)."""
    if not values:
        return "FALSE"
    return f"{column} IN ({', '.join('?' for _ in values)})"


@contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[None]:
    """A transaction that takes the write lock at its start.

    A deferred transaction that reads and then writes fails at once ("database
    is locked", no busy wait) when another connection committed in between;
    the service, housekeeping and CLI commands write to one file side by side.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class _Savepoint:
    """`SqliteSql.savepoint`: a class, not a generator, as it is taken once an article."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("SAVEPOINT part")

    def __exit__(self, kind: object, exc: BaseException | None, trace: object) -> None:
        if exc is not None:
            # A fault of the file itself fails these too: `writing` rolls back the rest.
            with contextlib.suppress(sqlite3.Error):
                self.conn.execute("ROLLBACK TO part")
                self.conn.execute("RELEASE part")
            return
        self.conn.execute("RELEASE part")


class SqliteSql:
    """An SQLite file's connection as the parts use it: their SQL goes to sqlite3 unchanged."""

    skip_locked = ""  # one writer at a time: nobody else is claiming meanwhile
    refused: tuple[type[Exception], ...] = (
        sqlite3.IntegrityError,
        sqlite3.InterfaceError,
        ValueError,
    )

    def __init__(self, db: Database) -> None:
        self.conn = db.conn

    def execute(self, sql: str, params: Params = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.conn.executemany(sql, rows)

    def writing(self) -> AbstractContextManager[None]:
        return immediate(self.conn)

    def savepoint(self) -> _Savepoint:
        return _Savepoint(self.conn)

    def insert(self, sql: str, params: Params) -> int | None:
        cursor = self.conn.execute(sql, params)  # lastrowid: RETURNING costs 3 µs more
        return cursor.lastrowid if cursor.rowcount == 1 else None

    def json_array(self, expression: str) -> str:
        return f"json_group_array({expression})"

    def indexed_by(self, index: str) -> str:
        return f"INDEXED BY {index}"

    def hold(self, key: int, name: str = "") -> None:
        """Nothing: `writing` took the file's one write lock already."""

    @contextmanager
    def exclusive(self, key: int) -> Iterator[bool]:
        yield True  # each transaction holds the write lock: nothing is done twice at once
