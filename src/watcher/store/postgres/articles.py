"""Articles and their hits on PostgreSQL (store/articles.py's twin): several processes at once.

Two watchers may read the same entry at the same moment. The article's unique
`key` and `url` and the hits' unique (article, term) decide, with `INSERT ...
ON CONFLICT`: the second insert finds the first's row instead of a second one,
and a hit is stored once. The search index (`fulltext.py`) is kept in the
same transaction. A save holds one advisory lock (`CLUSTER_LOCK`) from its
start to its commit, so the copies a new article is compared with for its
story cluster include every committed copy, whichever process stored it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

import psycopg

from watcher.models import Entry
from watcher.store.articles import MAX_TITLE_CHARS
from watcher.store.postgres.copy import NUL, REPLACEMENT
from watcher.store.postgres.fulltext import FullText
from watcher.store.postgres.sql import Connection, stamp
from watcher.store.records import ArticleToStore, StoredEntry, StoryRule

log = logging.getLogger(__name__)

# pg_advisory_xact_lock key serialising story clustering ("clusters" in ASCII).
CLUSTER_LOCK = 0x636C7573746572


def _signed(value: int) -> int:
    """A 64-bit fingerprint as a signed BIGINT holds it (as SQLite's INTEGER)."""
    return value - (1 << 64) if value >= 1 << 63 else value


def _clean(text: str | None) -> str | None:
    """Text PostgreSQL can hold: NUL as U+FFFD (the rule of `watcher db copy`)."""
    return None if text is None else text.replace(NUL, REPLACEMENT)


class Articles:
    """The `articles`, `article_feeds`, `article_bands` and `hits` tables."""

    def __init__(self, db: Connection, fulltext: FullText) -> None:
        self.db = db
        self.fulltext = fulltext

    def lookup(self, feed: str, entry: Entry) -> StoredEntry | None:
        """The stored article this entry is (same key or same canonical URL), if any."""
        row = self.db.execute(
            """
            SELECT a.id, af.fingerprint FROM articles a
            LEFT JOIN article_feeds af ON af.article_id = a.id AND af.feed = %s
            WHERE a.key = %s OR a.url = %s
            LIMIT 1
            """,
            [feed, entry.key, entry.url],
        ).fetchone()
        return StoredEntry(article_id=row[0], fingerprint=row[1]) if row else None

    def link_feed(self, article_id: int, feed: str, fingerprint: str, now: datetime) -> None:
        """Note that `feed` carries a stored article too, or how it now describes it."""
        self.db.execute(
            """
            INSERT INTO article_feeds (article_id, feed, fingerprint, first_seen_at)
            VALUES (%s, %s, %s, %s)
            ON CONFLICT (article_id, feed) DO UPDATE SET fingerprint = excluded.fingerprint
            """,
            [article_id, feed, fingerprint, stamp(now)],
        )

    def save(
        self, feed: str, articles: Sequence[ArticleToStore], now: datetime, stories: StoryRule
    ) -> list[int | None]:
        """Store one feed's new or updated articles, each in a savepoint of its own.

        As SQLite's: an article the database refuses is rolled back alone and
        reported as None; the others are committed together. Returns the new
        hits of each.
        """
        saved: list[int | None] = []
        with self.db.transaction():
            if articles:
                # The clustering lock first, before any row: taken after an insert, it closed
                # a cycle with another process that held it and inserted the same article (a
                # story on two feeds polled at once), which PostgreSQL broke as a deadlock.
                self.db.execute("SELECT pg_advisory_xact_lock(%s)", [CLUSTER_LOCK])
            for item in articles:
                try:
                    with self.db.transaction():  # a savepoint
                        saved.append(self._save(feed, item, now, stories))
                except (psycopg.IntegrityError, psycopg.DataError, ValueError) as exc:
                    saved.append(None)
                    entry = item.entry
                    log.error("feed %r: entry %s not stored: %s: %s", feed, entry.link or entry.key,
                              type(exc).__name__, exc)  # fmt: skip
        return saved

    def _save(self, feed: str, item: ArticleToStore, now: datetime, stories: StoryRule) -> int:
        """Insert or update one article and add its new hits (inside `save`)."""
        entry, article, matches = item.entry, item.article, item.matches
        if len(article.title) > MAX_TITLE_CHARS:
            article = replace(article, title=article.title[: MAX_TITLE_CHARS - 1] + "…")
        found = stamp(now)
        values = [
            _clean(article.title),
            _clean(article.text),
            article.source,
            _clean(article.note),
            _clean(article.author),
            _clean(article.language),
            stamp(article.published),
            found,
        ]
        indexed = (_clean(article.title) or "", _clean(article.text) or "")
        known = self.lookup(feed, entry)
        article_id = None
        if known is None:
            # Another process may insert the same article meanwhile: its row wins.
            row = self.db.execute(
                """
                INSERT INTO articles (title, text, source, note, author, language, published,
                                      changed_at, key, url, feed, first_seen_at)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                ON CONFLICT DO NOTHING RETURNING id
                """,
                [*values, entry.key, entry.url, feed, found],
            ).fetchone()
            if row is not None:
                article_id = int(row[0])
                self._cluster(article_id, article.simhash, item.bands, now, stories)
                self.fulltext.add(article_id, *indexed)
            else:
                known = self.lookup(feed, entry)
                if known is None:  # the conflicting row is not visible: refuse this one
                    raise ValueError(f"entry {entry.key!r} is being stored by another process")
        if article_id is None:
            assert known is not None
            article_id = known.article_id
            old = self.db.execute(
                "SELECT title, text FROM articles WHERE id = %s", [article_id]
            ).fetchone()
            if old is not None:
                self.fulltext.replace(article_id, (old[0], old[1]), indexed)
            self.db.execute(
                """
                UPDATE articles SET title = %s, text = %s, source = %s, note = %s, author = %s,
                    language = %s, published = COALESCE(%s, published), changed_at = %s
                WHERE id = %s
                """,
                [*values, article_id],
            )
        self.link_feed(article_id, feed, item.fingerprint, now)
        added = 0
        for match in matches:
            cursor = self.db.execute(
                """
                INSERT INTO hits (article_id, term, phrase, snippet, score,
                                  found_at, clauses, highlights)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
                ON CONFLICT (article_id, term) DO NOTHING
                """,
                [
                    article_id,
                    match.term,
                    _clean(match.phrase),
                    _clean(match.snippet),
                    match.score,
                    found,
                    json.dumps(match.clauses, ensure_ascii=False),
                    json.dumps(match.highlights),
                ],
            )
            added += cursor.rowcount
        return added

    def _cluster(
        self,
        article_id: int,
        fingerprint: int | None,
        keys: Sequence[int],
        now: datetime,
        stories: StoryRule,
    ) -> None:
        """Put a new article in the cluster `stories` picks among the recent articles
        sharing one of its band `keys`, or in one of its own."""
        cluster_id = article_id
        if fingerprint is not None and keys:
            self.db.execute("SELECT pg_advisory_xact_lock(%s)", [CLUSTER_LOCK])
            rows = self.db.execute(
                """
                SELECT DISTINCT a.id, a.simhash, a.cluster_id FROM article_bands b
                JOIN articles a ON a.id = b.article_id
                WHERE b.band = ANY(%s) AND a.first_seen_at >= %s
                """,
                [list(keys), stamp(now - stories.window)],
            ).fetchall()
            copies = [(other & (1 << 64) - 1, other_cluster) for _, other, other_cluster in rows]
            chosen = stories.closest(fingerprint, copies)
            if chosen is not None:
                cluster_id = chosen
            self.db.cursor().executemany(
                "INSERT INTO article_bands (band, article_id) VALUES (%s, %s)",
                [(key, article_id) for key in keys],
            )
        self.db.execute(
            "UPDATE articles SET simhash = %s, cluster_id = %s WHERE id = %s",
            [None if fingerprint is None else _signed(fingerprint), cluster_id, article_id],
        )
