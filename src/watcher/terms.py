"""Watch-terms: compiled queries, and where they match an article.

`Matcher` holds many terms and looks at an article once: its words are
indexed, an inverted index from each term's anchor words picks the few terms
that could match (so cost grows with the text, not with the number of terms),
and only those are evaluated. Each `Match` explains itself: the query clauses
that matched, a snippet and the matched spans within it, and a score.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import ahocorasick

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
from watcher.words import HARD, Words, fold_text, joins

TITLE_WEIGHT = 3.0  # a match in the headline says more than one deep in the text
SNIPPET_BEFORE = 90  # characters of context before the first match
SNIPPET_AFTER = 150  # and after it
TITLE, TEXT = 0, 1
_FIELD_IDS = {"title": TITLE, "text": TEXT}
_SPACES = re.compile(r"\s+")
_JOINER = re.compile(r"[^\w" + re.escape(HARD) + "]*")  # spaces, dashes, quotes


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


@dataclass(frozen=True, order=True)
class _Span:
    place: int  # TITLE or TEXT
    start: int  # word index
    end: int  # one past the last word
    clause: str = field(compare=False)


@dataclass
class _Found:
    ok: bool
    spans: list[_Span]
    closeness: float = 0.0  # NEAR pairs, each worth up to 1 the closer they are


class _Article:
    def __init__(
        self, title: str, text: str, folded_title: str | None = None, folded_text: str | None = None
    ) -> None:
        self.fields = (Words(title, folded_title), Words(text, folded_text))
        self._vocabulary: frozenset[str] | None = None

    def words(self) -> frozenset[str]:
        if self._vocabulary is None:
            self._vocabulary = self.fields[TITLE].vocabulary | self.fields[TEXT].vocabulary
        return self._vocabulary

    def has_start(self, prefix: str) -> bool:
        return any(words.starting(prefix) for words in self.fields)


def _possible(node: Node, has: Callable[[Leaf], bool]) -> bool:
    """Whether every word the query needs may occur, by `has` for each word or phrase.

    A cheap necessary condition (no positions): it spares the full evaluation,
    and with `_in_text` even the splitting into words, for articles that hold
    one anchor word of a term but lack another the term needs.
    """
    if isinstance(node, Leaf):
        return has(node)
    if isinstance(node, AnyOf):
        return any(_possible(part, has) for part in node.parts)
    if isinstance(node, AllOf):
        return all(_possible(part, has) for part in node.parts)
    if isinstance(node, Near):
        return _possible(node.left, has) and _possible(node.right, has)
    if isinstance(node, Field):
        return _possible(node.part, has)
    return True  # NOT: absence is decided by the full evaluation


def _in_text(folded: str) -> Callable[[Leaf], bool]:
    """Substring test on the folded text: may say yes wrongly, never no wrongly."""
    return lambda leaf: all(word in folded for word in leaf.words)


def _in_words(article: _Article) -> Callable[[Leaf], bool]:
    """Word test on the split article."""

    def has(leaf: Leaf) -> bool:
        if len(leaf.words) == 1 and leaf.prefix:
            return article.has_start(leaf.words[0])
        vocabulary = article.words()
        return all(word in vocabulary for word in leaf.words[: len(leaf.words) - leaf.prefix])

    return has


def _find(leaf: Leaf, words: Words, field_id: int) -> list[_Span]:
    size = len(leaf.words)
    last = size - 1
    if size == 1 and leaf.prefix:
        starts = sorted(i for w in words.starting(leaf.words[0]) for i in words.positions(w))
    else:
        starts = words.positions(leaf.words[0])
    spans = []
    for start in starts:
        if start + size > len(words.folded):
            continue
        for k in range(size):
            have, want = words.folded[start + k], leaf.words[k]
            if not (have.startswith(want) if k == last and leaf.prefix else have == want):
                break
            if leaf.exact is not None:
                have, want = words.exact[start + k], leaf.exact[k]
                if not (have.startswith(want) if k == last and leaf.prefix else have == want):
                    break
        else:
            spans.append(_Span(field_id, start, start + size, leaf.source))
    return spans


def _evaluate(node: Node, article: _Article, fields: tuple[int, ...]) -> _Found:
    if isinstance(node, Leaf):
        spans = [s for f in fields for s in _find(node, article.fields[f], f)]
        return _Found(bool(spans), spans)
    if isinstance(node, Field):
        return _evaluate(node.part, article, (_FIELD_IDS[node.name],))
    if isinstance(node, Not):
        return _Found(not _evaluate(node.part, article, fields).ok, [])
    if isinstance(node, AnyOf):
        found = [_evaluate(part, article, fields) for part in node.parts]
        hits = [f for f in found if f.ok]
        return _Found(
            bool(hits), [s for f in hits for s in f.spans], sum(f.closeness for f in hits)
        )
    if isinstance(node, AllOf):
        found = []
        for part in node.parts:
            result = _evaluate(part, article, fields)
            if not result.ok:
                return _Found(False, [])
            found.append(result)
        return _Found(True, [s for f in found for s in f.spans], sum(f.closeness for f in found))
    return _near(node, article, fields)


def _near(node: Near, article: _Article, fields: tuple[int, ...]) -> _Found:
    left = _evaluate(node.left, article, fields)
    right = _evaluate(node.right, article, fields) if left.ok else _Found(False, [])
    if not right.ok:
        return _Found(False, [])
    others = sorted(right.spans)
    keys = [(s.place, s.start) for s in others]
    reach = node.distance + max(s.end - s.start for s in others)
    kept: set[_Span] = set()
    closeness = 0.0
    for one in left.spans:
        low = bisect.bisect_left(keys, (one.place, one.start - reach))
        high = bisect.bisect_right(keys, (one.place, one.end + node.distance))
        for other in others[low:high]:
            gap = max(other.start - one.end, one.start - other.end, 0)
            if other.place == one.place and gap <= node.distance and other != one:
                kept.update((one, other))
                closeness += (node.distance + 1 - gap) / (node.distance + 1)
    return _Found(bool(kept), sorted(kept), closeness + left.closeness + right.closeness)


class Matcher:
    """Matches many terms against articles; build it once per set of terms.

    An Aho-Corasick automaton over every term's anchor words scans the folded
    article in C; only articles where an anchor occurs as a word (or a word
    start, for wildcards) are split into words and evaluated, for the terms
    that anchor matched. Cost grows with the text, not with the number of terms.
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
            self._automaton.add_word(word, (len(word), frozenset(whole), frozenset(prefix)))
        if anchors:
            self._automaton.make_automaton()

    def _candidates(self, folded: str) -> list[int]:
        """Terms with an anchor word in the folded article text."""
        if not len(self._automaton):
            return []
        found: set[int] = set()
        last = len(folded) - 1
        for end, (size, whole, prefix) in self._automaton.iter(folded):
            start = end - size + 1
            if start > 0 and joins(folded[start - 1], folded[start]):
                continue  # inside a longer word
            found |= prefix
            if whole and (end == last or not joins(folded[end], folded[end + 1])):
                found |= whole
        return sorted(found)

    def match(self, title: str, text: str) -> list[Match]:
        """Every term that matches the article, in the order the terms were given."""
        folded_title, folded_text = fold_text(title), fold_text(text)
        both = f"{folded_title}\n{folded_text}"
        in_text = _in_text(both)
        candidates = [i for i in self._candidates(both) if _possible(self.terms[i].tree, in_text)]
        if not candidates:
            return []
        article = _Article(title, text, folded_title, folded_text)
        in_words = _in_words(article)
        matches = []
        for index in candidates:
            term = self.terms[index]
            if not _possible(term.tree, in_words):
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
        return _merged(title, places[TITLE]), _merged(text, places[TEXT])


def _merged(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and _adjoins(text, merged[-1][1], start):
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def match_terms(terms: Iterable[Term], title: str, text: str) -> list[Match]:
    """The matches of `terms` in one article (build a `Matcher` to match many)."""
    return Matcher(terms).match(title, text)


def _explain(term: Term, found: _Found, article: _Article) -> Match:
    spans = sorted(set(found.spans))
    in_title = sum(1 for s in spans if s.place == TITLE)
    in_text = len(spans) - in_title
    where = TEXT if in_text else TITLE
    shown = [s for s in spans if s.place == where]
    words = article.fields[where]
    snippet, highlights = _snippet(words, shown)
    first = words.chars(shown[0].start, shown[0].end)
    return Match(
        term=term.name,
        phrase=words.text[first[0] : first[1]],
        snippet=snippet,
        score=round(TITLE_WEIGHT * in_title + in_text + found.closeness, 2),
        count=len(spans),
        in_title=in_title > 0,
        clauses=tuple(dict.fromkeys(s.clause for s in spans)),
        highlights=highlights,
    )


def _adjoins(text: str, end: int, start: int) -> bool:
    """Whether a span ending at `end` and one starting at `start` read as one phrase."""
    return start <= end or (start - end <= 3 and _JOINER.fullmatch(text, end, start) is not None)


def _snippet(words: Words, spans: list[_Span]) -> tuple[str, tuple[tuple[int, int], ...]]:
    """Text around the first span, cut at word boundaries, and where the spans fall in it."""
    text = words.text
    begin, end = words.chars(spans[0].start, spans[0].end)
    left = max(0, begin - SNIPPET_BEFORE)
    right = min(len(text), end + SNIPPET_AFTER)
    if left > 0:
        space = text.find(" ", left, begin)
        left = space + 1 if space != -1 else left
    if right < len(text):
        space = text.rfind(" ", end, right)
        right = space if space != -1 else right
    marks: list[tuple[int, int]] = []
    for span in spans:
        start, stop = words.chars(span.start, span.end)
        if start < left or stop > right or (marks and start < marks[-1][1]):
            continue
        if marks and _adjoins(text, marks[-1][1], start):
            marks[-1] = (marks[-1][0], stop)  # "Ahmedabad–Mumbai bullet train" is one mark
        else:
            marks.append((start, stop))
    pieces: list[str] = ["…" if left > 0 else ""]
    highlights = []
    position = left
    for start, stop in marks:
        pieces.append(_SPACES.sub(" ", text[position:start]))
        offset = sum(map(len, pieces))
        pieces.append(_SPACES.sub(" ", text[start:stop]))
        highlights.append((offset, offset + len(pieces[-1])))
        position = stop
    pieces.append(_SPACES.sub(" ", text[position:right]))
    pieces.append("…" if right < len(text) else "")
    snippet = "".join(pieces)
    lead = len(snippet) - len(snippet.lstrip())
    shifted = tuple((a - lead, b - lead) for a, b in highlights)
    return snippet.strip(), shifted
