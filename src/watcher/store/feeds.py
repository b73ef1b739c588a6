"""Feeds and their polls: rows, poll records, the schedule, the network-down verdict. Their SQL.

A feed's row holds what its next conditional GET sends (`FeedState`), its
health (last answer, consecutive errors, failing since), and its schedule (next
due time, wait, why); `polls` keeps one row per poll.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from watcher.models import PollResult
from watcher.store.records import FeedListing, FeedState, FeedStatus
from watcher.store.schema import stamp
from watcher.store.sql import Sql, among


class Feeds:
    """The `feeds` and `polls` tables."""

    def __init__(self, db: Sql) -> None:
        self.db = db

    def sync(self, feeds: Iterable[FeedListing]) -> None:
        """Give every configured feed a row; a changed URL forgets its cache state."""
        with self.db.writing():
            for feed in feeds:
                self.db.execute(
                    """
                    INSERT INTO feeds (name, url) VALUES (?, ?)
                    ON CONFLICT (name) DO UPDATE SET
                        etag = CASE WHEN feeds.url = excluded.url THEN feeds.etag END,
                        last_modified = CASE WHEN feeds.url = excluded.url
                            THEN feeds.last_modified END,
                        url = excluded.url
                    """,
                    [feed.name, feed.url],
                )

    def state(self, name: str) -> FeedState:
        """What the next poll of feed `name` starts from."""
        row = self.db.execute(
            "SELECT etag, last_modified, consecutive_errors, next_due_at, interval_seconds"
            " FROM feeds WHERE name = ?",
            [name],
        ).fetchone()
        return FeedState(*row) if row else FeedState()

    def claim(
        self,
        names: Sequence[str],
        now: datetime,
        owner: str,
        lease: float,
        limit: int | None = None,
    ) -> list[str]:
        """Of the feeds `names`, those due by `now` and claimed by no one else (at most
        `limit`, the longest due first), now claimed by `owner` ("host:pid") until `lease`
        seconds from now; `record_poll` ends a claim.

        Several watchers sharing a PostgreSQL database claim at once: `FOR UPDATE
        SKIP LOCKED` hands each due feed to one of them. A process that dies
        mid-poll leaves its claims to lapse with their lease, and its feeds come
        back to whichever process looks next.
        """
        if not names:
            return []
        at = stamp(now, "microseconds")
        first = "" if limit is None else "ORDER BY COALESCE(next_due_at, ''), name LIMIT ?"
        with self.db.writing():
            rows = self.db.execute(
                f"""
                UPDATE feeds SET claimed_by = ?, claimed_until = ?
                WHERE name IN (
                    SELECT name FROM feeds
                    WHERE {among("name", names)}
                      AND (next_due_at IS NULL OR next_due_at <= ?)
                      AND (claimed_until IS NULL OR claimed_until <= ? OR claimed_by = ?)
                    {first} {self.db.skip_locked}
                )
                RETURNING name
                """,
                [owner, stamp(now + timedelta(seconds=lease)), *names, at, at, owner]
                + ([] if limit is None else [limit]),
            ).fetchall()
        return sorted(row[0] for row in rows)

    def claimants(self) -> list[str]:
        """Who holds feeds now ("host:pid" each), lapsed claims included."""
        rows = self.db.execute(
            "SELECT DISTINCT claimed_by FROM feeds WHERE claimed_by IS NOT NULL ORDER BY 1"
        ).fetchall()
        return [row[0] for row in rows]

    def release(self, owners: Sequence[str]) -> int:
        """End the claims of `owners` (processes known to be dead); returns how many feeds."""
        if not owners:
            return 0
        cursor = self.db.execute(
            "UPDATE feeds SET claimed_by = NULL, claimed_until = NULL"
            f" WHERE {among('claimed_by', owners)}",
            list(owners),
        )
        return int(cursor.rowcount)

    def record_poll(self, record: PollResult, quorum: int = 1, owner: str | None = None) -> None:
        """Keep a poll's outcome and update the feed's health; failures keep the cache state.

        A feed whose host cannot be resolved or connected to may be failing, or
        the network may be down: its failure is held back (`unreachable_at`)
        until any feed answers. If fewer than `quorum` feeds were unreachable
        since the previous answer, those feeds were at fault and their failures
        count now; if `quorum` or more were, the network was down, and none
        counts (issue 15, items 4 and E). The poll ends `owner`'s claim on the feed.
        """
        finished = stamp(record.finished_at)
        with self.db.writing():
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
            # Only `owner`'s own claim ends: one whose lease ran out may find the feed
            # claimed by another process by now (a poll without a claim ends none).
            self.db.execute(
                "UPDATE feeds SET claimed_by = NULL, claimed_until = NULL"
                " WHERE name = ? AND claimed_by = ?",
                [record.feed, owner],
            )
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

    def statuses(self, feeds: Sequence[FeedListing]) -> list[FeedStatus]:
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
