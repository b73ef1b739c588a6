"""NEAR: which places of two query parts are within so many words of each other (ONEAR: in
that order), or in one sentence or paragraph (`/s`, `/p`: `together`); and where a phrase
with room for inserted words (`"a b"~n`) occurs (`sloppy`).

The words between two places are counted only around the places themselves,
never across the whole text: from each place of the side with fewer, out to
the places of the other side (`_within_reach`), then once along each field
to number those that are close (`_ordinals`), so that pairs are told apart by
subtracting word numbers. With few places on the left, the right side is
looked for only in windows of words around them (`around`).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Sequence

from watcher.match.folded import FoldedWords
from watcher.match.query import AnyOf, Field, Leaf, Near, Node
from watcher.match.spans import NOT_FOUND, Budget, Fields, Found, Span
from watcher.match.words import Ranges, Words

Windows = tuple[Ranges, Ranges]  # in the title and in the text (see `Words.around`)
_FEW = 4  # left places at most for `around`: counting words around each costs more than a search
# What a sentence or paragraph holding both sides adds to the score: about what a NEAR
# pair some 10 or 30 words apart adds (a NEAR pair adds up to 1, the closer the more).
SCOPE_CLOSENESS = {"s": 0.5, "p": 0.25}


def around(node: Near, left: Found, fields: Fields) -> Windows | None:
    """Where to look for the right side of `node`, given the places of its left side: windows
    around those, or None for everywhere.

    Only the right side's places near the left's count, so with few of those
    it is looked for around them alone: a name NEAR/5 (x OR said) would check
    each of the 30 places of "said" in an article. That takes a right side of
    words alone (see `_longest`).
    """
    longest = _longest(node.right) if len(left.spans) <= _FEW else 0
    if not longest:
        return None
    longest = max(longest, *(s.size for s in left.spans))
    return _windows(left.spans, fields, node.distance + longest + 1)


def pairs(node: Near, left: Found, right: Found, fields: Fields, budget: Budget) -> Found:
    """The places of `node`'s sides that are within its distance of one another, or overlap
    (for ONEAR: the left side's places before the right's, apart). Each pair compared is
    spent from `budget`."""
    # Sorting, reaching out from and numbering a place costs about 8 looked-at words' worth.
    budget.spend(8 * (len(left.spans) + len(right.spans)))
    reach = node.distance + max(s.size for s in (*left.spans, *right.spans)) + 1
    ones, others = _within_reach(left.spans, sorted(right.spans), fields, reach)
    if not ones:
        return NOT_FOUND
    ordinal = _ordinals([*ones, *others], fields, reach)
    keys = [(s.place, ordinal[s.place, s.start]) for s in others]
    longest = max(s.size for s in others)
    kept: set[Span] = set()
    closeness = 0.0
    for one in ones:
        # In the order of `others`, which decides the clause a set keeps of
        # equal spans, and the order the closeness is summed in.
        close = _close(one, others, keys, ordinal, longest, node.distance, node.ordered)
        if len(close) > 8:  # most places have a few close ones: spared the call
            budget.spend(len(close))
        for other, gap in close:
            if other != one:
                kept.update((one, other))
                closeness += (node.distance + 1 - gap) / (node.distance + 1)
    return Found(bool(kept), sorted(kept), closeness + left.closeness + right.closeness)


def _longest(node: Node) -> int:
    """The most words in a place of the query `node` if words alone, else 0.

    Words alone: each place of them counts by itself (no AND, NOT or NEAR,
    which decide on the whole text).
    """
    if isinstance(node, Leaf):  # a phrase "a b c"~n may hold n words in each of its gaps
        return len(node.words) + node.slop * (len(node.words) - 1)
    if isinstance(node, AnyOf):
        sizes = [_longest(part) for part in node.parts]
        return 0 if 0 in sizes else max(sizes)
    return _longest(node.part) if isinstance(node, Field) else 0


def _windows(spans: list[Span], fields: Fields, reach: int) -> Windows:
    """Where words fewer than `reach` words from one of `spans` start, in title and text."""
    windows: Windows = ([], [])
    for span in sorted(spans):
        first, last = fields[span.place].around(span.start, reach)
        ranges = windows[span.place]
        if ranges and first <= ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], max(last, ranges[-1][1]))
        else:
            ranges.append((first, last))
    return windows


def _within_reach(
    ones: list[Span], others: list[Span], fields: Fields, reach: int
) -> tuple[list[Span], list[Span]]:
    """The spans of `ones` and sorted `others` that have one of the other side fewer than
    `reach` words away.

    Only those can be near each other or overlap (see `pairs`), so NEAR then
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
        between = fields[span.place].words_between
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


def _ordinals(spans: Iterable[Span], fields: Fields, reach: int) -> dict[tuple[int, int], int]:
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
        count += fields[place].words_between(start_before, start, reach)
        ordinal[place, start] = count
        start_before = start
    return ordinal


def _close(
    one: Span,
    others: Sequence[Span],
    keys: list[tuple[int, int]],
    ordinal: dict[tuple[int, int], int],
    longest: int,
    distance: int,
    ordered: bool = False,
) -> list[tuple[Span, int]]:
    """The spans of sorted `others` within `distance` words of `one`, and how many words apart
    (if `ordered`, only those after `one`, apart from it).

    `keys` are the others' (place, first word number); a span that starts more
    than `distance + longest` words earlier ends too early to be near or to
    overlap (`longest` is the most words in one of them).
    """
    first = ordinal[one.place, one.start]
    low = bisect.bisect_left(keys, (one.place, first - distance - longest))
    high = bisect.bisect_right(keys, (one.place, first + one.size + distance))
    close = []
    if ordered:
        low = bisect.bisect_left(keys, (one.place, first + one.size))
        for other, (_, start) in zip(others[low:high], keys[low:high], strict=True):
            if other.start >= one.end:
                close.append((other, start - first - one.size))
        return close
    for other, (_, start) in zip(others[low:high], keys[low:high], strict=True):
        if other.place == one.place and other.start < one.end and other.end > one.start:
            close.append((other, 0))  # overlapping
        elif other.start < one.end:
            if first - start - other.size <= distance:
                close.append((other, first - start - other.size))
        else:
            close.append((other, start - first - one.size))
    return close


def together(
    node: Near, left: Found, right: Found, fields: Fields, units: Callable[[int, str], list[int]]
) -> Found:
    """The places of `node`'s sides that share a sentence or paragraph (`node.scope`) with a
    place of the other side; `units(place, scope)` gives where each one starts in a field."""

    def unit(span: Span) -> tuple[int, int]:
        start = fields[span.place].chars(span.start, span.end)[0]
        return span.place, bisect.bisect_right(units(span.place, node.scope), start)

    rights: dict[tuple[int, int], list[Span]] = {}
    for span in sorted(right.spans):
        rights.setdefault(unit(span), []).append(span)
    distinct = {key: set(spans) for key, spans in rights.items()}
    kept: set[Span] = set()
    shared: set[tuple[int, int]] = set()
    for one in left.spans:
        # Each left place, then the right places it pairs with, in order: as `pairs` adds
        # them, which decides the clause a set keeps of equal spans. A unit's right places
        # are added with its first left place that pairs: later ones would add nothing new
        # (each is in `kept` already or equal to that place), and adding them again made a
        # paragraph of 10,000 places on both sides cost 10,000 times 10,000.
        key = unit(one)
        others = distinct.get(key, ())
        if len(others) > 1 or (others and one not in others):
            kept.add(one)
            if key not in shared:
                kept.update(other for other in rights[key] if other != one)
                shared.add(key)
    if not kept:
        return NOT_FOUND
    closeness = SCOPE_CLOSENESS[node.scope] * len(shared)
    return Found(True, sorted(kept), closeness + left.closeness + right.closeness)


def sloppy(
    node: Leaf,
    words: FoldedWords | Words,
    starts: list[int] | None,
    within: Ranges | None,
) -> list[tuple[int, int, int]]:
    """Where the phrase `node` occurs in `words` with at most `node.slop` words inserted between
    its words, in order: start, end and size in words of each place.

    From each place of the first word, each next word is taken at its first
    place after the last: the earliest end leaves the most room for the rest.
    `starts` and `within` are as for `FoldedWords.find`, for the first word.
    """
    size = len(node.words)

    def one(k: int) -> tuple[tuple[str, ...], tuple[str, ...] | None, bool]:
        exact = None if node.exact is None else (node.exact[k],)
        return (node.words[k],), exact, node.prefix and k == size - 1

    first = words.find(*one(0), starts, within)
    if not first:
        return []
    rest = [words.find(*one(k)) for k in range(1, size)]
    if not all(rest):
        return []
    rest_starts = [[start for start, _ in places] for places in rest]
    found = []
    for start, end in first:
        room = node.slop
        for places, place_starts in zip(rest, rest_starts, strict=True):
            index = bisect.bisect_left(place_starts, end)
            if index == len(places):
                break
            gap = words.words_between(end, places[index][0], room + 1)
            if gap > room:
                break
            room -= gap
            end = places[index][1]
        else:
            found.append((start, end, size + node.slop - room))
    return found
