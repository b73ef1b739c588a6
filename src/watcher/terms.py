"""Watch-terms: compiled queries, and where they match an article.

`Matcher` holds many terms and looks at an article once: an Aho-Corasick
automaton of each term's anchor words picks the few terms that could match
(`watcher.anchors`; cost grows with the text, not with the number of terms),
and only those are evaluated, by searching the folded text for their words
where they are (`FoldedWords`) rather than splitting the article into words.
Evaluating a query gives the spans where its parts match (`watcher.spans`),
which NEAR compares (`watcher.near`). Each `Match` explains itself: the
query clauses that matched, a snippet and the matched spans within it, and a
score.

Where the time goes, and what was measured, is in bench/README.md
(match_bench.py, issue 3).
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from watcher.anchors import Anchors, anchors_of, holds
from watcher.folded import FoldedWords, fold_in_place
from watcher.models import Match
from watcher.near import Windows, around, pairs
from watcher.query import AllOf, AnyOf, Field, Leaf, Near, Node, Not, parse
from watcher.snippets import merged, snippet
from watcher.spans import FOUND, NOT_FOUND, TEXT, TITLE, Fields, Found, Span
from watcher.words import Words

TITLE_WEIGHT = 3.0  # a match in the headline says more than one deep in the text
_FIELD_IDS = {"title": TITLE, "text": TEXT}


@dataclass(frozen=True)
class Term:
    """A named watch-term with its parsed query."""

    name: str
    query: str
    tree: Node
    anchors: tuple[Leaf, ...]  # any match contains at least one of these


def compile_term(name: str, query: str) -> Term:
    """Parse `query` into a `Term`; raise `QueryError` naming the position of a mistake."""
    tree = parse(query)
    return Term(name=name, query=query, tree=tree, anchors=tuple(anchors_of(tree)))


def _words(text: str) -> FoldedWords | Words:
    """A title or text ready for finding query words: folded in place, or else split."""
    folded = fold_in_place(text)
    return Words(text) if folded is None else FoldedWords(text, folded)


class _Article:
    """An article's title and text ready for matching, and what the automaton found in them."""

    __slots__ = ("_nowhere", "_seen", "fields", "folded", "hits", "scanned")

    def __init__(self, title: str, text: str) -> None:
        self.fields: Fields = (_words(title), _words(text))
        self.folded = f"{self.fields[TITLE].folded_text}\n{self.fields[TEXT].folded_text}"
        self.scanned: frozenset[str] = frozenset()  # words the automaton looked for in `folded`
        self.hits: defaultdict[str, list[int]] = defaultdict(list)  # and where in `folded`
        self._nowhere: Places = (  # the places of a word not found: none, or unknown
            _NOWHERE if isinstance(self.fields[TITLE], FoldedWords) else None,
            _NOWHERE if isinstance(self.fields[TEXT], FoldedWords) else None,
        )
        self._seen: dict[str, Places] = {}

    def places(self, word: str) -> Places:
        """Where `word` occurs in the title and in the text, if the automaton has found out
        (for fields folded in place): at least every place where a word starts so."""
        if word not in self.scanned:
            return _UNKNOWN
        known = self._seen.get(word)
        if known is None:  # sorted out only for words a term asks for
            known = self._seen[word] = self._split(self.hits.get(word))
        return known

    def _split(self, starts: list[int] | None) -> Places:
        """Places in `folded` (in order) as places in the title and in the text."""
        if not starts:
            return self._nowhere
        nowhere_in_title, nowhere_in_text = self._nowhere
        in_title = len(self.fields[TITLE].folded_text)
        cut = bisect.bisect_left(starts, in_title)
        return (
            nowhere_in_title if nowhere_in_title is None else starts[:cut] or _NOWHERE,
            nowhere_in_text
            if nowhere_in_text is None
            else [start - in_title - 1 for start in starts[cut:]] or _NOWHERE,
        )


Places = tuple[list[int] | None, list[int] | None]  # in the title and the text; None: unknown
_NOWHERE: list[int] = []  # never changed
_UNKNOWN: Places = (None, None)


def _evaluate(
    node: Node,
    article: _Article,
    fields: tuple[int, ...],
    spans: bool = True,
    within: Windows | None = None,
) -> Found:
    """Whether `node` matches in the article's `fields`, and where (unless `spans` is False).

    With `within` (for queries of words alone, see `watcher.near.around`): only places that
    start in those windows count.
    """
    if isinstance(node, Leaf):
        words, first = node.words, node.words[0]
        if not spans:
            for f in fields:
                if article.fields[f].exists(words, node.exact, node.prefix):
                    return FOUND
            return NOT_FOUND
        places, known = [], article.places(first)
        for f in fields:
            starts = known[f]
            if starts is _NOWHERE:
                continue  # the automaton found no word starting so
            if within is None:
                found = article.fields[f].find(words, node.exact, node.prefix, starts)
            elif within[f]:
                found = article.fields[f].find(words, node.exact, node.prefix, starts, within[f])
            else:
                continue  # nowhere to look
            for start, end in found:
                places.append(Span(f, start, end, node.source, len(words)))
        return Found(True, places) if places else NOT_FOUND
    if isinstance(node, AnyOf):
        if not spans:
            for part in node.parts:
                if _evaluate(part, article, fields, False).ok:
                    return FOUND
            return NOT_FOUND
        ok, places, closeness = False, [], 0.0
        for part in node.parts:
            result = _evaluate(part, article, fields, True, within)
            if result.ok:
                ok = True
                places += result.spans
                closeness += result.closeness
        return Found(True, places, closeness) if ok else NOT_FOUND
    if isinstance(node, Not):
        # Only whether the part occurs matters: finding its first place is enough.
        return NOT_FOUND if _evaluate(node.part, article, fields, False).ok else FOUND
    if isinstance(node, AllOf):
        # Exclusions first: whether their words occur at all is cheaper to
        # find out than every place of the rest, and they add no places.
        for part in node.parts:
            if isinstance(part, Not) and not _evaluate(part, article, fields, spans).ok:
                return NOT_FOUND
        found_parts = []
        for part in node.parts:
            if isinstance(part, Not):
                continue
            result = _evaluate(part, article, fields, spans)
            if not result.ok:
                return NOT_FOUND
            found_parts.append(result)
        return Found(
            True,
            [s for f in found_parts for s in f.spans],
            sum(f.closeness for f in found_parts),
        )
    if isinstance(node, Field):
        return _evaluate(node.part, article, (_FIELD_IDS[node.name],), spans, within)
    return _near(node, article, fields)


def _near(node: Near, article: _Article, fields: tuple[int, ...]) -> Found:
    left = _evaluate(node.left, article, fields)
    if not left.ok:
        return NOT_FOUND
    right = _evaluate(node.right, article, fields, True, around(node, left, article.fields))
    return pairs(node, left, right, article.fields) if right.ok else NOT_FOUND


class Matcher:
    """Matches many terms against articles; build it once per set of terms.

    One scan of the folded article for every term's anchor words
    (`watcher.anchors.Anchors`) picks the terms that could match; only those
    are evaluated. Cost grows with the text and with the terms that concern
    the article, not with the number of terms.
    """

    def __init__(self, terms: Iterable[Term]) -> None:
        self.terms = tuple(terms)
        self._anchors = Anchors(self.terms)

    def match(self, title: str, text: str) -> list[Match]:
        """Every term that matches the article, in the order the terms were given."""
        article = _Article(title, text)
        article.scanned = self._anchors.words
        checks = self._anchors.checks
        matches = []
        for index in self._anchors.scan(article.folded, article.hits):
            term = self.terms[index]
            check = checks.get(index)
            if check is not None and not holds(check, article.folded):
                continue
            found = _evaluate(term.tree, article, (TITLE, TEXT))
            if found.ok:
                matches.append(_explain(term, found, article))
        return matches

    def locate(self, title: str, text: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """Where the terms match in a whole article: character spans in the title and the text.

        Overlapping spans, and spans only a space or dash apart, are merged into one mark.
        """
        article = _Article(title, text)
        places: tuple[list[tuple[int, int]], list[tuple[int, int]]] = ([], [])
        for term in self.terms:
            found = _evaluate(term.tree, article, (TITLE, TEXT))
            if found.ok:
                for span in found.spans:
                    places[span.place].append(
                        article.fields[span.place].chars(span.start, span.end)
                    )
        return merged(title, places[TITLE]), merged(text, places[TEXT])


def match_terms(terms: Iterable[Term], title: str, text: str) -> list[Match]:
    """The matches of `terms` in one article (build a `Matcher` to match many)."""
    return Matcher(terms).match(title, text)


def _explain(term: Term, found: Found, article: _Article) -> Match:
    """The match `found` as a `Match`: where, how often, which clauses, and a snippet."""
    if len(found.spans) == 1:
        # Most matches are one place (~7 of 8 in the benchmark's): spared the
        # set, the sort and the counting, explaining one costs ~6 against ~8 µs.
        (span,) = found.spans
        count, in_title = 1, 1 if span.place == TITLE else 0
        words = article.fields[span.place]
        places = [words.chars(span.start, span.end)]
        clauses: tuple[str, ...] = (span.clause,)
    else:
        # As sorted(set(found.spans)), the first of equal spans kept, but hashed
        # and compared as tuples in C, not by the dataclass' methods in Python.
        unique: dict[tuple[int, int, int], Span] = {}
        for s in found.spans:
            unique.setdefault((s.place, s.start, s.end), s)
        spans = [unique[key] for key in sorted(unique)]
        count, in_title = len(spans), sum(1 for s in spans if s.place == TITLE)
        where = TEXT if in_title < count else TITLE
        words = article.fields[where]
        places = [words.chars(s.start, s.end) for s in spans if s.place == where]
        clauses = tuple(dict.fromkeys(s.clause for s in spans))
    text, highlights = snippet(words.text, places)
    start, end = places[0]
    return Match(
        term=term.name,
        phrase=words.text[start:end],
        snippet=text,
        score=round(TITLE_WEIGHT * in_title + (count - in_title) + found.closeness, 2),
        count=count,
        in_title=in_title > 0,
        clauses=clauses,
        highlights=highlights,
    )
