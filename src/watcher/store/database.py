"""The SQLite store: opening the file, its one thread, its errors; the parts it is made of.

SQLite in WAL mode through sqlite-utils. Timestamps are ISO 8601 strings in
UTC ("2026-11-23T19:00:00+00:00"), so they sort and compare as text. Each part
(`feeds.py`, `articles.py`, `heartbeat.py`, `outbox.py`, `archive.py`,
`fulltext.py`, `retention.py`) owns some tables and their SQL; `Store`
composes them over one connection (`SqliteSql`, sql.py).

Async code (the service, a poll) runs its database work through `Store.call`,
on one thread that owns the connection: a write waiting for another process's
lock (up to the busy timeout) then holds up database work only, never the
event loop with its fetches, timeouts and heartbeat (issue 15, item C).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import sqlite3
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from sqlite_utils import Database

from watcher.errors import DamagedError, StoreError
from watcher.store.archive import Archive
from watcher.store.articles import Articles
from watcher.store.feeds import Feeds
from watcher.store.fulltext import FullText
from watcher.store.heartbeat import Heartbeat
from watcher.store.marks import Marks
from watcher.store.outbox import Outbox
from watcher.store.parts import Parts
from watcher.store.retention import Retention
from watcher.store.schema import check_version, migrations, stamp
from watcher.store.sql import SqliteSql

if TYPE_CHECKING:
    from watcher.store.protocols import Storage

P = ParamSpec("P")
T = TypeVar("T")

BUSY_TIMEOUT_MS = 10_000  # wait this long for another process's write lock before failing


def store_error(path: Path, exc: sqlite3.Error) -> StoreError:
    """An SQLite error as one line a user can act on, naming the database."""
    text = str(exc)
    if "locked" in text or "busy" in text:
        return StoreError(
            f"{path}: database is locked by another process (the service, a backup or an"
            f" sqlite3 shell) for over {BUSY_TIMEOUT_MS // 1000}s: try again"
        )
    if "disk is full" in text:
        return StoreError(f"{path}: cannot write the database ({text}): free some disk space")
    if "malformed" in text or "not a database" in text:
        return StoreError(f"{path}: the database is damaged ({text})")
    return StoreError(f"{path}: database error: {text}")


class Store(Parts):
    """The SQLite database of feeds, articles, hits and polls, made of one part per job.

    Its parts: `feeds` (feeds, polls, the schedule), `articles` (articles and
    hits as polls store them), `heartbeat` (the running service), `outbox`
    (digests), `fulltext` (the search index), `archive` (reading hits and
    articles) and `retention` (housekeeping). The store itself opens the file,
    runs work on its thread (`call`) and turns SQLite's errors into `StoreError`.
    """

    def __init__(self, db: Database, path: Path) -> None:
        self.db = db
        self.path = path
        self.sql = sql = SqliteSql(db)  # what the parts run their SQL through
        self.fulltext = FullText(sql)
        self.feeds = Feeds(sql)
        self.articles = Articles(sql, self.fulltext)
        self.heartbeat = Heartbeat(sql)
        self.outbox = Outbox(sql)
        self.archive = Archive(sql)
        self.retention = Retention(sql, self.fulltext)
        self.marks = Marks(sql)  # triage: judgements, reads, mutes, snoozes, link keys
        self._thread: ThreadPoolExecutor | None = None

    @classmethod
    def open(cls, path: str | Path, *, readonly: bool = False) -> Store:
        """Open (creating if needed) the database at `path` and bring its schema up to date.

        `readonly` opens an existing, up-to-date database without writing to it
        (`watcher status` beside a service, or another process, holding the
        write lock); a database that is missing or needs upgrading is opened
        as usual.
        """
        path = Path(path)
        if readonly:
            reader = cls._reader(path)
            if reader is not None:
                return reader
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                path,
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,
                check_same_thread=False,  # used by one thread at a time: see `call`
            )
            db = Database(conn)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("PRAGMA synchronous=NORMAL")
            check_version(db, path)
            migrations.apply(db)
        except sqlite3.Error as exc:
            raise store_error(path, exc) from None
        except OSError as exc:
            raise StoreError(f"{path}: cannot open database: {exc}") from None
        return cls(db, path)

    @classmethod
    def _reader(cls, path: Path) -> Store | None:
        """A read-only connection, when the database exists and needs no migration."""
        if not path.is_file():
            return None
        try:
            conn = sqlite3.connect(
                f"{path.resolve().as_uri()}?mode=ro",
                uri=True,
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,
            )
            db = Database(conn)
            if list(migrations.pending(db)):
                db.close()
                return None
        except sqlite3.Error:
            return None
        return cls(db, path)

    async def call(self, work: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run `work` (which uses this store) on the store's own thread, off the event loop.

        Every call runs on that one thread, one after another, so transactions
        never interleave. While calls may be running, use the store only
        through `call`. A fault of the database leaves as a `StoreError` with
        SQLite's own words ("database is locked"), so async callers handle one
        error type whichever backend they use.
        """
        if self._thread is None:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="watcher-db")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(
                self._thread, functools.partial(work, *args, **kwargs)
            )
        except sqlite3.Error as exc:
            raise StoreError(str(exc)) from exc

    def close(self) -> None:
        if self._thread is not None:
            self._thread.shutdown(wait=True)  # work already started finishes its transaction
            self._thread = None
        self.db.close()

    @property
    def location(self) -> str:
        """Where the database is, for people: the file's path."""
        return str(self.path)

    @contextmanager
    def translated(self) -> Iterator[None]:
        """Raise an SQLite error from the block as a one-line `StoreError`."""
        try:
            yield
        except sqlite3.Error as exc:
            raise store_error(self.path, exc) from exc

    def __enter__(self) -> Store:
        return self

    def __exit__(self, kind: object, exc: BaseException | None, trace: object) -> None:
        """Close; an SQLite error from the `with` block leaves it as a `StoreError`."""
        self.close()
        if isinstance(exc, sqlite3.Error):
            raise store_error(self.path, exc) from exc

    def check(self, now: datetime) -> list[str]:
        """What `PRAGMA quick_check` finds wrong with the file ([] when nothing), also kept
        for `watcher status` when the database still takes the note."""
        try:
            rows = self.db.execute("PRAGMA quick_check(20)").fetchall()
        except sqlite3.DatabaseError as exc:  # a damaged header or schema: nothing to check
            rows = [(str(exc),)]
        problems = [str(row[0]) for row in rows if row[0] != "ok"]
        # Damaged too badly to take the note: the caller reports the problems anyway.
        with contextlib.suppress(sqlite3.Error):
            self.db.execute(
                """
                INSERT INTO integrity (id, checked_at, problem) VALUES (1, ?, ?)
                ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at,
                    problem = excluded.problem
                """,
                [stamp(now), "; ".join(problems)[:1000] or None],
            )
        return problems

    def ensure_sound(self, now: datetime) -> None:
        """Raise `DamagedError` when `check` finds the file damaged."""
        problems = self.check(now)
        if problems:
            more = f" and {len(problems) - 1} more" if len(problems) > 1 else ""
            raise DamagedError(
                f"{self.path}: the database is damaged ({problems[0]}{more}); nothing more is"
                " written to it: see 'A damaged database' in docs/operations.md"
            )

    def backup(self, target: Path) -> None:
        """Copy the database to `target` with SQLite's online backup (safe while it is in use)."""
        if target.exists():
            raise StoreError(f"{target}: exists already; back up to a new file")
        try:
            with contextlib.closing(sqlite3.connect(target)) as copy:
                self.db.conn.backup(copy)
        except sqlite3.Error as exc:
            target.unlink(missing_ok=True)
            raise StoreError(f"{target}: backup failed: {exc}") from None

    def schema_version(self) -> list[str]:
        """Names of the applied migrations, oldest first."""
        return [applied.name for applied in migrations.applied(self.db)]


if TYPE_CHECKING:  # mypy proves that the SQLite store is a `Storage` (store/protocols.py)

    def _implements(store: Store) -> Storage:
        return store
