"""Feeds, articles, hits, polls and the service heartbeat: their SQL.

SQLite in WAL mode through sqlite-utils. Timestamps are ISO 8601 strings in
UTC ("2026-11-23T19:00:00+00:00"), so they sort and compare as text.

Async code (the service, a poll) runs its database work through `Store.call`,
on one thread that owns the connection: a write waiting for another process's
lock (up to the busy timeout) then holds up database work only, never the
event loop with its fetches, timeouts and heartbeat (issue 15, item C).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import ParamSpec, TypeVar

from sqlite_utils import Database

from watcher.config.load import Config, FeedConfig
from watcher.errors import DamagedError, StoreError
from watcher.match.cluster import MAX_DISTANCE, bands, distance, simhash
from watcher.models import Article, Entry, FeedStatus, Match
from watcher.store.archive import Archive
from watcher.store.fulltext import FullText
from watcher.store.marks import Marks
from watcher.store.outbox import Outbox
from watcher.store.retention import Retention
from watcher.store.schema import check_version, migrations, stamp, writing

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

BUSY_TIMEOUT_MS = 10_000  # wait this long for another process's write lock before failing

# Headlines run to a few hundred characters; a feed's megabyte "title" is cut
# here, so no reader of the database pays for it again (issue 17, item 3).
MAX_TITLE_CHARS = 1000

CLUSTER_WINDOW = timedelta(days=7)  # copies of a story appear within days, not weeks


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


def _signed(value: int) -> int:
    """A 64-bit fingerprint as SQLite's signed INTEGER holds it."""
    return value - (1 << 64) if value >= 1 << 63 else value


@dataclass(frozen=True)
class FeedState:
    """What the next conditional GET of a feed sends."""

    etag: str | None = None
    last_modified: str | None = None
    consecutive_errors: int = 0
    next_due: str | None = None  # ISO 8601, UTC
    interval: float | None = None  # seconds, as adapted to the publishing rate


@dataclass(frozen=True)
class Known:
    """An entry we stored before, and how this feed last described it (None: never did)."""

    article_id: int
    fingerprint: str | None


@dataclass(frozen=True)
class Reading:
    """An entry's article as read from its page (or its feed), and the terms it matched."""

    entry: Entry
    article: Article
    fingerprint: str  # how the feed describes the entry (see `pipeline.fingerprint`)
    matches: Sequence[Match]


@dataclass(frozen=True)
class PollRecord:
    """The outcome of one poll of one feed, as the `polls` table keeps it."""

    feed: str
    started_at: datetime
    finished_at: datetime
    status: str
    http_status: int | None = None
    entries: int = 0
    new_articles: int = 0
    updated_articles: int = 0
    hits: int = 0
    error: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    title: str | None = None
    next_due: datetime | None = None
    interval: float | None = None  # adapted to the publishing rate, on successful polls
    # The host could not be resolved or connected to: the feed's fault or the network's,
    # judged by what the next answer from any feed says (see `record_poll`).
    unreachable: bool = False
    wait: float | None = None  # seconds from this poll to the next, without jitter
    reason: str | None = None  # why that long (`watcher.app.schedule`: interval, backoff, ...)

    @property
    def failed(self) -> bool:
        return self.status == "failed"


class Store:
    """The SQLite database of feeds, articles, hits and polls.

    Its parts: `outbox` (digests), `fulltext` (the search index), `archive`
    (reading hits and articles) and `retention` (housekeeping).
    """

    def __init__(self, db: Database, path: Path) -> None:
        self.db = db
        self.path = path
        self.outbox = Outbox(db)
        self.fulltext = FullText(db)
        self.archive = Archive(db)
        self.retention = Retention(db, self.fulltext)
        self.marks = Marks(db)  # triage: judgements, reads, mutes, snoozes, link keys
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
        through `call`.
        """
        if self._thread is None:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="watcher-db")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, functools.partial(work, *args, **kwargs))

    def close(self) -> None:
        if self._thread is not None:
            self._thread.shutdown(wait=True)  # work already started finishes its transaction
            self._thread = None
        self.db.close()

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

    def last_check(self) -> tuple[str, str | None] | None:
        """(checked_at, problem or None) of the last integrity check, if one ran."""
        row = self.db.execute("SELECT checked_at, problem FROM integrity WHERE id = 1").fetchone()
        return (row[0], row[1]) if row else None

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

    # -- feeds -------------------------------------------------------------

    def sync_feeds(self, feeds: Iterable[tuple[str, str]]) -> None:
        """Give every configured (name, url) a row; a changed URL forgets its cache state."""
        with writing(self.db):
            for name, url in feeds:
                self.db.execute(
                    """
                    INSERT INTO feeds (name, url) VALUES (?, ?)
                    ON CONFLICT (name) DO UPDATE SET
                        etag = CASE WHEN url = excluded.url THEN etag END,
                        last_modified = CASE WHEN url = excluded.url THEN last_modified END,
                        url = excluded.url
                    """,
                    [name, url],
                )

    def sync_config(self, config: Config, now: datetime) -> None:
        """Give every configured feed and channel a row (a channel notes when it first appeared)."""
        self.sync_feeds((feed.name, feed.url) for feed in config.feeds)
        self.outbox.sync_channels([channel.name for channel in config.channels], now)

    def feed_state(self, name: str) -> FeedState:
        row = self.db.execute(
            "SELECT etag, last_modified, consecutive_errors, next_due_at, interval_seconds"
            " FROM feeds WHERE name = ?",
            [name],
        ).fetchone()
        return FeedState(*row) if row else FeedState()

    def record_poll(self, record: PollRecord, quorum: int = 1) -> None:
        """Keep a poll's outcome and update the feed's health; failures keep the cache state.

        A feed whose host cannot be resolved or connected to may be failing, or
        the network may be down: its failure is held back (`unreachable_at`)
        until any feed answers. If fewer than `quorum` feeds were unreachable
        since the previous answer, those feeds were at fault and their failures
        count now; if `quorum` or more were, the network was down, and none
        counts (issue 15, items 4 and E).
        """
        finished = stamp(record.finished_at)
        with writing(self.db):
            self.db.execute(
                """
                INSERT INTO polls (feed, started_at, finished_at, status, http_status, entries,
                                   new_articles, updated_articles, hits, error)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    record.feed,
                    stamp(record.started_at),
                    finished,
                    record.status,
                    record.http_status,
                    record.entries,
                    record.new_articles,
                    record.updated_articles,
                    record.hits,
                    record.error,
                ],
            )
            plan = [stamp(record.next_due, "microseconds"), record.wait, record.reason]
            if record.unreachable:
                self.db.execute(
                    """
                    UPDATE feeds SET last_polled_at = ?, last_status = NULL, last_error = ?,
                        unreachable_at = COALESCE(unreachable_at, ?),
                        next_due_at = ?, next_wait_seconds = ?, next_reason = ?
                    WHERE name = ?
                    """,
                    [finished, record.error, finished, *plan, record.feed],
                )
                return
            self._judge_unreachable(quorum, record.feed)
            if record.failed:
                self.db.execute(
                    """
                    UPDATE feeds SET last_polled_at = ?, answered_at = ?, last_status = ?,
                        last_error = ?, consecutive_errors = consecutive_errors + 1,
                        failing_since = COALESCE(failing_since, ?),
                        next_due_at = ?, next_wait_seconds = ?, next_reason = ?
                    WHERE name = ?
                    """,
                    [
                        finished,
                        finished,
                        record.http_status,
                        record.error,
                        finished,
                        *plan,
                        record.feed,
                    ],
                )
            else:
                self.db.execute(
                    """
                    UPDATE feeds SET last_polled_at = ?, last_ok_at = ?, answered_at = ?,
                        last_status = ?, last_error = NULL, consecutive_errors = 0,
                        failing_since = NULL,
                        etag = COALESCE(?, etag), last_modified = COALESCE(?, last_modified),
                        title = COALESCE(?, title), next_due_at = ?, next_wait_seconds = ?,
                        next_reason = ?, interval_seconds = COALESCE(?, interval_seconds)
                    WHERE name = ?
                    """,
                    [
                        finished,
                        finished,
                        finished,
                        record.http_status,
                        record.etag,
                        record.last_modified,
                        record.title,
                        *plan,
                        record.interval,
                        record.feed,
                    ],
                )

    def _judge_unreachable(self, quorum: int, answering: str) -> None:
        """A feed answered: the failures held back since the previous answer count now
        (the answering feed's own aside), unless so many feeds were unreachable that
        the network was down."""
        held = int(
            self.db.execute(
                "SELECT COUNT(*) FROM feeds WHERE unreachable_at IS NOT NULL"
            ).fetchone()[0]
        )
        if not held:
            return
        if held < quorum:
            self.db.execute(
                """
                UPDATE feeds SET consecutive_errors = consecutive_errors + 1,
                    failing_since = COALESCE(failing_since, unreachable_at)
                WHERE unreachable_at IS NOT NULL AND name != ?
                """,
                [answering],
            )
        self.db.execute("UPDATE feeds SET unreachable_at = NULL WHERE unreachable_at IS NOT NULL")

    def network_down(self, quorum: int) -> str | None:
        """Since when no feed answered, if `quorum` feeds were unreachable since (else None)."""
        held, answered, first = self.db.execute(
            """
            SELECT COUNT(unreachable_at), MAX(answered_at), MIN(unreachable_at) FROM feeds
            """
        ).fetchone()
        if not held or held < quorum:
            return None
        return str(answered or first)

    def due_times(self) -> dict[str, str | None]:
        """Every feed's stored next due time: the schedule the service follows."""
        return dict(self.db.execute("SELECT name, next_due_at FROM feeds").fetchall())

    def schedule_rows(self) -> dict[str, tuple[str | None, str | None, str | None, int]]:
        """Each feed's (last polled, next due, why that long, consecutive errors)."""
        rows = self.db.execute(
            "SELECT name, last_polled_at, next_due_at, next_reason, consecutive_errors FROM feeds"
        ).fetchall()
        return {row[0]: (row[1], row[2], row[3], row[4]) for row in rows}

    def set_due(self, name: str, when: datetime) -> None:
        """Set a feed's next due time (the service fitting the schedule to its config)."""
        due = stamp(when, "microseconds")
        self.db.execute("UPDATE feeds SET next_due_at = ? WHERE name = ?", [due, name])

    def feed_statuses(self, feeds: Sequence[FeedConfig]) -> list[FeedStatus]:
        """Health and counts of the configured feeds, in config order."""
        rows = {
            row[0]: row[1:]
            for row in self.db.execute(
                """
                SELECT f.name, f.last_polled_at, f.last_ok_at, f.last_status,
                       f.consecutive_errors, f.last_error, f.failing_since, f.next_due_at,
                       f.next_wait_seconds, f.next_reason, f.unreachable_at,
                       (SELECT COUNT(*) FROM article_feeds af WHERE af.feed = f.name),
                       (SELECT COUNT(*) FROM hits h JOIN article_feeds af
                            ON af.article_id = h.article_id WHERE af.feed = f.name)
                FROM feeds f
                """
            ).fetchall()
        }
        statuses = []
        for feed in feeds:
            row = rows.get(feed.name, (None, None, None, 0, *(None,) * 6, 0, 0))
            polled, ok, status, errors, error, since, due, wait, why, unreachable = row[:10]
            articles, hits = row[10:]
            statuses.append(
                FeedStatus(
                    name=feed.name,
                    url=feed.url,
                    enabled=feed.enabled,
                    last_polled=polled,
                    last_ok=ok,
                    last_status=status,
                    consecutive_errors=errors,
                    last_error=error,
                    failing_since=since,
                    next_due=due,
                    wait=wait,
                    reason=why,
                    unreachable_since=unreachable,
                    articles=articles,
                    hits=hits,
                )
            )
        return statuses

    # -- the running service ----------------------------------------------

    def service_started(self, pid: int, now: datetime) -> None:
        """Note that a service process started (for `watcher status`)."""
        self.db.execute(
            """
            INSERT INTO service (id, pid, started_at, heartbeat_at, stopped_at)
            VALUES (1, ?, ?, ?, NULL)
            ON CONFLICT (id) DO UPDATE SET pid = excluded.pid, started_at = excluded.started_at,
                heartbeat_at = excluded.heartbeat_at, stopped_at = NULL
            """,
            [pid, stamp(now), stamp(now)],
        )

    def service_heartbeat(self, now: datetime, stopped: bool = False) -> None:
        column = "stopped_at" if stopped else "heartbeat_at"
        self.db.execute(f"UPDATE service SET {column} = ? WHERE id = 1", [stamp(now)])

    def housekept(self, now: datetime) -> None:
        """Note that housekeeping finished (a restart catches up on a missed run)."""
        self.db.execute("UPDATE service SET housekept_at = ? WHERE id = 1", [stamp(now)])

    def last_housekeeping(self) -> str | None:
        row = self.db.execute("SELECT housekept_at FROM service WHERE id = 1").fetchone()
        return row[0] if row else None

    def service_state(self) -> tuple[int, str, str, str | None] | None:
        """(pid, started_at, heartbeat_at, stopped_at) of the last service process, if any."""
        row = self.db.execute(
            "SELECT pid, started_at, heartbeat_at, stopped_at FROM service WHERE id = 1"
        ).fetchone()
        return (row[0], row[1], row[2], row[3]) if row else None

    def hits_since(self, moment: datetime) -> int:
        return int(
            self.db.execute(
                "SELECT COUNT(*) FROM hits WHERE found_at >= ?", [stamp(moment)]
            ).fetchone()[0]
        )

    # -- articles and hits -------------------------------------------------

    def lookup(self, feed: str, entry: Entry) -> Known | None:
        """The stored article this entry is (same key or same canonical URL), if any."""
        row = self.db.execute(
            """
            SELECT a.id, af.fingerprint FROM articles a
            LEFT JOIN article_feeds af ON af.article_id = a.id AND af.feed = ?
            WHERE a.key = ? OR a.url = ?
            LIMIT 1
            """,
            [feed, entry.key, entry.url],
        ).fetchone()
        return Known(article_id=row[0], fingerprint=row[1]) if row else None

    def link_feed(self, article_id: int, feed: str, fingerprint: str, now: datetime) -> None:
        """Note that `feed` carries a stored article too, or how it now describes it."""
        self.db.execute(
            """
            INSERT INTO article_feeds (article_id, feed, fingerprint, first_seen_at)
            VALUES (?, ?, ?, ?)
            ON CONFLICT (article_id, feed) DO UPDATE SET fingerprint = excluded.fingerprint
            """,
            [article_id, feed, fingerprint, stamp(now)],
        )

    def save_articles(
        self, feed: str, readings: Sequence[Reading], now: datetime
    ) -> list[int | None]:
        """Store one feed's new or updated articles, each in a savepoint of its own.

        An article the database refuses (a constraint, text it cannot encode) is
        rolled back alone and reported as None; the others are kept. They are
        committed together, one commit for a feed's articles instead of one each:
        the search index writes a segment at every commit (0.42 ms an article
        alone, 0.17 in a batch of 20). Returns the new hits of each. A fault of
        the database itself (locked, full, read-only) stores none of them.
        """
        saved: list[int | None] = []
        with writing(self.db):
            for reading in readings:
                self.db.execute("SAVEPOINT article")
                try:
                    saved.append(self._save(feed, reading, now))
                except (sqlite3.IntegrityError, sqlite3.InterfaceError, ValueError) as exc:
                    self.db.execute("ROLLBACK TO article")
                    saved.append(None)
                    entry = reading.entry
                    log.error("feed %r: entry %s not stored: %s: %s", feed, entry.link or entry.key,
                              type(exc).__name__, exc)  # fmt: skip
                self.db.execute("RELEASE article")
        return saved

    def _save(self, feed: str, reading: Reading, now: datetime) -> int:
        """Insert or update one article and add its new hits (inside `save_articles`)."""
        entry, article, matches = reading.entry, reading.article, reading.matches
        if len(article.title) > MAX_TITLE_CHARS:
            article = replace(article, title=article.title[: MAX_TITLE_CHARS - 1] + "…")
        found = stamp(now)
        known = self.lookup(feed, entry)
        values = [
            article.title,
            article.text,
            article.source,
            article.note,
            article.author,
            article.language,
            stamp(article.published),
            found,
        ]
        if known is None:
            cursor = self.db.execute(
                """
                INSERT INTO articles (title, text, source, note, author, language, published,
                                      changed_at, key, url, feed, first_seen_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [*values, entry.key, entry.url, feed, found],
            )
            article_id = int(cursor.lastrowid or 0)
            self._cluster(article_id, article, now)
            self.fulltext.add(article_id, article.title, article.text)
        else:
            article_id = known.article_id
            old = self.db.execute(
                "SELECT title, text FROM articles WHERE id = ?", [article_id]
            ).fetchone()
            self.fulltext.replace(article_id, old, (article.title, article.text))
            self.db.execute(
                """
                UPDATE articles SET title = ?, text = ?, source = ?, note = ?, author = ?,
                    language = ?, published = COALESCE(?, published), changed_at = ?
                WHERE id = ?
                """,
                [*values, article_id],
            )
        self.link_feed(article_id, feed, reading.fingerprint, now)
        added = 0
        for match in matches:
            cursor = self.db.execute(
                """
                INSERT OR IGNORE INTO hits (article_id, term, phrase, snippet, score,
                                            found_at, clauses, highlights)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    article_id,
                    match.term,
                    match.phrase,
                    match.snippet,
                    match.score,
                    found,
                    json.dumps(match.clauses, ensure_ascii=False),
                    json.dumps(match.highlights),
                ],
            )
            added += cursor.rowcount
        return added

    def _cluster(self, article_id: int, article: Article, now: datetime) -> None:
        """Put a new article in the cluster of its closest recent copy, or in one of its own."""
        fingerprint = article.simhash
        if fingerprint is None:
            fingerprint = simhash(f"{article.title}\n{article.text}")
        cluster_id = article_id
        if fingerprint is not None:
            keys = bands(fingerprint)
            rows = self.db.execute(
                f"""
                SELECT DISTINCT a.id, a.simhash, a.cluster_id FROM article_bands b
                JOIN articles a INDEXED BY articles_fingerprint ON a.id = b.article_id
                WHERE b.band IN ({", ".join("?" for _ in keys)}) AND a.first_seen_at >= ?
                """,
                [*keys, stamp(now - CLUSTER_WINDOW)],
            ).fetchall()
            near = [
                (distance(fingerprint, other & (1 << 64) - 1), other_cluster)
                for _, other, other_cluster in rows
            ]
            best = min(near, default=None)
            if best is not None and best[0] <= MAX_DISTANCE:
                cluster_id = best[1]
            self.db.conn.executemany(
                "INSERT INTO article_bands (band, article_id) VALUES (?, ?)",
                [(key, article_id) for key in keys],
            )
        self.db.execute(
            "UPDATE articles SET simhash = ?, cluster_id = ? WHERE id = ?",
            [None if fingerprint is None else _signed(fingerprint), cluster_id, article_id],
        )

    def count(self, table: str) -> int:
        """Rows in one of our tables (for summaries and tests)."""
        if table not in {"feeds", "articles", "article_feeds", "hits", "polls", "digests"}:
            raise ValueError(f"unknown table {table!r}")
        return int(self.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
