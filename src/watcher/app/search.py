"""Full-text search over every stored article, in the watch-term query language.

A query is translated into an FTS5 expression that matches at least every
article the query matches (NOT parts and case are left to the next step,
NEAR/n keeps its distance only between plain words and phrases). The index
ranks those articles by bm25 (PostgreSQL's ranks nothing: its newest matches
are ordered by the match's score), and the query itself, run by the `Matcher`
on each candidate's words, decides and explains the match: the same semantics,
snippet and highlights as a watch-term, so a search shows what a new term
would have caught.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from watcher.errors import QueryError
from watcher.match import Matcher, compile_term, index_text
from watcher.match.query import AnyOf, Field, Leaf, Near, Node, Not
from watcher.models import Match
from watcher.store.fulltext import RANKED
from watcher.store.protocols import Storage
from watcher.store.records import StoredArticle

NEAR_SLACK = 2  # the index counts "snake_case" as two words, the matcher as one
# An index that ranks nothing (PostgreSQL's) gives its matches newest first: the newest this
# many are ordered by score, as SQLite ranks its newest RANKED by bm25. Fewer, as the matcher
# runs on each (~0.6 ms for a 1.5 kB article here: ~0.1 s for 200).
UNRANKED_POOL = 200


@dataclass(frozen=True)
class SearchResult:
    """An article a full-text search found, best first, with why it matched."""

    article_id: int
    title: str
    url: str | None
    feed: str
    published: str | None  # ISO 8601, UTC
    first_seen_at: str  # ISO 8601, UTC
    rank: float  # bm25 of the search index: lower is better
    score: float  # as a watch-term's score: 3 per title match, 1 per text match, NEAR closeness
    snippet: str
    highlights: list[list[int]] = field(default_factory=list)  # [start, end] in `snippet`
    clauses: list[str] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)  # watch-terms that hit the article


def to_fts(node: Node) -> str | None:
    """An FTS5 expression for what `node` needs present; None when it needs nothing indexable."""
    if isinstance(node, Leaf):
        words = [part for word in node.words for part in index_text(word).split()]
        if not words:
            return None
        if node.slop:  # "a b"~n: the words in any order, as close as the slop lets them
            quoted = [f'"{word}"' for word in words]
            if node.prefix:
                quoted[-1] += " *"
            return f"NEAR({' '.join(quoted)}, {node.slop + NEAR_SLACK})"
        return f'"{" ".join(words)}"' + (" *" if node.prefix else "")
    if isinstance(node, Not):
        return None  # absence is checked on the candidates
    if isinstance(node, Field):
        inner = to_fts(node.part)
        return None if inner is None else f"{{{node.name}}} : ({inner})"
    if (
        isinstance(node, Near)
        and not node.scope  # in one sentence or paragraph: both, as AND below
        and isinstance(node.left, Leaf)
        and isinstance(node.right, Leaf)
        and not (node.left.slop or node.right.slop)
    ):
        left, right = to_fts(node.left), to_fts(node.right)
        if left is not None and right is not None:
            return f"NEAR({left} {right}, {node.distance + NEAR_SLACK})"
    if isinstance(node, AnyOf):
        alternatives = [to_fts(part) for part in node.parts]
        if any(part is None for part in alternatives):
            return None
        return "(" + " OR ".join(part for part in alternatives if part) + ")"
    parts = (node.left, node.right) if isinstance(node, Near) else node.parts
    needed = [expression for expression in map(to_fts, parts) if expression is not None]
    if not needed:
        return None
    return needed[0] if len(needed) == 1 else "(" + " AND ".join(needed) + ")"


def search(
    store: Storage,
    query: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    feeds: Sequence[str] = (),
    limit: int = 20,
    aliases: Mapping[str, Node] | None = None,
) -> list[SearchResult]:
    """Stored articles first seen in [`since`, `until`) that `query` matches, best first
    (`@name` in it standing for `aliases[name]`, the config's `[aliases]`)."""
    term = compile_term("search", query, aliases)
    expression = to_fts(term.tree)
    if expression is None:
        raise QueryError(f"{query!r} has no word the search index can look up")
    matcher = Matcher([term])
    page = min(max(2 * limit, 20), 200)
    results: list[SearchResult] = []
    offset, ranked = 0, True
    while offset < RANKED:
        candidates = store.fulltext.ranked(
            expression, since=since, until=until, feeds=feeds, offset=offset, limit=page
        )
        if offset == 0 and candidates and not any(candidate.rank for candidate in candidates):
            ranked = False  # PostgreSQL's index: newest first, each candidate rank 0
        wanted = limit if ranked else max(limit, UNRANKED_POOL)
        found = store.archive.articles([candidate.article_id for candidate in candidates])
        articles = {article.id: article for article in found}
        for candidate in candidates:
            article = articles.get(candidate.article_id)  # None: pruned meanwhile
            if article is None:
                continue
            matches = matcher.match(article.title, article.text)
            if matches:
                results.append(_result(article, candidate.rank, matches[0]))
                if len(results) == wanted:
                    return _best(results, ranked, limit)
        if len(candidates) < page:
            break
        offset += page
    return _best(results, ranked, limit)


def _best(results: list[SearchResult], ranked: bool, limit: int) -> list[SearchResult]:
    """The first `limit` results: in the index's order where it ranks them, else by the
    matcher's score (3 per title match, 1 per text match, as bm25 weighs titles more),
    newest first among equals."""
    if not ranked:
        results = sorted(results, key=lambda result: -result.score)
    return results[:limit]


def _result(article: StoredArticle, rank: float, match: Match) -> SearchResult:
    return SearchResult(
        article_id=article.id,
        title=article.title,
        url=article.url,
        feed=article.feed,
        published=article.published,
        first_seen_at=article.first_seen_at,
        rank=round(rank, 3),
        score=match.score,
        snippet=match.snippet,
        highlights=[list(span) for span in match.highlights],
        clauses=list(match.clauses),
        terms=sorted({hit.term for hit in article.hits}),
    )
