"""The full-text index of every stored article: its SQL.

`articles_fts` is contentless (see schema.m007_search): SQLite keeps only the
index, so removing an article from it takes the words it was indexed with,
which `index_text` recomputes from the article's stored title and text. The
store calls `add` when it inserts an article, `replace` when it updates one
and `remove` before it deletes some, all in the same transaction; `rebuild`
recreates the index from `articles` should it ever drift.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Protocol

from watcher.errors import QueryError, StoreError
from watcher.match import index_text
from watcher.store.records import Candidate
from watcher.store.schema import stamp
from watcher.store.sql import Sql

REBUILD_BATCH = 1000
RANKED = 5000  # a search ranks the newest this many articles its words match


class Indexing(Protocol):
    """What the writers of articles need of the search index, on either backend: each
    change to an article's title or text goes to the index in the same transaction."""

    def add(self, article_id: int, title: str, text: str) -> None: ...

    def replace(self, article_id: int, old: tuple[str, str], new: tuple[str, str]) -> None: ...

    def remove(self, articles: Iterable[tuple[int, str, str]]) -> None: ...


class FullText:
    """Keeps `articles_fts` in step with `articles` and ranks articles for a search."""

    def __init__(self, db: Sql) -> None:
        self.db = db

    def add(self, article_id: int, title: str, text: str) -> None:
        self.db.execute(
            "INSERT INTO articles_fts (rowid, title, text) VALUES (?, ?, ?)",
            [article_id, index_text(title), index_text(text)],
        )

    def replace(self, article_id: int, old: tuple[str, str], new: tuple[str, str]) -> None:
        """Re-index an article whose title or text changed from `old` to `new`."""
        if old == new:
            return
        self.remove([(article_id, *old)])
        self.add(article_id, *new)

    def remove(self, articles: Iterable[tuple[int, str, str]]) -> None:
        """Take (id, title, text) articles out of the index, as they were indexed."""
        self.db.executemany(
            "INSERT INTO articles_fts (articles_fts, rowid, title, text)"
            " VALUES ('delete', ?, ?, ?)",
            [(id_, index_text(title), index_text(text)) for id_, title, text in articles],
        )

    def ranked(
        self,
        expression: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        feeds: Sequence[str] = (),
        offset: int = 0,
        limit: int = 100,
    ) -> list[Candidate]:
        """Articles whose index matches an FTS5 `expression`, best first.

        Only the newest `RANKED` matches are ranked: bm25 scores every match it
        is given, so a common word would otherwise cost ~1.5 µs for each of
        hundreds of thousands of articles (bench/README.md). `since` and
        `until` narrow the index scan by article id, which grows with
        `first_seen_at`, then filter exactly.
        """
        inner = ["articles_fts MATCH :expression"]
        params: dict[str, object] = {"expression": expression, "ranked": RANKED}
        for name, moment, operator in (("low", since, ">="), ("high", until, "<")):
            if moment is not None:
                first = self._first_id(moment)
                if first is None and operator == ">=":
                    return []  # nothing stored since then
                if first is not None:
                    inner.append(f"rowid {operator} :{name}")
                    params[name] = first
        if feeds:
            names = {f"feed{index}": feed for index, feed in enumerate(feeds)}
            inner.append(
                "EXISTS (SELECT 1 FROM article_feeds af WHERE af.article_id = articles_fts.rowid"
                f" AND af.feed IN ({', '.join(':' + name for name in names)}))"
            )
            params.update(names)
        outer = ["1"]
        if since is not None:
            outer.append("a.first_seen_at >= :since")
            params["since"] = stamp(since)
        if until is not None:
            outer.append("a.first_seen_at < :until")
            params["until"] = stamp(until)
        params.update({"limit": limit, "offset": offset})
        sql = f"""
            SELECT f.rowid, f.score FROM (
                SELECT rowid, rank AS score FROM articles_fts WHERE {" AND ".join(inner)}
                ORDER BY rowid DESC LIMIT :ranked
            ) f JOIN articles a ON a.id = f.rowid
            WHERE {" AND ".join(outer)}
            ORDER BY f.score LIMIT :limit OFFSET :offset
        """
        try:
            rows = self.db.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            raise QueryError(f"search index rejected {expression!r}: {exc}") from None
        return [Candidate(article_id, rank) for article_id, rank in rows]

    def _first_id(self, moment: datetime) -> int | None:
        """The id of the first article stored at or after `moment`."""
        row = self.db.execute(
            "SELECT id FROM articles WHERE first_seen_at >= ? ORDER BY first_seen_at LIMIT 1",
            [stamp(moment)],
        ).fetchone()
        return None if row is None else int(row[0])

    def rebuild(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Index every stored article afresh; returns how many. `progress(done, total)`."""
        total = int(self.db.execute("SELECT COUNT(*) FROM articles").fetchone()[0])
        done = 0
        with self.db.writing():
            self.db.execute("INSERT INTO articles_fts (articles_fts) VALUES ('delete-all')")
            rows = self.db.execute("SELECT id, title, text FROM articles")
            while batch := rows.fetchmany(REBUILD_BATCH):
                for article_id, title, text in batch:
                    self.add(article_id, title, text)
                done += len(batch)
                if progress is not None:
                    progress(done, total)
        return done

    def check(self) -> None:
        """Raise `StoreError` when the index is damaged (then `rebuild` it)."""
        try:
            self.db.execute(
                "INSERT INTO articles_fts (articles_fts, rank) VALUES ('integrity-check', 0)"
            )
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"the search index is damaged ({exc}); rebuild it") from None
