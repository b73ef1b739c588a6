"""Watch-terms: compiled queries, and where they match an article.

`Matcher` holds many terms and looks at an article once: an Aho-Corasick
automaton of each term's anchor words picks the few terms that could match
(so cost grows with the text, not with the number of terms), and only those
are evaluated, by searching the folded text for their words where they are
(`FoldedWords`) rather than splitting the article into words. Each `Match`
explains itself: the query clauses that matched, a snippet and the matched
spans within it, and a score.

Where the time goes, and what was measured, is in bench/README.md
(match_bench.py, issue 3).
"""

from __future__ import annotations

import bisect
import re
import string
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
from watcher.words import Ranges, Words, joins

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
_FOUND = _Found(True, [])  # nor this: matched, no places (NOT, or `spans` not wanted)


def _words(text: str) -> FoldedWords | Words:
    """A title or text ready for finding query words: folded in place, or else split."""
    folded = fold_in_place(text)
    return Words(text) if folded is None else FoldedWords(text, folded)


class _Article:
    """An article's title and text ready for matching, and what the automaton found in them."""

    __slots__ = ("_nowhere", "_seen", "fields", "folded", "hits", "scanned")

    def __init__(self, title: str, text: str) -> None:
        self.fields = (_words(title), _words(text))
        self.folded = f"{self.fields[TITLE].folded_text}\n{self.fields[TEXT].folded_text}"
        self.scanned: frozenset[str] = frozenset()  # words the automaton looked for in `folded`
        self.hits: list[tuple[str, int]] = []  # and where in `folded` it found them
        self._nowhere: Places = (  # the places of a word not found: none, or unknown
            _NOWHERE if isinstance(self.fields[TITLE], FoldedWords) else None,
            _NOWHERE if isinstance(self.fields[TEXT], FoldedWords) else None,
        )
        self._seen: dict[str, Places] | None = None

    def places(self, word: str) -> Places:
        """Where `word` occurs in the title and in the text, if the automaton has found out
        (for fields folded in place): at least every place where a word starts so."""
        if word not in self.scanned:
            return _UNKNOWN
        if self._seen is None:  # sorted out only for articles that get evaluated
            self._seen = self._sorted_hits()
        return self._seen.get(word, self._nowhere)

    def _sorted_hits(self) -> dict[str, Places]:
        found: dict[str, tuple[list[int], list[int]]] = {}
        in_title = len(self.fields[TITLE].folded_text)
        for hit, start in self.hits:
            title, text = found.setdefault(hit, ([], []))
            if start < in_title:
                title.append(start)
            else:
                text.append(start - in_title - 1)
        nowhere_in_title, nowhere_in_text = self._nowhere
        return {
            word: (
                nowhere_in_title if nowhere_in_title is None else title or _NOWHERE,
                nowhere_in_text if nowhere_in_text is None else text or _NOWHERE,
            )
            for word, (title, text) in found.items()
        }


Places = tuple[list[int] | None, list[int] | None]  # in the title and the text; None: unknown
_NOWHERE: list[int] = []  # never changed
_UNKNOWN: Places = (None, None)


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


Groups = tuple[tuple[str, ...], ...]  # words a text needs: one of each group at least


def _needed(node: Node) -> Groups | None:
    """What `_possible` checks, as groups of words, each needing one of its words in the
    text; None if the query can't be put so (an OR of phrases).

    Checking groups takes a loop over a few words, not a walk of the query
    (~1 against ~3.5 µs). The right side of a NEAR, if words alone, is left
    out: `_near` looks for it only around the left side's places, which
    costs less than searching the whole text for words mostly absent there
    (~5 µs for two in 5 kB).
    """
    if isinstance(node, Leaf):
        return tuple((word,) for word in dict.fromkeys(node.words))
    if isinstance(node, Near) and _words_only(node.right):
        return _needed(node.left)
    if isinstance(node, Not):
        return ()
    if isinstance(node, Field):
        return _needed(node.part)
    parts = [
        _needed(part)
        for part in (node.parts if isinstance(node, AnyOf | AllOf) else (node.left, node.right))
    ]
    if any(part is None for part in parts):
        return None
    groups = [part for part in parts if part is not None]
    if not isinstance(node, AnyOf):
        return tuple(dict.fromkeys(group for part in groups for group in part))
    if any(not part for part in groups):
        return ()  # one way of matching needs no word
    if all(len(part) == 1 for part in groups):
        return (tuple(dict.fromkeys(word for part in groups for word in part[0])),)
    return None


def _cheapest_first(groups: Groups) -> Groups:
    """`groups` in the order that settles them soonest, going by the length of the words.

    A word that is absent costs a search of the whole text (~2.7 µs for 5 kB).
    Short words are the common ones: in a group, one of them is likely
    found, and soon, which settles it; a group of long words, likely absent,
    is the likeliest to fail and spare the rest.
    """
    ordered = (tuple(sorted(group, key=len)) for group in groups)
    return tuple(sorted(ordered, key=lambda group: -len(group[0])))


def _holds(check: Groups | Node, folded: str) -> bool:
    """Whether the `folded` text has a word of each group (or what `_possible` says)."""
    if not isinstance(check, tuple):
        return _possible(check, folded)
    for group in check:
        for word in group:
            if word in folded:
                break
        else:
            return False
    return True


Windows = tuple[Ranges, Ranges]  # in the title and in the text (see `Words.around`)


def _evaluate(
    node: Node,
    article: _Article,
    fields: tuple[int, ...],
    spans: bool = True,
    within: Windows | None = None,
) -> _Found:
    """Whether `node` matches in the article's `fields`, and where (unless `spans` is False).

    With `within` (for queries of words alone, see `_near`): only places that
    start in those windows count.
    """
    if isinstance(node, Leaf):
        words, first = node.words, node.words[0]
        if not spans:
            for f in fields:
                if article.fields[f].exists(words, node.exact, node.prefix):
                    return _FOUND
            return _NOT_FOUND
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
                places.append(_Span(f, start, end, node.source, len(words)))
        return _Found(True, places) if places else _NOT_FOUND
    if isinstance(node, AnyOf):
        if not spans:
            for part in node.parts:
                if _evaluate(part, article, fields, False).ok:
                    return _FOUND
            return _NOT_FOUND
        ok, places, closeness = False, [], 0.0
        for part in node.parts:
            result = _evaluate(part, article, fields, True, within)
            if result.ok:
                ok = True
                places += result.spans
                closeness += result.closeness
        return _Found(True, places, closeness) if ok else _NOT_FOUND
    if isinstance(node, Not):
        # Only whether the part occurs matters: finding its first place is enough.
        return _NOT_FOUND if _evaluate(node.part, article, fields, False).ok else _FOUND
    if isinstance(node, AllOf):
        # Exclusions first: whether their words occur at all is cheaper to
        # find out than every place of the rest, and they add no places.
        for part in node.parts:
            if isinstance(part, Not) and not _evaluate(part, article, fields, spans).ok:
                return _NOT_FOUND
        found_parts = []
        for part in node.parts:
            if isinstance(part, Not):
                continue
            result = _evaluate(part, article, fields, spans)
            if not result.ok:
                return _NOT_FOUND
            found_parts.append(result)
        return _Found(
            True,
            [s for f in found_parts for s in f.spans],
            sum(f.closeness for f in found_parts),
        )
    if isinstance(node, Field):
        return _evaluate(node.part, article, (_FIELD_IDS[node.name],), spans, within)
    return _near(node, article, fields)


def _near(node: Near, article: _Article, fields: tuple[int, ...]) -> _Found:
    left = _evaluate(node.left, article, fields)
    if not left.ok:
        return _NOT_FOUND
    longest = _longest(node.right) if len(left.spans) <= _FEW else 0
    if longest:
        # Only the right side's places near the left's count, so with few of
        # those it is looked for around them alone: a name NEAR/5 (x OR said)
        # would check each of the 30 places of "said" in an article.
        longest = max(longest, *(s.size for s in left.spans))
        windows = _windows(left.spans, article, node.distance + longest + 1)
        right = _evaluate(node.right, article, fields, True, windows)
    else:
        right = _evaluate(node.right, article, fields)
    if not right.ok:
        return _NOT_FOUND
    reach = node.distance + max(s.size for s in (*left.spans, *right.spans)) + 1
    ones, others = _within_reach(left.spans, sorted(right.spans), article, reach)
    if not ones:
        return _NOT_FOUND
    ordinal = _ordinals([*ones, *others], article, reach)
    keys = [(s.place, ordinal[s.place, s.start]) for s in others]
    longest = max(s.size for s in others)
    kept: set[_Span] = set()
    closeness = 0.0
    for one in ones:
        # In the order of `others`, which decides the clause a set keeps of
        # equal spans, and the order the closeness is summed in.
        for other, gap in _close(one, others, keys, ordinal, longest, node.distance):
            if other != one:
                kept.update((one, other))
                closeness += (node.distance + 1 - gap) / (node.distance + 1)
    return _Found(bool(kept), sorted(kept), closeness + left.closeness + right.closeness)


_FEW = 4  # spans, each costing ~3 µs of counting words around it


def _words_only(node: Node) -> bool:
    """Whether the query is words alone, each place of which counts by itself (no AND,
    NOT or NEAR, which decide on the whole text)."""
    return _longest(node) > 0


def _longest(node: Node) -> int:
    """The most words in a place of the query `node` if words alone (see `_words_only`), else 0."""
    if isinstance(node, Leaf):
        return len(node.words)
    if isinstance(node, AnyOf):
        sizes = [_longest(part) for part in node.parts]
        return 0 if 0 in sizes else max(sizes)
    return _longest(node.part) if isinstance(node, Field) else 0


def _windows(spans: list[_Span], article: _Article, reach: int) -> Windows:
    """Where words fewer than `reach` words from one of `spans` start, in title and text."""
    windows: Windows = ([], [])
    for span in sorted(spans):
        first, last = article.fields[span.place].around(span.start, reach)
        ranges = windows[span.place]
        if ranges and first <= ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], max(last, ranges[-1][1]))
        else:
            ranges.append((first, last))
    return windows


def _within_reach(
    ones: list[_Span], others: list[_Span], article: _Article, reach: int
) -> tuple[list[_Span], list[_Span]]:
    """The spans of `ones` and sorted `others` that have one of the other side fewer than
    `reach` words away.

    Only those can be near each other or overlap (see `_near`), so NEAR then
    numbers the words around them alone, not around each of the 30 places of
    a common word (when the right side was not looked for only around the
    left's places already). Words are counted out from each span of the side
    with fewer; when that would take more counts than numbering every span
    (many spans on both sides, close together), all spans are kept, and NEAR
    numbers them all.
    """
    fewer, more = (ones, others) if len(ones) <= len(others) else (others, ones)
    if more is ones:
        more = sorted(ones)
    budget = len(ones) + len(others)  # the counts `_ordinals` takes for all the spans
    keys = [(span.place, span.start) for span in more]
    close_to: set[int] = set()  # indexes in `more`
    kept = []
    for span in fewer:
        between = article.fields[span.place].words_between
        found = False
        middle = bisect.bisect_left(keys, (span.place, span.start))
        for step in (1, -1):  # after the span, then before it
            index, count, start = middle if step == 1 else middle - 1, 0, span.start
            while 0 <= index < len(keys) and keys[index][0] == span.place:
                budget -= 1
                if budget < 0:
                    return ones, others
                edge = keys[index][1]
                if step == 1:
                    count += between(start, edge, reach - count)
                else:
                    count += between(edge, start, reach - count)
                if count >= reach:
                    break
                close_to.add(index)
                found = True
                index, start = index + step, edge
        if found:
            kept.append(span)
    if fewer is ones:
        return kept, [more[index] for index in sorted(close_to)]
    chosen = {id(more[index]) for index in close_to}
    return [span for span in ones if id(span) in chosen], kept


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


# Looking for many anchor words anywhere in a text costs pyahocorasick more
# the more words it holds (it walks a node's letters one by one, and fail
# links at each character): 11 ms for 4 MB of news text with one word, 45 ms
# with 1149. Looked for only where a word starts, in a copy of the text with
# every other character a space, they cost 21 to 31 ms (the copy ~5 ms of
# it): the automaton then stays at its root inside words. Below 16 words
# the plain way is the cheaper (measured with 8: 20 against 24 ms; with 16:
# 28 against 26).
_WORD_STARTS_FROM = 16
# After a space the automaton looks the next letter up among the first
# letters of its words one by one, in the order they were added: words that
# start with letters English words often start with go first (~1 ms of 25).
_FIRST_LETTERS = "tasiowbhcfmpdrelngyuvjkqxz0123456789_"
_PLAIN = re.compile("[a-z0-9_]+")  # folded words the copy keeps whole
_ASCII_WORD_CHARS = bytes(
    byte if chr(byte) in string.ascii_letters + string.digits + "_" else ord(" ")
    for byte in range(256)
)


def _ascii_words(folded: str) -> str:
    """`folded` with a space for each character but ASCII letters, digits and _, and on each side.

    Every word of ASCII letters and digits in `folded` starts after a space
    here (at its offset plus one), and so does any other such run: a word
    that only ends in ASCII ("café" holds "caf") looks whole.
    """
    ascii_only = folded.encode("ascii", "replace")  # one "?" for each other character
    return f" {ascii_only.translate(_ASCII_WORD_CHARS).decode('ascii')} "


class Matcher:
    """Matches many terms against articles; build it once per set of terms.

    An Aho-Corasick automaton over every term's anchor words scans the folded
    article in C; only the terms whose anchor occurs as a word (or a word
    start, for wildcards) are evaluated. Cost grows with the text and with the
    terms that concern the article, not with the number of terms. With many
    anchor words, those of ASCII letters and digits are looked for only where
    words start, in an ASCII copy of the text (`_ascii_words`), which keeps the
    cost of the scan from growing with them.
    """

    def __init__(self, terms: Iterable[Term]) -> None:
        self.terms = tuple(terms)
        anchors: dict[str, tuple[set[int], set[int]]] = {}  # word -> (whole-word, prefix) terms
        for index, term in enumerate(self.terms):
            for leaf in term.anchors:
                whole, prefix = anchors.setdefault(leaf.words[0], (set(), set()))
                (prefix if leaf.prefix and len(leaf.words) == 1 else whole).add(index)
        plain = [word for word in anchors if _PLAIN.fullmatch(word)]
        if len(plain) < _WORD_STARTS_FROM:
            plain = []
        # Anchor words of ASCII letters and digits (most), looked for at word starts.
        self._word_starts = ahocorasick.Automaton()
        for word in sorted(plain, key=lambda word: _FIRST_LETTERS.find(word[0])):
            whole, prefix = anchors.pop(word)
            self._word_starts.add_word(f" {word}", (word, frozenset(whole), frozenset(prefix)))
        # The others (and all of them, when few), looked for anywhere in the folded text.
        self._automaton = ahocorasick.Automaton()
        for word, (whole, prefix) in anchors.items():
            self._automaton.add_word(word, (word, frozenset(whole), frozenset(prefix)))
        for automaton in (self._word_starts, self._automaton):
            if len(automaton):
                automaton.make_automaton()
        self._anchor_words = frozenset((*plain, *anchors))
        # What to check for terms whose `_possible` an anchor word alone can't
        # answer (a phrase, NEAR): for "a OR b*" or "a AND NOT b", finding a or b
        # answered it. `_possible` only grows with the text, and the text holds
        # the anchor word: a group with a term's only anchor word holds.
        self._checks: dict[int, Groups | Node] = {}
        for index, term in enumerate(self.terms):
            if all(_possible(term.tree, leaf.words[0]) for leaf in term.anchors):
                continue
            groups = _needed(term.tree)
            if groups is None:
                self._checks[index] = term.tree
                continue
            anchor_words = {leaf.words[0] for leaf in term.anchors}
            if len(anchor_words) == 1:
                groups = tuple(group for group in groups if not anchor_words.intersection(group))
            if groups:
                self._checks[index] = _cheapest_first(groups)

    def _candidates(self, article: _Article) -> list[int]:
        """Terms with an anchor word in the folded article; notes in it where each anchor occurs.

        Evaluating a term then finds its anchor words there instead of
        searching the text again (~1.5 µs a search of 5 kB). The places noted
        are at least every place where a word starts with the anchor word.
        """
        folded = article.folded
        article.scanned = self._anchor_words
        hits = article.hits
        found: set[int] = set()
        if len(self._word_starts):
            view = _ascii_words(folded)
            for end, (word, whole, prefix) in self._word_starts.iter(view):
                start = end - len(word)  # in `folded`: `view` has one more character first
                hits.append((word, start))
                found |= prefix
                if whole and view[end + 1] == " ":
                    found |= whole
        if len(self._automaton):
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
            check = self._checks.get(index)
            if check is not None and not _holds(check, article.folded):
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
    if len(found.spans) == 1:
        # Most matches are one place (~7 of 8 in the benchmark's): spared the
        # set, the sort and the counting, explaining one costs ~6 against ~8 µs.
        (span,) = found.spans
        count, in_title = 1, 1 if span.place == TITLE else 0
        words = article.fields[span.place]
        places = [words.chars(span.start, span.end)]
        clauses: tuple[str, ...] = (span.clause,)
    else:
        spans = sorted(set(found.spans))
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
