"""Watch-terms: compiled queries, and where they match an article.

`Matcher` holds many terms and looks at an article once: an Aho-Corasick
automaton of each term's anchor words picks the few terms that could match
(so cost grows with the text, not with the number of terms), and only those
are evaluated, by searching the folded text for their words where they are
(`FoldedWords`) rather than splitting the article into words. Each `Match`
explains itself: the query clauses that matched, a snippet and the matched
spans within it, and a score.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import ahocorasick

from watcher.folded import FoldedWords, fold_in_place
from watcher.models import Match
from watcher.query import (
    AllOf,
    AnyOf,
    Field,
    Leaf,
    Near,
    Node,
    Not,
    parse,
    positive,
)
from watcher.snippets import merged, snippet
from watcher.words import Words, joins

TITLE_WEIGHT = 3.0  # a match in the headline says more than one deep in the text
TITLE, TEXT = 0, 1
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
    return Term(name=name, query=query, tree=tree, anchors=tuple(_anchors(tree)))


def _anchors(node: Node) -> list[Leaf]:
    if isinstance(node, Leaf):
        return [node]
    if isinstance(node, AnyOf):
        return [leaf for part in node.parts for leaf in _anchors(part)]
    if isinstance(node, AllOf):
        choices = [_anchors(part) for part in node.parts if positive(part)]
        return min(choices, key=len)
    if isinstance(node, Near):
        return min(_anchors(node.left), _anchors(node.right), key=len)
    if isinstance(node, Field):
        return _anchors(node.part)
    return []


# Not frozen: a frozen dataclass is ~4x slower to make (1.2 against 0.3 µs),
# and articles with 1000 terms make thousands. Never changed once made.
@dataclass(order=True, unsafe_hash=True, slots=True)
class _Span:
    place: int  # TITLE or TEXT
    start: int  # position of the first word (see `FoldedWords` and `Words`)
    end: int  # position just past the last word
    clause: str = field(compare=False)
    size: int = field(compare=False)  # words


@dataclass(slots=True)
class _Found:
    ok: bool
    spans: list[_Span]
    closeness: float = 0.0  # NEAR pairs, each worth up to 1 the closer they are


_NOT_FOUND = _Found(False, [])  # never changed


def _words(text: str) -> FoldedWords | Words:
    """A title or text ready for finding query words: folded in place, or else split."""
    folded = fold_in_place(text)
    return Words(text) if folded is None else FoldedWords(text, folded)


class _Article:
    """An article's title and text ready for matching, and what the automaton found in them."""

    __slots__ = ("_seen", "fields", "folded", "hits", "scanned")

    def __init__(self, title: str, text: str) -> None:
        self.fields = (_words(title), _words(text))
        self.folded = f"{self.fields[TITLE].folded_text}\n{self.fields[TEXT].folded_text}"
        self.scanned: frozenset[str] = frozenset()  # words the automaton looked for in `folded`
        self.hits: list[tuple[str, int]] = []  # and where in `folded` it found them
        self._seen: tuple[dict[str, list[int]], dict[str, list[int]]] | None = None

    def starts(self, place: int, word: str) -> list[int] | None:
        """Where `word` occurs in a field folded in place, if the automaton has found out."""
        if word not in self.scanned or not isinstance(self.fields[place], FoldedWords):
            return None
        if self._seen is None:  # sorted out only for articles that get evaluated
            self._seen = ({}, {})
            in_title = len(self.fields[TITLE].folded_text)
            for hit, start in self.hits:
                if start < in_title:
                    self._seen[TITLE].setdefault(hit, []).append(start)
                else:
                    self._seen[TEXT].setdefault(hit, []).append(start - in_title - 1)
        return self._seen[place].get(word, [])


def _possible(node: Node, folded: str) -> bool:
    """Whether every word the query needs occurs in the `folded` text, if only inside a word.

    A cheap necessary condition (substrings, no positions): it spares the
    evaluation for articles that hold one anchor word of a term but lack
    another the term needs.
    """
    if isinstance(node, Leaf):
        return all(word in folded for word in node.words)
    if isinstance(node, AnyOf):
        return any(_possible(part, folded) for part in node.parts)
    if isinstance(node, AllOf):
        return all(_possible(part, folded) for part in node.parts)
    if isinstance(node, Near):
        return _possible(node.left, folded) and _possible(node.right, folded)
    if isinstance(node, Field):
        return _possible(node.part, folded)
    return True  # NOT: absence is decided by the full evaluation


def _evaluate(node: Node, article: _Article, fields: tuple[int, ...], spans: bool = True) -> _Found:
    """Whether `node` matches in the article's `fields`, and where (unless `spans` is False)."""
    if isinstance(node, Leaf):
        if not spans:
            present = any(
                article.fields[f].exists(node.words, node.exact, node.prefix) for f in fields
            )
            return _Found(present, [])
        size, first = len(node.words), node.words[0]
        places = [
            _Span(f, start, end, node.source, size)
            for f in fields
            for start, end in article.fields[f].find(
                node.words, node.exact, node.prefix, article.starts(f, first)
            )
        ]
        return _Found(bool(places), places)
    if isinstance(node, Field):
        return _evaluate(node.part, article, (_FIELD_IDS[node.name],), spans)
    if isinstance(node, Not):
        # Only whether the part occurs matters: finding its first place is enough.
        return _Found(not _evaluate(node.part, article, fields, spans=False).ok, [])
    if isinstance(node, AnyOf):
        if not spans:
            return _Found(any(_evaluate(p, article, fields, False).ok for p in node.parts), [])
        found = [_evaluate(part, article, fields) for part in node.parts]
        hits = [f for f in found if f.ok]
        return _Found(
            bool(hits), [s for f in hits for s in f.spans], sum(f.closeness for f in hits)
        )
    if isinstance(node, AllOf):
        found = []
        for part in node.parts:
            result = _evaluate(part, article, fields, spans)
            if not result.ok:
                return _NOT_FOUND
            found.append(result)
        return _Found(True, [s for f in found for s in f.spans], sum(f.closeness for f in found))
    return _near(node, article, fields)


def _near(node: Near, article: _Article, fields: tuple[int, ...]) -> _Found:
    left = _evaluate(node.left, article, fields)
    right = _evaluate(node.right, article, fields) if left.ok else _NOT_FOUND
    if not right.ok:
        return _NOT_FOUND
    others = sorted(right.spans)
    reach = node.distance + max(s.size for s in (*left.spans, *others)) + 1
    ordinal = _ordinals([*left.spans, *others], article, reach)
    keys = [(s.place, ordinal[s.place, s.start]) for s in others]
    longest = max(s.size for s in others)
    kept: set[_Span] = set()
    closeness = 0.0
    for one in left.spans:
        # In the order of `others`, which decides the clause a set keeps of
        # equal spans, and the order the closeness is summed in.
        for other, gap in _close(one, others, keys, ordinal, longest, node.distance):
            if other != one:
                kept.update((one, other))
                closeness += (node.distance + 1 - gap) / (node.distance + 1)
    return _Found(bool(kept), sorted(kept), closeness + left.closeness + right.closeness)


def _ordinals(spans: Iterable[_Span], article: _Article, reach: int) -> dict[tuple[int, int], int]:
    """A word number for where each span starts, so NEAR can subtract instead of count.

    Counted along each field from its first span, each step at most `reach`
    words: spans further apart than that are too far apart whatever the
    exact number. Counting the words between every pair of spans instead
    made NEAR cost the distance times the pairs: 5 s for `a NEAR/100 b` on
    85 kB of text with 5,000 of each.
    """
    ordinal: dict[tuple[int, int], int] = {}
    place_before, start_before, count = -1, 0, 0
    for place, start in sorted({(span.place, span.start) for span in spans}):
        if place != place_before:
            place_before, start_before, count = place, start, 0
        count += article.fields[place].words_between(start_before, start, reach)
        ordinal[place, start] = count
        start_before = start
    return ordinal


def _close(
    one: _Span,
    others: Sequence[_Span],
    keys: list[tuple[int, int]],
    ordinal: dict[tuple[int, int], int],
    longest: int,
    distance: int,
) -> list[tuple[_Span, int]]:
    """The spans of sorted `others` within `distance` words of `one`, and how many words apart.

    `keys` are the others' (place, first word number); a span that starts more
    than `distance + longest` words earlier ends too early to be near or to
    overlap (`longest` is the most words in one of them).
    """
    first = ordinal[one.place, one.start]
    low = bisect.bisect_left(keys, (one.place, first - distance - longest))
    high = bisect.bisect_right(keys, (one.place, first + one.size + distance))
    close = []
    for other, (_, start) in zip(others[low:high], keys[low:high], strict=True):
        if other.place == one.place and other.start < one.end and other.end > one.start:
            close.append((other, 0))  # overlapping
        elif other.start < one.end:
            if first - start - other.size <= distance:
                close.append((other, first - start - other.size))
        else:
            close.append((other, start - first - one.size))
    return close


class Matcher:
    """Matches many terms against articles; build it once per set of terms.

    An Aho-Corasick automaton over every term's anchor words scans the folded
    article in C; only the terms whose anchor occurs as a word (or a word
    start, for wildcards) are evaluated. Cost grows with the text and with the
    terms that concern the article, not with the number of terms.
    """

    def __init__(self, terms: Iterable[Term]) -> None:
        self.terms = tuple(terms)
        anchors: dict[str, tuple[set[int], set[int]]] = {}  # word -> (whole-word, prefix) terms
        for index, term in enumerate(self.terms):
            for leaf in term.anchors:
                whole, prefix = anchors.setdefault(leaf.words[0], (set(), set()))
                (prefix if leaf.prefix and len(leaf.words) == 1 else whole).add(index)
        self._automaton = ahocorasick.Automaton()
        for word, (whole, prefix) in anchors.items():
            self._automaton.add_word(word, (word, frozenset(whole), frozenset(prefix)))
        if anchors:
            self._automaton.make_automaton()
        self._anchor_words = frozenset(anchors)
        # Terms whose `_possible` an anchor word alone can't answer (a phrase,
        # NEAR): for "a OR b*" or "a AND NOT b", finding a or b answered it.
        # `_possible` only grows with the text, and the text holds the anchor word.
        self._to_check = frozenset(
            index
            for index, term in enumerate(self.terms)
            if not all(_possible(term.tree, leaf.words[0]) for leaf in term.anchors)
        )

    def _candidates(self, article: _Article) -> list[int]:
        """Terms with an anchor word in the folded article; notes in it where each anchor occurs.

        Evaluating a term then finds its anchor words there instead of
        searching the text again (~1.5 µs a search of 5 kB).
        """
        if not len(self._automaton):
            return []
        folded = article.folded
        article.scanned = self._anchor_words
        hits = article.hits
        found: set[int] = set()
        last = len(folded) - 1
        for end, (word, whole, prefix) in self._automaton.iter(folded):
            start = end - len(word) + 1
            hits.append((word, start))
            if start > 0 and joins(folded[start - 1], folded[start]):
                continue  # inside a longer word
            found |= prefix
            if whole and (end == last or not joins(folded[end], folded[end + 1])):
                found |= whole
        return sorted(found)

    def match(self, title: str, text: str) -> list[Match]:
        """Every term that matches the article, in the order the terms were given."""
        article = _Article(title, text)
        matches = []
        for index in self._candidates(article):
            term = self.terms[index]
            if index in self._to_check and not _possible(term.tree, article.folded):
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


def _explain(term: Term, found: _Found, article: _Article) -> Match:
    """The match `found` as a `Match`: where, how often, which clauses, and a snippet."""
    spans = sorted(set(found.spans))
    in_title = sum(1 for s in spans if s.place == TITLE)
    in_text = len(spans) - in_title
    where = TEXT if in_text else TITLE
    shown = [s for s in spans if s.place == where]
    words = article.fields[where]
    places = [words.chars(s.start, s.end) for s in shown]
    text, highlights = snippet(words.text, places)
    return Match(
        term=term.name,
        phrase=words.text[places[0][0] : places[0][1]],
        snippet=text,
        score=round(TITLE_WEIGHT * in_title + in_text + found.closeness, 2),
        count=len(spans),
        in_title=in_title > 0,
        clauses=tuple(dict.fromkeys(s.clause for s in spans)),
        highlights=highlights,
    )
