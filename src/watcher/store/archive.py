"""Reading the stored hits and articles: filters, one article, counts per term.

What `watcher hits`, `show`, `search`, `stats` and `export` and the digests
ask of the database. Writing stays in database.py and outbox.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any

from watcher.models import Hit
from watcher.store.marks import HIT_MARKS
from watcher.store.records import HitQuery, StoredArticle, TermCount
from watcher.store.schema import stamp
from watcher.store.sql import Sql, among

_ORDER = {
    "found": "h.found_at DESC, h.id DESC",
    "published": "COALESCE(a.published, h.found_at) DESC, h.id DESC",
    "score": "h.score DESC, h.found_at DESC, h.id DESC",
    "oldest": "h.found_at, h.id",  # exports read in time order
}


def _hit_columns(db: Sql) -> str:
    """The columns of a `Hit` (`_hit`), from hits `h` and their articles `a`."""
    return (
        f"""
    h.id, h.term, a.url, a.title, a.published, a.feed, h.snippet, h.score, h.found_at, a.source,
    a.cluster_id,
    (SELECT COUNT(DISTINCT af.feed) FROM articles c JOIN article_feeds af ON af.article_id = c.id
        WHERE c.cluster_id = a.cluster_id),
    h.clauses, h.highlights,
    (SELECT {db.json_array("DISTINCT af.feed")} FROM articles c
        JOIN article_feeds af ON af.article_id = c.id WHERE c.cluster_id = a.cluster_id),
"""
        + HIT_MARKS
    )


EXPORT_BATCH = 1000
EVERY_HIT = HitQuery()


def _hit(row: Sequence[Any], text: str | None = None) -> Hit:
    return Hit(  # type: ignore[misc]
        *row[:12],
        clauses=json.loads(row[12]),
        highlights=json.loads(row[13]),
        text=text,
        outlet_names=tuple(sorted(json.loads(row[14] or "[]"))),
        read=bool(row[15]),
        verdict=row[16],
        muted=bool(row[17]),
        snoozed=bool(row[18]),
    )


class Archive:
    """The read side of articles and hits."""

    def __init__(self, db: Sql) -> None:
        self.db = db
        self._columns = _hit_columns(db)

    def hits(
        self,
        query: HitQuery = EVERY_HIT,
        *,
        ids: Sequence[int] | None = None,
        digest: str | None = None,
    ) -> list[Hit]:
        """Stored hits matching `query`; `ids` picks hits by id, `digest` one digest's hits."""
        return list(self.iter_hits(query, ids=ids, digest=digest))

    def iter_hits(
        self,
        query: HitQuery = EVERY_HIT,
        *,
        ids: Sequence[int] | None = None,
        digest: str | None = None,
        with_text: bool = False,
    ) -> Iterator[Hit]:
        """Like `hits`, read in batches, so an export of every hit holds few in memory.

        `with_text` adds each article's whole text.
        """
        where, params = _filters(query)
        if ids is not None:
            where.append(among("h.id", ids))
            params.extend(ids)
        if digest is not None:
            where.append("h.id IN (SELECT hit_id FROM digest_hits WHERE digest_id = ?)")
            params.append(digest)
        sql = f"""
            SELECT {self._columns}{", a.text" if with_text else ""}
            FROM hits h JOIN articles a ON a.id = h.article_id
            {"WHERE " + " AND ".join(where) if where else ""}
            ORDER BY {_ORDER[query.sort]}
        """
        if query.limit is not None:
            sql += " LIMIT ?"
            params.append(query.limit)
        cursor = self.db.execute(sql, params)
        while batch := cursor.fetchmany(EXPORT_BATCH):
            yield from (_hit(row, row[19] if with_text else None) for row in batch)

    def article_of_hit(self, hit_id: int) -> StoredArticle | None:
        """The article a hit was found in, with all its feeds and hits; None if no such hit."""
        row = self.db.execute("SELECT article_id FROM hits WHERE id = ?", [hit_id]).fetchone()
        return self.article(row[0]) if row else None

    def article(self, article_id: int) -> StoredArticle | None:
        found = self.articles([article_id])
        return found[0] if found else None

    def articles(self, ids: Sequence[int]) -> list[StoredArticle]:
        """Stored articles by id, in the order given, each with its feeds and hits."""
        if not ids:
            return []
        rows = self.db.execute(
            f"""
            SELECT id, url, title, text, source, feed, published, first_seen_at, author,
                   language, note
            FROM articles WHERE {among("id", ids)}
            """,
            list(ids),
        ).fetchall()
        feeds: dict[int, list[str]] = {}
        # The feed whose poll stored the article comes first, as `hits` shows it
        # (articles.feed); two feeds that saw it in the same second tie otherwise.
        for article_id, feed in self.db.execute(
            f"""
            SELECT af.article_id, af.feed FROM article_feeds af JOIN articles a
                ON a.id = af.article_id
            WHERE {among("af.article_id", ids)}
            ORDER BY af.feed != a.feed, af.first_seen_at, af.feed
            """,
            list(ids),
        ).fetchall():
            feeds.setdefault(article_id, []).append(feed)
        hits: dict[int, list[Hit]] = {}
        for row in self.db.execute(
            f"""
            SELECT h.article_id, {self._columns} FROM hits h JOIN articles a ON a.id = h.article_id
            WHERE {among("h.article_id", ids)} ORDER BY h.score DESC, h.id
            """,
            list(ids),
        ).fetchall():
            hits.setdefault(row[0], []).append(_hit(row[1:]))
        by_id = {
            row[0]: StoredArticle(
                id=row[0],
                url=row[1],
                title=row[2],
                text=row[3],
                source=row[4],
                feed=row[5],
                published=row[6],
                first_seen_at=row[7],
                author=row[8],
                language=row[9],
                note=row[10],
                feeds=tuple(feeds.get(row[0], ())),
                hits=tuple(hits.get(row[0], ())),
            )
            for row in rows
        }
        return [by_id[article_id] for article_id in ids if article_id in by_id]

    def stats(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        terms: Sequence[str] = (),
        by: str = "day",
    ) -> list[TermCount]:
        """Hits found per term per day or week (weeks from Monday, UTC), oldest period first."""
        if by == "week":
            return self._weekly(since, until, terms)
        where, params = _filters(HitQuery(terms=tuple(terms), since=since, until=until))
        rows = self.db.execute(
            f"""
            SELECT substr(h.found_at, 1, 10) AS day, h.term, COUNT(*) FROM hits h
            {"WHERE " + " AND ".join(where) if where else ""}
            GROUP BY day, h.term ORDER BY day, h.term
            """,
            params,
        ).fetchall()
        return [TermCount(*row) for row in rows]

    def _weekly(
        self, since: datetime | None, until: datetime | None, terms: Sequence[str]
    ) -> list[TermCount]:
        """Hits per week and term, each counted on the (term, found_at) index.

        Grouping every hit of half a year by its week took 60-80 ms for 50,000
        hits; these few hundred indexed counts take about 10 (bench/README.md).
        """
        # MIN and MAX in one SELECT would scan the table; each alone reads one index entry.
        first = self.db.execute("SELECT MIN(found_at) FROM hits").fetchone()[0]
        if first is None:
            return []
        last = self.db.execute("SELECT MAX(found_at) FROM hits").fetchone()[0]
        start = since or datetime.fromisoformat(first)
        end = until or datetime.fromisoformat(last) + timedelta(seconds=1)
        names = sorted(terms) if terms else self.stored_terms()
        counts = []
        week = start.date() - timedelta(days=start.weekday())
        while week <= end.date():
            monday = datetime.combine(week, time(), tzinfo=UTC)
            low, high = stamp(max(start, monday)), stamp(min(end, monday + timedelta(weeks=1)))
            for term in names:
                found = self.db.execute(
                    "SELECT COUNT(*) FROM hits WHERE term = ? AND found_at >= ? AND found_at < ?",
                    [term, low, high],
                ).fetchone()[0]
                if found:
                    counts.append(TermCount(week.isoformat(), term, found))
            week += timedelta(weeks=1)
        return counts

    def stored_terms(self) -> list[str]:
        """Every term name that has hits (terms since removed from the config included)."""
        return [row[0] for row in self.db.execute("SELECT DISTINCT term FROM hits ORDER BY term")]

    def stored_feeds(self) -> list[str]:
        """Every feed name the database knows (feeds since removed from the config included)."""
        return [row[0] for row in self.db.execute("SELECT name FROM feeds ORDER BY name")]


def _filters(query: HitQuery) -> tuple[list[str], list[Any]]:
    """WHERE clauses and their parameters for a query's filters (hits `h`, articles `a`)."""
    where: list[str] = []
    params: list[Any] = []
    if query.terms:
        where.append(among("h.term", query.terms))
        params.extend(query.terms)
    if query.feeds:
        where.append(
            "EXISTS (SELECT 1 FROM article_feeds af WHERE af.article_id = h.article_id"
            f" AND {among('af.feed', query.feeds)})"
        )
        params.extend(query.feeds)
    if query.since is not None:
        where.append("h.found_at >= ?")
        params.append(stamp(query.since))
    if query.until is not None:
        where.append("h.found_at < ?")
        params.append(stamp(query.until))
    if query.min_score is not None:
        where.append("h.score >= ?")
        params.append(query.min_score)
    if query.delivered is not None:
        where.append(
            ("" if query.delivered else "NOT ")
            + "EXISTS (SELECT 1 FROM digest_hits dh JOIN digests d ON d.id = dh.digest_id"
            " WHERE dh.hit_id = h.id AND d.status = 'sent')"
        )
    if query.read is not None:
        where.append(
            ("" if query.read else "NOT ")
            + "EXISTS (SELECT 1 FROM hit_reads r WHERE r.hit_id = h.id)"
        )
    judged = (
        "EXISTS (SELECT 1 FROM judgements j WHERE j.article_id = h.article_id AND j.term = h.term"
    )
    if query.judged is not None:
        where.append(("" if query.judged else "NOT ") + judged + ")")
    if query.verdicts:
        where.append(f"{judged} AND {among('j.verdict', query.verdicts)})")
        params.extend(query.verdicts)
    return where, params
