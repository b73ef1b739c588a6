"""The PostgreSQL store (issue 20): its connection, its one thread, its errors; its parts.

store/database.py's counterpart: the same parts (store/feeds.py, ...) over
one psycopg connection in autocommit mode (`PostgresSql`), each part opening
its own transactions. Timestamps are ISO 8601 text in UTC, as on SQLite (see
postgres/schema.py). Async code runs database work through `call`, on one
thread that owns the connection.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import psycopg

from watcher.errors import DamagedError, StoreError
from watcher.store.archive import Archive
from watcher.store.articles import Articles
from watcher.store.feeds import Feeds
from watcher.store.heartbeat import Heartbeat
from watcher.store.marks import Marks
from watcher.store.parts import Parts
from watcher.store.postgres import schema
from watcher.store.postgres.connection import connect, describe, shown
from watcher.store.postgres.fulltext import FullText
from watcher.store.postgres.outbox import SharedOutbox
from watcher.store.postgres.sql import Connection, PostgresSql
from watcher.store.retention import Retention
from watcher.store.schema import stamp

if TYPE_CHECKING:
    from watcher.store.protocols import Storage

P = ParamSpec("P")
T = TypeVar("T")


class PostgresStore(Parts):
    """A PostgreSQL database holding what SQLite's `Store` holds, made of the same parts."""

    sql: PostgresSql

    def __init__(self, conn: Connection, url: str) -> None:
        self.url = url
        self.db = conn
        self.sql = PostgresSql(conn)  # the parts' connection (`_mend` replaces its `conn`)
        self.fulltext = FullText(self.sql)
        self.feeds = Feeds(self.sql)
        self.articles = Articles(self.sql, self.fulltext)
        self.heartbeat = Heartbeat(self.sql)
        self.outbox = SharedOutbox(self.sql)
        self.archive = Archive(self.sql)
        self.retention = Retention(self.sql, self.fulltext)
        self.marks = Marks(self.sql)
        self._thread: ThreadPoolExecutor | None = None

    @classmethod
    def open(cls, url: str) -> PostgresStore:
        """Connect to the database at `url` and bring its schema up to date."""
        conn = connect(url, autocommit=True)
        try:
            done = schema.migrate(conn, shown(url), datetime.now(UTC))
            store = cls(conn, url)
            if "m013_search_words" in done:  # articles stored before the index existed
                with store.translated():
                    store.fulltext.rebuild()
        except BaseException:
            conn.close()
            raise
        return store

    def error(self, exc: psycopg.Error) -> StoreError:
        """A psycopg error as one line naming the database (never its password)."""
        return StoreError(f"{shown(self.url)}: database error: {describe(exc)}")

    def _mend(self) -> None:
        """Replace a connection an error broke (the server restarted, the network dropped)
        before the next piece of work, once the server answers: a long-running service
        outlives the outage, losing only the work that failed meanwhile (each a
        `StoreError`, retried by its caller). Still down: `StoreError`."""
        if not (self.db.broken or self.db.closed):
            return
        fresh = connect(self.url, autocommit=True)
        old, self.db = self.db, fresh
        self.sql.conn = fresh
        old.close()

    def _mended(self, work: Callable[[], T]) -> T:
        self._mend()
        return work()

    async def call(self, work: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run `work` (which uses this store) on the store's own thread, off the event loop."""
        if self._thread is None:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="watcher-db")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(
                self._thread, self._mended, functools.partial(work, *args, **kwargs)
            )
        except psycopg.Error as exc:
            raise self.error(exc) from exc

    def close(self) -> None:
        if self._thread is not None:
            self._thread.shutdown(wait=True)
            self._thread = None
        self.db.close()

    @property
    def location(self) -> str:
        """Where the database is, for people: its URL without the password."""
        return shown(self.url)

    @contextmanager
    def translated(self) -> Iterator[None]:
        """Raise a psycopg error from the block as a one-line `StoreError`."""
        try:
            self._mend()
            yield
        except psycopg.Error as exc:
            raise self.error(exc) from exc

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, kind: object, exc: BaseException | None, trace: object) -> None:
        """Close; a psycopg error from the `with` block leaves it as a `StoreError`."""
        self.close()
        if isinstance(exc, psycopg.Error):
            raise self.error(exc) from exc

    def check(self, now: datetime) -> list[str]:
        """[]: PostgreSQL checks its own pages; the check is noted for `watcher status`."""
        self.db.execute(
            """
            INSERT INTO integrity (id, checked_at, problem) VALUES (1, %s, NULL)
            ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at, problem = NULL
            """,
            [stamp(now)],
        )
        return []

    def ensure_sound(self, now: datetime) -> None:
        problems = self.check(now)
        if problems:  # pragma: no cover - kept for the protocol's contract
            raise DamagedError(f"{self.location}: the database is damaged ({problems[0]})")

    def schema_version(self) -> list[str]:
        return schema.applied(self.db)


if TYPE_CHECKING:  # mypy proves that the PostgreSQL store is a `Storage` too

    def _implements(store: PostgresStore) -> Storage:
        return store
