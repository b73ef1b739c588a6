"""Search on PostgreSQL: the words of every article, and the candidates of a search.

SQLite's index is FTS5 (store/fulltext.py); PostgreSQL has none that splits
words as the matcher does, so the store keeps the words itself.

`article_words` holds each article's distinct words as the matcher's tokenizer
writes them (`match.index_text`: folded, each Han or kana character a word),
so a query's words find what SQLite's index finds, CJK and Devanagari
included. A search arrives as the FTS5 expression app/search.py makes for
SQLite; here it is read as the words it needs (a phrase needs each of its
words, NEAR both sides, a field any place) and gives the articles holding
them: at least every article the query matches. The matcher then decides, as
on SQLite, so snippets and scores are the same. Candidates come newest first
(SQLite ranks its newest matches by bm25): each has rank 0.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from watcher.errors import QueryError
from watcher.match import index_text
from watcher.store.records import Candidate
from watcher.store.schema import stamp
from watcher.store.sql import Sql, among

REBUILD_BATCH = 1000
_TOKEN = re.compile(r'\s*("(?:[^"]|"")*"|\{[^}]*\}|\(|\)|,|:|\*|[^\s"(),:*{}]+)')


@dataclass(frozen=True)
class _Word:
    word: str
    prefix: bool


@dataclass(frozen=True)
class _All:
    parts: tuple[_Need, ...]


@dataclass(frozen=True)
class _Any:
    parts: tuple[_Need, ...]


_Need = _Word | _All | _Any


class _Reader:
    """The words an FTS5 expression of app/search.py's `to_fts` needs, as a tree."""

    def __init__(self, expression: str) -> None:
        self.expression = expression
        self.tokens = _tokens(expression)
        self.at = 0

    def fail(self) -> QueryError:
        return QueryError(f"search expression {self.expression!r} cannot be read")

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, wanted: str | None = None) -> str:
        token = self.peek()
        if token is None or (wanted is not None and token != wanted):
            raise self.fail()
        self.at += 1
        return token

    def whole(self) -> _Need:
        need = self.any_of()
        if self.peek() is not None:
            raise self.fail()
        return need

    def any_of(self) -> _Need:
        parts = [self.all_of()]
        while self.peek() == "OR":
            self.take()
            parts.append(self.all_of())
        return parts[0] if len(parts) == 1 else _Any(tuple(parts))

    def all_of(self) -> _Need:
        parts = [self.unit()]
        while self.peek() == "AND":
            self.take()
            parts.append(self.unit())
        return parts[0] if len(parts) == 1 else _All(tuple(parts))

    def unit(self) -> _Need:
        token = self.peek()
        if token == "(":
            self.take()
            need = self.any_of()
            self.take(")")
            return need
        if token is not None and token.startswith("{"):  # a field: its words, in any field
            self.take()
            self.take(":")
            return self.unit()
        if token == "NEAR":
            self.take()
            self.take("(")
            parts = []
            while self.peek() not in (",", None):
                parts.append(self.unit())
            self.take(",")
            self.take()  # the distance: the matcher checks it
            self.take(")")
            return _All(tuple(parts))
        if token is not None and token.startswith('"'):
            return self.phrase()
        raise self.fail()

    def phrase(self) -> _Need:
        words = self.take()[1:-1].replace('""', '"').split()
        prefix = self.peek() == "*"
        if prefix:
            self.take()
        needs = [
            _Word(word, prefix and index == len(words) - 1) for index, word in enumerate(words)
        ]
        if not needs:
            raise self.fail()
        return needs[0] if len(needs) == 1 else _All(tuple(needs))


def _tokens(expression: str) -> list[str]:
    tokens, at = [], 0
    while at < len(expression.rstrip()):
        found = _TOKEN.match(expression, at)
        if found is None:
            raise QueryError(f"search expression {expression!r} cannot be read")
        tokens.append(found.group(1))
        at = found.end()
    return tokens


def _condition(need: _Need, params: list[object]) -> str:
    """SQL true for an article `a` holding the words `need` asks for."""
    if isinstance(need, _Word):
        if need.prefix:
            escaped = need.word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params.append(escaped + "%")
            test = "w.word LIKE ?"
        else:
            params.append(need.word)
            test = "w.word = ?"
        return f"a.id IN (SELECT w.article_id FROM article_words w WHERE {test})"
    joiner = " AND " if isinstance(need, _All) else " OR "
    return "(" + joiner.join(_condition(part, params) for part in need.parts) + ")"


class FullText:
    """Keeps `article_words` in step with `articles` and finds a search's candidates."""

    def __init__(self, db: Sql) -> None:
        self.db = db

    def add(self, article_id: int, title: str, text: str) -> None:
        words = sorted(set(index_text(title).split()) | set(index_text(text).split()))
        # One statement of an array, not one row a statement: far less of the client's CPU
        # and of the server's time, under the save's cluster lock (bench/README.md, issue 20).
        self.db.execute(
            "INSERT INTO article_words (word, article_id) SELECT unnest(?::text[]), ?"
            " ON CONFLICT DO NOTHING",
            [words, article_id],
        )

    def replace(self, article_id: int, old: tuple[str, str], new: tuple[str, str]) -> None:
        """Re-index an article whose title or text changed from `old` to `new`."""
        if old == new:
            return
        self.db.execute("DELETE FROM article_words WHERE article_id = ?", [article_id])
        self.add(article_id, *new)

    def remove(self, articles: Iterable[tuple[int, str, str]]) -> None:
        """Nothing: an article's words go with its row (ON DELETE CASCADE)."""

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
        """Articles holding the words an FTS5 `expression` needs, newest first."""
        params: list[object] = []
        where = [_condition(_Reader(expression).whole(), params)]
        if since is not None:
            where.append("a.first_seen_at >= ?")
            params.append(stamp(since))
        if until is not None:
            where.append("a.first_seen_at < ?")
            params.append(stamp(until))
        if feeds:
            where.append(
                "EXISTS (SELECT 1 FROM article_feeds af WHERE af.article_id = a.id"
                f" AND {among('af.feed', feeds)})"
            )
            params.extend(feeds)
        rows = self.db.execute(
            f"SELECT a.id FROM articles a WHERE {' AND '.join(where)}"
            " ORDER BY a.id DESC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        ).fetchall()
        return [Candidate(article_id, 0.0) for (article_id,) in rows]

    def rebuild(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Index every stored article afresh; returns how many. `progress(done, total)`."""
        total = int(self.db.execute("SELECT COUNT(*) FROM articles").fetchone()[0])
        done, after = 0, 0
        with self.db.writing():
            self.db.execute("DELETE FROM article_words")
            while True:
                batch = self.db.execute(
                    "SELECT id, title, text FROM articles WHERE id > ? ORDER BY id LIMIT ?",
                    [after, REBUILD_BATCH],
                ).fetchall()
                if not batch:
                    break
                for article_id, title, text in batch:
                    self.add(article_id, title, text)
                after = batch[-1][0]
                done += len(batch)
                if progress is not None:
                    progress(done, total)
        return done

    def check(self) -> None:
        """Nothing to check: the words are rows of an ordinary table."""
