"""The outbox: digests written with their hits before sending, marked once accepted.

A digest moves pending -> sent, or pending -> (retries) -> failed. A sender
claims a pending digest for `lease` seconds before sending it, so that two
processes (the service and `watcher digest send`) never send it both; on an
SQLite file a claim by a process that died lapses at once. Watchers sharing a
PostgreSQL database claim as postgres/outbox.py's `SharedOutbox` does, and
build one digest of a channel at a time (`DIGEST_LOCK`), so no hit goes into two.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from watcher.ops.processes import process_alive
from watcher.store.marks import HELD_BACK
from watcher.store.records import Delivery
from watcher.store.schema import stamp
from watcher.store.sql import Sql, among

_DELIVERY_COLUMNS = (
    "id, channel, status, hits, attempts, created_at, next_attempt_at, sent_at, last_error"
)


# Lock key (`Sql.hold`, with the channel's name): one digest build per channel at a time.
DIGEST_LOCK = 0x6469  # "di"


class Outbox:
    """The `channels`, `digests` and `digest_hits` tables."""

    def __init__(self, db: Sql) -> None:
        self.db = db

    # -- channels ------------------------------------------------------------

    def sync_channels(self, names: Sequence[str], now: datetime) -> None:
        """Note when each channel was first configured: it is sent hits found from then on."""
        self.db.executemany(
            "INSERT INTO channels (name, first_seen_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
            [(name, stamp(now)) for name in names],
        )

    def first_seen(self, channel: str) -> str | None:
        row = self.db.execute(
            "SELECT first_seen_at FROM channels WHERE name = ?", [channel]
        ).fetchone()
        return row[0] if row else None

    def last_run(self, channel: str) -> str | None:
        row = self.db.execute(
            "SELECT last_run_at FROM channels WHERE name = ?", [channel]
        ).fetchone()
        return row[0] if row else None

    def mark_run(self, channel: str, now: datetime) -> None:
        """Note a scheduled digest run, so a restart can tell whether one was missed."""
        self.db.execute("UPDATE channels SET last_run_at = ? WHERE name = ?", [stamp(now), channel])

    # -- building digests ----------------------------------------------------

    def undelivered(
        self,
        channel: str,
        *,
        terms: Sequence[str] = (),
        min_score: float = 0.0,
        since: datetime,
        now: datetime,
    ) -> list[int]:
        """Ids of hits found since `since` that the channel should get and was not given.

        Left out, for good: hits judged not relevant, and hits whose story was muted
        or whose term was snoozed at some moment between their finding and `now`
        (store/marks.py, `HELD_BACK`). They stay in the archive.
        """
        where = [
            "h.score >= :min_score",
            "h.found_at >= :since",
            "NOT EXISTS (SELECT 1 FROM digest_hits d WHERE d.channel = :channel"
            " AND d.hit_id = h.id)",
            f"NOT {HELD_BACK}",
        ]
        params: dict[str, Any] = {
            "min_score": min_score,
            "since": stamp(since),
            "channel": channel,
            "now": stamp(now),
        }
        if terms:
            names = {f"term{index}": term for index, term in enumerate(terms)}
            where.append(f"h.term IN ({', '.join(':' + name for name in names)})")
            params.update(names)
        rows = self.db.execute(
            f"""
            SELECT h.id FROM hits h JOIN articles a ON a.id = h.article_id
            WHERE {" AND ".join(where)} ORDER BY h.id
            """,
            params,
        ).fetchall()
        return [row[0] for row in rows]

    def create(
        self,
        channel: str,
        now: datetime,
        *,
        terms: Sequence[str] = (),
        min_score: float = 0.0,
        since: datetime,
        empty: bool = False,
    ) -> str | None:
        """Put the channel's undelivered hits into a new pending digest; return its id.

        Returns None when there are no such hits, unless `empty` asks for a
        digest anyway. Selecting and claiming the hits is one transaction.
        """
        with self.db.writing():
            # One build per channel at a time, whichever watcher runs it: the next one's
            # query sees the hits this one took (on PostgreSQL: READ COMMITTED, after the lock).
            self.db.hold(DIGEST_LOCK, channel)
            ids = self.undelivered(channel, terms=terms, min_score=min_score, since=since, now=now)
            if not ids and not empty:
                return None
            digest_id = f"msg_{uuid.uuid4().hex}"
            self.db.execute(
                """
                INSERT INTO digests (id, channel, created_at, status, hits, next_attempt_at)
                VALUES (?, ?, ?, 'pending', ?, ?)
                """,
                [digest_id, channel, stamp(now), len(ids), stamp(now)],
            )
            self.db.executemany(
                "INSERT INTO digest_hits (channel, hit_id, digest_id) VALUES (?, ?, ?)",
                [(channel, hit_id, digest_id) for hit_id in ids],
            )
        return digest_id

    # -- sending -------------------------------------------------------------

    def claim_due(
        self, now: datetime, pid: int, lease: float, channels: Sequence[str] = ()
    ) -> list[Delivery]:
        """Pending digests due by `now` that no live process is sending, now claimed by `pid`."""
        where = "status = 'pending' AND next_attempt_at <= ?"
        params: list[Any] = [stamp(now)]
        if channels:
            where += " AND " + among("channel", channels)
            params.extend(channels)
        claimed = self._claim(where, params, now, pid, lease)
        return sorted(self.deliveries(ids=claimed), key=lambda d: (d.created_at, d.id))

    def _claim(
        self, where: str, params: list[Any], now: datetime, pid: int, lease: float
    ) -> list[str]:
        """The digests `where` picks, now claimed by `pid`: those whose claim lapsed or
        whose claimant died (a pid names a process on this host: the file is local)."""
        rows = self.db.execute(
            f"SELECT id, claimed_by, claimed_until FROM digests WHERE {where}"
            " ORDER BY created_at, id",
            params,
        ).fetchall()
        claimed = []
        until = stamp(now + timedelta(seconds=lease))
        for digest_id, owner, owned_until in rows:
            held = owned_until is not None and owned_until > stamp(now)
            if held and owner is not None and process_alive(owner):  # this process's own claims too
                continue
            cursor = self.db.execute(
                """
                UPDATE digests SET claimed_by = ?, claimed_until = ?
                WHERE id = ? AND status = 'pending' AND claimed_until IS ?
                """,
                [pid, until, digest_id, owned_until],
            )
            if cursor.rowcount == 1:
                claimed.append(digest_id)
        return claimed

    def mark_sent(self, digest_id: str, now: datetime) -> None:
        self.db.execute(
            """
            UPDATE digests SET status = 'sent', sent_at = ?, attempts = attempts + 1,
                last_error = NULL, claimed_by = NULL, claimed_until = NULL
            WHERE id = ?
            """,
            [stamp(now), digest_id],
        )

    def mark_failed_attempt(self, digest_id: str, error: str, retry_at: datetime | None) -> None:
        """Count a failed attempt: retry at `retry_at`, or give up (status failed) when None."""
        self.db.execute(
            """
            UPDATE digests SET attempts = attempts + 1, last_error = ?,
                status = CASE WHEN CAST(? AS TEXT) IS NULL THEN 'failed' ELSE 'pending' END,
                next_attempt_at = COALESCE(CAST(? AS TEXT), next_attempt_at),
                claimed_by = NULL, claimed_until = NULL
            WHERE id = ?
            """,
            [error, stamp(retry_at), stamp(retry_at), digest_id],
        )

    def retry_failed(self, now: datetime, channels: Sequence[str] = ()) -> int:
        """Give failed digests a new round of attempts; returns how many."""
        where = "status = 'failed'"
        params: list[Any] = [stamp(now)]
        if channels:
            where += " AND " + among("channel", channels)
            params.extend(channels)
        cursor = self.db.execute(
            f"UPDATE digests SET status = 'pending', attempts = 0, next_attempt_at = ?"
            f" WHERE {where}",
            params,
        )
        return cursor.rowcount

    def due_now(self, now: datetime, channels: Sequence[str] = ()) -> int:
        """Make pending digests waiting out a retry's backoff due now; returns how many."""
        where = "status = 'pending' AND next_attempt_at > ?"
        params: list[Any] = [stamp(now), stamp(now)]
        if channels:
            where += " AND " + among("channel", channels)
            params.extend(channels)
        cursor = self.db.execute(f"UPDATE digests SET next_attempt_at = ? WHERE {where}", params)
        return cursor.rowcount

    def next_attempt(self) -> str | None:
        """When the earliest pending digest is due (ISO 8601, UTC), if any is pending."""
        row = self.db.execute(
            "SELECT MIN(next_attempt_at) FROM digests WHERE status = 'pending'"
        ).fetchone()
        return row[0] if row else None

    # -- reading ---------------------------------------------------------------

    def deliveries(
        self,
        *,
        ids: Sequence[str] | None = None,
        status: str | None = None,
        channels: Sequence[str] = (),
        limit: int | None = None,
    ) -> list[Delivery]:
        """Digests in the outbox, newest first."""
        where: list[str] = []
        params: list[Any] = []
        if ids is not None:
            where.append(among("id", ids))
            params.extend(ids)
        if status is not None:
            where.append("status = ?")
            params.append(status)
        if channels:
            where.append(among("channel", channels))
            params.extend(channels)
        sql = f"SELECT {_DELIVERY_COLUMNS} FROM digests"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at DESC, id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [Delivery(*row) for row in self.db.execute(sql, params).fetchall()]

    def counts(self) -> dict[str, int]:
        """Digests per status: {"pending": 2, "sent": 40, "failed": 0}."""
        counts = {"pending": 0, "sent": 0, "failed": 0}
        for status, number in self.db.execute(
            "SELECT status, COUNT(*) FROM digests GROUP BY status"
        ).fetchall():
            counts[status] = number
        return counts
