"""Triage marks: judgements, reads, muted stories, snoozed terms, signed links. Their SQL.

A judgement is kept per (article, term): a hit is one such pair, and an
article that a term missed can be judged for it too (for recall, see
app/judged.py). Mutes and snoozes are periods [since, until); ending one early
sets its `until`, so what was held back while it lasted stays held back
(`HELD_BACK` says which hits a digest leaves out).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from datetime import datetime

from watcher.store.records import JudgedCount, MutedStory, SnoozedTerm
from watcher.store.schema import stamp
from watcher.store.sql import Sql, among

VERDICTS = ("relevant", "not_relevant", "important")  # important implies relevant

# A hit no digest should carry (hits `h`, articles `a`, the digest's time `:now`):
# judged not relevant, or found, or still waiting, while its story was muted or its
# term snoozed (the period overlaps the time from its finding to the digest).
HELD_BACK = """(
    EXISTS (SELECT 1 FROM judgements j WHERE j.article_id = h.article_id AND j.term = h.term
            AND j.verdict = 'not_relevant')
    OR EXISTS (SELECT 1 FROM story_mutes m WHERE m.cluster_id = a.cluster_id
               AND m.since <= :now AND (m.until IS NULL OR m.until > h.found_at))
    OR EXISTS (SELECT 1 FROM term_snoozes s WHERE s.term = h.term
               AND s.since <= :now AND s.until > h.found_at)
)"""

# What the hit read model shows of its marks (hits `h`, articles `a`): read, verdict,
# and whether it was found while its story was muted or its term snoozed.
HIT_MARKS = """
    EXISTS (SELECT 1 FROM hit_reads r WHERE r.hit_id = h.id),
    (SELECT j.verdict FROM judgements j WHERE j.article_id = h.article_id AND j.term = h.term),
    EXISTS (SELECT 1 FROM story_mutes m WHERE m.cluster_id = a.cluster_id
            AND m.since <= h.found_at AND (m.until IS NULL OR m.until > h.found_at)),
    EXISTS (SELECT 1 FROM term_snoozes s WHERE s.term = h.term
            AND s.since <= h.found_at AND s.until > h.found_at)
"""


class Marks:
    """The `judgements`, `hit_reads`, `story_mutes`, `term_snoozes` and `link_keys` tables."""

    def __init__(self, db: Sql) -> None:
        self.db = db
        self._secret: bytes | None = None

    # -- what exists -----------------------------------------------------------

    def hit_pairs(self, hit_ids: Sequence[int]) -> dict[int, tuple[int, str]]:
        """(article id, term) of each of these hits that exists, by hit id."""
        if not hit_ids:
            return {}
        rows = self.db.execute(
            f"SELECT id, article_id, term FROM hits WHERE {among('id', hit_ids)}", list(hit_ids)
        ).fetchall()
        return {row[0]: (row[1], row[2]) for row in rows}

    def article_exists(self, article_id: int) -> bool:
        row = self.db.execute("SELECT 1 FROM articles WHERE id = ?", [article_id]).fetchone()
        return row is not None

    def cluster_exists(self, cluster_id: int) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM articles WHERE cluster_id = ? LIMIT 1", [cluster_id]
        ).fetchone()
        return row is not None

    # -- judgements and reads ----------------------------------------------------

    def judge(self, article_id: int, term: str, verdict: str | None, now: datetime) -> None:
        """Keep a verdict on an (article, term), replacing any; None forgets it."""
        if verdict is None:
            self.db.execute(
                "DELETE FROM judgements WHERE article_id = ? AND term = ?", [article_id, term]
            )
            return
        self.db.execute(
            """
            INSERT INTO judgements (article_id, term, verdict, judged_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (article_id, term) DO UPDATE SET verdict = excluded.verdict,
                judged_at = excluded.judged_at
            """,
            [article_id, term, verdict, stamp(now)],
        )

    def verdict(self, article_id: int, term: str) -> str | None:
        row = self.db.execute(
            "SELECT verdict FROM judgements WHERE article_id = ? AND term = ?", [article_id, term]
        ).fetchone()
        return row[0] if row else None

    def set_read(self, hit_ids: Sequence[int], read: bool, now: datetime) -> None:
        """Mark hits read (keeping when each was first read) or unread."""
        with self.db.writing():
            if read:
                self.db.executemany(
                    "INSERT INTO hit_reads (hit_id, read_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
                    [(hit_id, stamp(now)) for hit_id in hit_ids],
                )
            elif hit_ids:
                self.db.execute(
                    f"DELETE FROM hit_reads WHERE {among('hit_id', hit_ids)}", list(hit_ids)
                )

    def judged_counts(self) -> list[JudgedCount]:
        """Judgements per term, verdict, and whether the term hit the article."""
        rows = self.db.execute(
            """
            SELECT j.term, j.verdict,
                   EXISTS (SELECT 1 FROM hits h WHERE h.article_id = j.article_id
                           AND h.term = j.term) AS hit,
                   COUNT(*)
            FROM judgements j GROUP BY j.term, j.verdict, hit ORDER BY j.term, j.verdict, hit
            """
        ).fetchall()
        return [JudgedCount(row[0], row[1], bool(row[2]), row[3]) for row in rows]

    # -- mutes and snoozes -------------------------------------------------------

    def mute(self, cluster_id: int, now: datetime, until: datetime | None) -> None:
        """Mute a story from `now` until `until` (None: for ever), in place of a running mute."""
        with self.db.writing():
            self._end("story_mutes", "cluster_id", cluster_id, now)
            self.db.execute(
                "INSERT INTO story_mutes (cluster_id, since, until) VALUES (?, ?, ?)",
                [cluster_id, stamp(now), stamp(until)],
            )

    def unmute(self, cluster_id: int, now: datetime) -> int:
        """End the story's running mute at `now`; how many were running (0 or 1)."""
        with self.db.writing():
            return self._end("story_mutes", "cluster_id", cluster_id, now)

    def snooze(self, term: str, now: datetime, until: datetime) -> None:
        """Snooze a term from `now` until `until`, in place of a running snooze."""
        with self.db.writing():
            self._end("term_snoozes", "term", term, now)
            self.db.execute(
                "INSERT INTO term_snoozes (term, since, until) VALUES (?, ?, ?)",
                [term, stamp(now), stamp(until)],
            )

    def wake(self, term: str, now: datetime) -> int:
        """End the term's running snooze at `now`; how many were running (0 or 1)."""
        with self.db.writing():
            return self._end("term_snoozes", "term", term, now)

    def _end(self, table: str, column: str, value: object, now: datetime) -> int:
        """Cut the running periods of one story or term short at `now`."""
        cursor = self.db.execute(
            f"""
            UPDATE {table} SET until = :now
            WHERE {column} = :value AND since <= :now AND (until IS NULL OR until > :now)
            """,
            {"now": stamp(now), "value": value},
        )
        return cursor.rowcount

    def muted(self, now: datetime) -> list[MutedStory]:
        """The stories muted at `now`, most recently muted first."""
        rows = self.db.execute(
            """
            SELECT m.cluster_id, m.since, m.until,
                   (SELECT a.title FROM articles a WHERE a.cluster_id = m.cluster_id
                    ORDER BY a.first_seen_at DESC, a.id DESC LIMIT 1)
            FROM story_mutes m
            WHERE m.since <= :now AND (m.until IS NULL OR m.until > :now)
            ORDER BY m.since DESC, m.id DESC
            """,
            {"now": stamp(now)},
        ).fetchall()
        return [MutedStory(row[0], row[1], row[2], row[3] or "") for row in rows]

    def snoozed(self, now: datetime) -> list[SnoozedTerm]:
        """The terms snoozed at `now`, soonest awake first."""
        rows = self.db.execute(
            """
            SELECT term, since, until FROM term_snoozes
            WHERE since <= :now AND until > :now ORDER BY until, term
            """,
            {"now": stamp(now)},
        ).fetchall()
        return [SnoozedTerm(*row) for row in rows]

    # -- signed links ------------------------------------------------------------

    def sign(self, hit_id: int, action: str) -> str:
        """The signature of one action on one hit: HMAC-SHA256 with the database's key,
        cut to 128 bits (32 hex digits), enough against guessing and short in a URL."""
        message = f"{hit_id}:{action}".encode()
        return hmac.new(self._key_made(), message, hashlib.sha256).hexdigest()[:32]

    def verify(self, hit_id: int, action: str, signature: str) -> bool:
        """Whether `signature` is the one `sign` gives this action on this hit."""
        if self._key() is None:  # nothing was ever signed here
            return False
        given = signature.encode("utf-8", "replace")
        return hmac.compare_digest(self.sign(hit_id, action).encode(), given)

    def _key(self) -> bytes | None:
        """The database's link key (None before anything was signed)."""
        if self._secret is None:
            row = self.db.execute("SELECT secret FROM link_keys WHERE id = 1").fetchone()
            if row is not None:
                self._secret = bytes.fromhex(row[0])
        return self._secret

    def _key_made(self) -> bytes:
        """The link key, made at its first use rather than by the migration, so that
        `watcher db copy` carries a database's key along with its links."""
        key = self._key()
        if key is None:
            self.db.execute(
                "INSERT INTO link_keys (id, secret) VALUES (1, ?) ON CONFLICT DO NOTHING",
                [secrets.token_hex(32)],
            )
            key = self._key()
        if key is None:  # pragma: no cover - the row was just written
            raise RuntimeError("the link key could not be stored")
        return key
