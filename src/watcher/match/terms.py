"""Watch-terms: compiled queries, and where they match an article.

`Matcher` holds many terms and looks at an article once: an Aho-Corasick
automaton of each term's anchor words picks the few terms that could match
(`watcher.match.anchors`; cost grows with the text, not with the number of terms),
and only those are evaluated, by searching the folded text for their words
where they are (`FoldedWords`) rather than splitting the article into words.
Evaluating a query gives the spans where its parts match (`watcher.match.spans`),
which NEAR compares (`watcher.match.near`). Each `Match` explains itself: the
query clauses that matched, a snippet and the matched spans within it, and a
score.

Each term has a work budget on each article (`spans.Budget`): a query built
to be costly ends with `QueryCostError` instead of running for minutes.

Where the time goes, and what was measured, is in bench/README.md
(match_bench.py, issue 3; cost_bench.py, issue 17).
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from watcher.errors import QueryCostError
from watcher.match.anchors import Anchors, anchors_of
from watcher.match.folded import FoldedWords, fold_in_place
from watcher.match.near import Windows, around, pairs, sloppy, together
from watcher.match.query import AllOf, AnyOf, Field, Leaf, Near, Node, Not, parse
from watcher.match.snippets import merged, snippet
from watcher.match.spans import FOUND, NOT_FOUND, TEXT, TITLE, Budget, Fields, Found, Span
from watcher.match.units import paragraph_starts, sentence_starts
from watcher.match.words import Words
from watcher.models import Match

TITLE_WEIGHT = 3.0  # a match in the headline says more than one deep in the text
_FIELD_IDS = {"title": TITLE, "text": TEXT}
_BOTH = (TITLE, TEXT)


@dataclass(frozen=True)
class Term:
    """A named watch-term with its parsed query."""

    name: str
    query: str
    tree: Node
    anchors: tuple[Leaf, ...]  # any match contains at least one of these


def compile_term(name: str, query: str, aliases: Mapping[str, Node] | None = None) -> Term:
    """Parse `query` into a `Term`, `@name` standing for `aliases[name]` (see
    `watcher.match.query.resolve_aliases`); raise `QueryError` naming the position of a mistake."""
    tree = parse(query, aliases)
    return Term(name=name, query=query, tree=tree, anchors=tuple(anchors_of(tree)))


def _words(text: str) -> FoldedWords | Words:
    """A title or text ready for finding query words: folded in place, or else split."""
    folded = fold_in_place(text)
    return Words(text) if folded is None else FoldedWords(text, folded)


class PreparedArticle:
    """An article's title and text ready for matching, and what the automaton found in them.

    Made once per article and shared by every term matched on it (and by the
    explanation of a miss, `watcher.match.misses`); `models.Article` is the
    article itself.
    """

    __slots__ = ("_nowhere", "_seen", "_units", "budget", "fields", "folded", "hits", "scanned")

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
        self._units: dict[tuple[int, str], list[int]] = {}
        self.budget = Budget()  # renewed for each term

    def units(self, place: int, scope: str) -> list[int]:
        """Where the sentences ("s") or paragraphs ("p") of the title or the text start."""
        key = (place, scope)
        found = self._units.get(key)
        if found is None:
            split = sentence_starts if scope == "s" else paragraph_starts
            found = self._units[key] = split(self.fields[place].text)
        return found

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


def evaluate(
    node: Node,
    article: PreparedArticle,
    fields: tuple[int, ...],
    spans: bool = True,
    within: Windows | None = None,
) -> Found:
    """Whether `node` matches in the article's `fields`, and where (unless `spans` is False).

    With `within` (for queries of words alone, see `watcher.match.near.around`): only places that
    start in those windows count.
    """
    if isinstance(node, Leaf):
        if not spans and not node.slop:
            for f in fields:
                _spend_places(article, f, node.words[0], None, len(node.words))
                if article.fields[f].exists(node.words, node.exact, node.prefix):
                    return FOUND
            return NOT_FOUND
        places: list[Span] = []
        _add_places(node, article, fields, within, places)
        return Found(True, places) if places else NOT_FOUND
    if isinstance(node, AnyOf):
        if not spans:
            for part in node.parts:
                if evaluate(part, article, fields, False).ok:
                    return FOUND
            return NOT_FOUND
        ok, places, closeness = False, [], 0.0
        for part in node.parts:
            if isinstance(part, Leaf):  # most parts: spared a call and a `Found`
                _add_places(part, article, fields, within, places)
                continue
            result = evaluate(part, article, fields, True, within)
            if result.ok:
                ok = True
                places += result.spans
                closeness += result.closeness
        return Found(True, places, closeness) if ok or places else NOT_FOUND
    if isinstance(node, Not):
        # Only whether the part occurs matters: finding its first place is enough.
        return NOT_FOUND if evaluate(node.part, article, fields, False).ok else FOUND
    if isinstance(node, AllOf):
        # Exclusions first: whether their words occur at all is cheaper to
        # find out than every place of the rest, and they add no places.
        for part in node.parts:
            if isinstance(part, Not) and not evaluate(part, article, fields, spans).ok:
                return NOT_FOUND
        found_parts = []
        for part in node.parts:
            if isinstance(part, Not):
                continue
            result = evaluate(part, article, fields, spans)
            if not result.ok:
                return NOT_FOUND
            found_parts.append(result)
        return Found(
            True,
            [s for f in found_parts for s in f.spans],
            sum(f.closeness for f in found_parts),
        )
    if isinstance(node, Field):
        return evaluate(node.part, article, (_FIELD_IDS[node.name],), spans, within)
    return _near(node, article, fields)


def _add_places(
    node: Leaf,
    article: PreparedArticle,
    fields: tuple[int, ...],
    within: Windows | None,
    to: list[Span],
) -> None:
    """Add to `to` the places of the query words `node` in the article's `fields` (in windows,
    with `within`): none if it does not match."""
    words, known = node.words, article.places(node.words[0])
    for f in fields:
        starts = known[f]
        if starts is _NOWHERE:
            continue  # the automaton found no word starting so
        if node.slop:
            if within is None or within[f]:
                for k, word in enumerate(words):
                    _spend_places(article, f, word, starts if k == 0 else None, 1)
                for start, end, size in sloppy(
                    node, article.fields[f], starts, None if within is None else within[f]
                ):
                    to.append(Span(f, start, end, node.source, size))
            continue
        if within is None:
            _spend_places(article, f, words[0], starts, len(words))
            found = article.fields[f].find(words, node.exact, node.prefix, starts)
        elif within[f]:
            found = article.fields[f].find(words, node.exact, node.prefix, starts, within[f])
            if len(found) > _UNACCOUNTED:  # windows hold few places: counted when found
                article.budget.spend(len(found))
        else:
            continue  # nowhere to look
        for start, end in found:
            to.append(Span(f, start, end, node.source, len(words)))


# Places of a query word looked at that go unaccounted: most words of most queries
# occur fewer times in an article, and are spared the accounting.
_UNACCOUNTED = 64
_LARGE = 100_000  # characters: below, a word can't occur often enough to count


def _spend_places(
    article: PreparedArticle, f: int, word: str, starts: list[int] | None, size: int
) -> None:
    """Spend from the article's budget the places of `word` that finding a phrase of `size`
    words starting so will look at: those the automaton found (`starts`), or, in a large
    text, wherever the word occurs. Checking a word of the phrase at a place costs 4 units
    (the most it takes is beside Japanese text, where the word pattern decides)."""
    if starts is not None:
        if len(starts) > _UNACCOUNTED:
            article.budget.spend(4 * size * len(starts))
        return
    folded = article.fields[f].folded_text
    if len(folded) > _LARGE:
        article.budget.spend(4 * size * folded.count(word))


def _near(node: Near, article: PreparedArticle, fields: tuple[int, ...]) -> Found:
    left = evaluate(node.left, article, fields)
    if not left.ok:
        return NOT_FOUND
    if node.scope:
        right = evaluate(node.right, article, fields)
        if not right.ok:
            return NOT_FOUND
        article.budget.spend(len(left.spans) + len(right.spans))
        return together(node, left, right, article.fields, article.units)
    right = evaluate(node.right, article, fields, True, around(node, left, article.fields))
    return pairs(node, left, right, article.fields, article.budget) if right.ok else NOT_FOUND


class Matcher:
    """Matches many terms against articles; build it once per set of terms.

    One scan of the folded article for every term's anchor words
    (`watcher.match.anchors.Anchors`) picks the terms that could match; only those
    are evaluated. Cost grows with the text and with the terms that concern
    the article, not with the number of terms.
    """

    def __init__(self, terms: Iterable[Term]) -> None:
        self.terms = tuple(terms)
        self._anchors = Anchors(self.terms)

    def match(self, title: str, text: str) -> list[Match]:
        """Every term that matches the article, in the order the terms were given.

        Raise `QueryCostError` (naming the term) when a term's query takes more
        work on this text than `spans.WORK_BUDGET` allows; the other terms are
        matched all the same, and their matches are the exception's `matches`.
        """
        article = PreparedArticle(title, text)
        article.scanned = self._anchors.words
        checks = self._anchors.checks
        matches = []
        too_costly: QueryCostError | None = None
        for index in self._anchors.scan(article.folded, article.hits):
            term = self.terms[index]
            check = checks.get(index)
            if check is not None and not check.holds(article.folded, article.hits):
                continue
            try:
                found = _bounded(term, article)
            except QueryCostError as exc:
                too_costly = too_costly or exc
                continue
            if found.ok:
                matches.append(_explain(term, found, article))
        if too_costly is not None:
            too_costly.matches = matches
            raise too_costly
        return matches

    def locate(self, title: str, text: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """Where the terms match in a whole article: character spans in the title and the text.

        Overlapping spans, and spans only a space or dash apart, are merged into one mark.
        """
        article = PreparedArticle(title, text)
        places: tuple[list[tuple[int, int]], list[tuple[int, int]]] = ([], [])
        for term in self.terms:
            found = _bounded(term, article)
            if found.ok:
                for span in found.spans:
                    places[span.place].append(
                        article.fields[span.place].chars(span.start, span.end)
                    )
        return merged(title, places[TITLE]), merged(text, places[TEXT])


def _bounded(term: Term, article: PreparedArticle) -> Found:
    """Where `term` matches the article, within a fresh work budget (see `spans.Budget`)."""
    article.budget = Budget()
    try:
        return evaluate(term.tree, article, _BOTH)
    except QueryCostError as exc:
        raise QueryCostError(f"term {term.name!r}: {exc}", term.name) from None


def match_terms(terms: Iterable[Term], title: str, text: str) -> list[Match]:
    """The matches of `terms` in one article (build a `Matcher` to match many)."""
    return Matcher(terms).match(title, text)


def _explain(term: Term, found: Found, article: PreparedArticle) -> Match:
    """The match `found` as a `Match`: where, how often, which clauses, and a snippet."""
    if len(found.spans) == 1:
        # Most matches are one place (~7 of 8 in match_bench.py's): spared the
        # set, the sort and the counting.
        (span,) = found.spans
        count, in_title = 1, 1 if span.place == TITLE else 0
        words = article.fields[span.place]
        places = [words.chars(span.start, span.end)]
        clauses: tuple[str, ...] = (span.clause,)
    else:
        # As sorted(set(found.spans)), the first of equal spans kept, but hashed
        # and compared as tuples in C, not by the dataclass' methods in Python;
        # the title's come first (TITLE < TEXT), so one bisection counts them.
        unique: dict[tuple[int, int, int], Span] = {}
        for s in found.spans:
            unique.setdefault((s.place, s.start, s.end), s)
        keys = sorted(unique)
        count, in_title = len(keys), bisect.bisect_left(keys, (TEXT,))
        where = TEXT if in_title < count else TITLE
        words = article.fields[where]
        chars = words.chars
        places = [chars(start, end) for _, start, end in keys[in_title:] or keys]  # or the title's
        clauses = tuple(dict.fromkeys([unique[key].clause for key in keys]))
    snippet_text, highlights = snippet(words.text, places)
    start, end = places[0]
    phrase = words.text[start:end]
    score = TITLE_WEIGHT * in_title + (count - in_title)  # whole: rounding keeps it
    if found.closeness:  # round() is paid on every match otherwise; only NEAR's needs it
        score = round(score + found.closeness, 2)
    # In the order of the fields, not by keyword: cheaper (bench/micro_bench.py).
    return Match(term.name, phrase, snippet_text, score, count, in_title > 0, clauses, highlights)
