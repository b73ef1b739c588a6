"""Articles and their hits: finding an entry's stored article, saving a feed's new and
updated articles with their hits, and which feeds carry each. Their SQL.

An article saved new joins a story cluster (copies of one story from several
outlets): the store offers the recent articles sharing a band of its SimHash,
and the rule the caller passes (`StoryRule`, from `watcher.match.cluster`)
picks among them. The search index (`fulltext.py`) is kept in the same
transaction.

Watchers sharing a PostgreSQL database may read the same entry at the same
moment. The article's unique `key` and `url` and the hits' unique (article,
term) decide, with `INSERT ... ON CONFLICT`: the second insert finds the
first's row instead of a second one, and a hit is stored once. A save holds
one lock (`CLUSTER_LOCK`) from its start to its commit, so the copies a new
article is compared with for its story cluster include every committed copy,
whichever process stored it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from watcher.models import Entry
from watcher.store.fulltext import Indexing
from watcher.store.records import ArticleToStore, StoredEntry, StoryRule
from watcher.store.schema import stamp
from watcher.store.sql import Sql, among

log = logging.getLogger(__name__)

# Headlines run to a few hundred characters; a feed's megabyte "title" is cut
# here, so no reader of the database pays for it again (issue 17, item 3).
MAX_TITLE_CHARS = 1000
# Lock key (`Sql.hold`) serialising story clustering ("clusters" in ASCII).
CLUSTER_LOCK = 0x636C7573746572


def _signed(value: int) -> int:
    """A 64-bit fingerprint as SQLite's signed INTEGER (and PostgreSQL's BIGINT) holds it."""
    return value - (1 << 64) if value >= 1 << 63 else value


class Articles:
    """The `articles`, `article_feeds`, `article_bands` and `hits` tables."""

    def __init__(self, db: Sql, fulltext: Indexing) -> None:
        self.db = db
        self.fulltext = fulltext

    def lookup(self, feed: str, entry: Entry) -> StoredEntry | None:
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
        return StoredEntry(article_id=row[0], fingerprint=row[1]) if row else None

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

    def save(
        self, feed: str, articles: Sequence[ArticleToStore], now: datetime, stories: StoryRule
    ) -> list[int | None]:
        """Store one feed's new or updated articles, each in a savepoint of its own.

        An article the database refuses (a constraint, text it cannot encode) is
        rolled back alone and reported as None; the others are kept. They are
        committed together, one commit for a feed's articles instead of one each:
        the search index writes a segment at every commit (0.42 ms an article
        alone, 0.17 in a batch of 20). Returns the new hits of each. A fault of
        the database itself (locked, full, read-only) stores none of them. A new
        article joins the story cluster `stories` picks among its recent copies.
        """
        saved: list[int | None] = []
        with self.db.writing():
            if articles:
                # The clustering lock first, before any row: taken after an insert, it closed
                # a cycle with another process that held it and inserted the same article (a
                # story on two feeds polled at once), which PostgreSQL broke as a deadlock.
                self.db.hold(CLUSTER_LOCK)
            for item in articles:
                try:
                    with self.db.savepoint():
                        saved.append(self._save(feed, item, now, stories))
                except self.db.refused as exc:
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
            article.title,
            article.text,
            article.source,
            article.note,
            article.author,
            article.language,
            stamp(article.published),
            found,
        ]
        indexed = (article.title or "", article.text or "")
        known = self.lookup(feed, entry)
        article_id = None
        if known is None:
            # Another process may insert the same article meanwhile: its row wins.
            article_id = self.db.insert(
                """
                INSERT INTO articles (title, text, source, note, author, language, published,
                                      changed_at, key, url, feed, first_seen_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT DO NOTHING
                """,
                [*values, entry.key, entry.url, feed, found],
            )
            if article_id is not None:
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
                "SELECT title, text FROM articles WHERE id = ?", [article_id]
            ).fetchone()
            if old is not None:
                self.fulltext.replace(article_id, (old[0], old[1]), indexed)
            self.db.execute(
                """
                UPDATE articles SET title = ?, text = ?, source = ?, note = ?, author = ?,
                    language = ?, published = COALESCE(?, published), changed_at = ?
                WHERE id = ?
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
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (article_id, term) DO NOTHING
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
        if fingerprint is not None and keys:  # under `save`'s CLUSTER_LOCK
            rows = self.db.execute(
                f"""
                SELECT DISTINCT a.id, a.simhash, a.cluster_id FROM article_bands b
                JOIN articles a {self.db.indexed_by("articles_fingerprint")}
                    ON a.id = b.article_id
                WHERE {among("b.band", keys)} AND a.first_seen_at >= ?
                """,
                [*keys, stamp(now - stories.window)],
            ).fetchall()
            copies = [(other & (1 << 64) - 1, other_cluster) for _, other, other_cluster in rows]
            chosen = stories.closest(fingerprint, copies)
            if chosen is not None:
                cluster_id = chosen
            self.db.executemany(
                "INSERT INTO article_bands (band, article_id) VALUES (?, ?)",
                [(key, article_id) for key in keys],
            )
        self.db.execute(
            "UPDATE articles SET simhash = ?, cluster_id = ? WHERE id = ?",
            [None if fingerprint is None else _signed(fingerprint), cluster_id, article_id],
        )
