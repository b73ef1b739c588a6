"""Anchor words: which of many terms could match an article, found in one scan of it.

Each term's query has anchor words, one of which any match contains
(`anchors_of`). `Anchors` puts every term's anchor words in an Aho-Corasick
automaton and scans the folded article once, in C: the terms whose anchor
occurs as a word (or a word start, for wildcards) are the candidates, so the
cost grows with the text, not with the number of terms. A candidate is then
evaluated only if the text holds the other words its query needs (`holds`).
"""

from __future__ import annotations

import re
import string
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import ahocorasick
import ahocorasick_rs

from watcher.match.query import AllOf, AnyOf, Field, Leaf, Near, Node, Not, positive
from watcher.match.words import joins


class Anchored(Protocol):
    """What the scan needs of a term (a `watcher.match.terms.Term`): its tree and anchor words."""

    @property
    def tree(self) -> Node: ...

    @property
    def anchors(self) -> tuple[Leaf, ...]: ...


def anchors_of(node: Node) -> list[Leaf]:
    """Query words one of which any match of `node` contains: the fewest the query allows."""
    if isinstance(node, Leaf):
        return [node]
    if isinstance(node, AnyOf):
        return [leaf for part in node.parts for leaf in anchors_of(part)]
    if isinstance(node, AllOf):
        choices = [anchors_of(part) for part in node.parts if positive(part)]
        return min(choices, key=len)
    if isinstance(node, Near):
        return min(anchors_of(node.left), anchors_of(node.right), key=len)
    if isinstance(node, Field):
        return anchors_of(node.part)
    return []


def possible(node: Node, folded: str) -> bool:
    """Whether every word the query needs occurs in the `folded` text, if only inside a word.

    A cheap necessary condition (substrings, no positions): it spares the
    evaluation for articles that hold one anchor word of a term but lack
    another the term needs.
    """
    if isinstance(node, Leaf):
        return all(word in folded for word in node.words)
    if isinstance(node, AnyOf):
        return any(possible(part, folded) for part in node.parts)
    if isinstance(node, AllOf):
        return all(possible(part, folded) for part in node.parts)
    if isinstance(node, Near):
        return possible(node.left, folded) and possible(node.right, folded)
    if isinstance(node, Field):
        return possible(node.part, folded)
    return True  # NOT: absence is decided by the full evaluation


Groups = tuple[tuple[str, ...], ...]  # words a text needs: one of each group at least


def needed(node: Node) -> Groups | None:
    """What `possible` checks, as groups of words, each needing one of its words in the
    text; None if the query can't be put so (an OR of phrases).

    Checking groups takes a loop over a few words, not a walk of the query.
    The right side of a NEAR counts too: a search of the whole text for its
    words costs less than counting words around the left side's places and
    looking for them there (`watcher.match.near.around`), and in match_bench.py
    132 of 330 NEAR terms picked by their left side lack their right side.
    """
    if isinstance(node, Leaf):
        return tuple((word,) for word in dict.fromkeys(node.words))
    if isinstance(node, Not):
        return ()
    if isinstance(node, Field):
        return needed(node.part)
    parts = [
        needed(part)
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

    A word that is absent costs a search of the whole text.
    Short words are the common ones: in a group, one of them is likely
    found, and soon, which settles it; a group of long words, likely absent,
    is the likeliest to fail and spare the rest.
    """
    ordered = (tuple(sorted(group, key=len)) for group in groups)
    return tuple(sorted(ordered, key=lambda group: -len(group[0])))


def holds(check: Groups | Node, folded: str) -> bool:
    """Whether the `folded` text has a word of each group (or what `possible` says)."""
    if not isinstance(check, tuple):
        return possible(check, folded)
    for group in check:
        for word in group:
            if word in folded:
                break
        else:
            return False
    return True


@dataclass(frozen=True)
class Check:
    """What an article needs, beyond a term's anchor word, for the term to match there."""

    # Words alone in their group, of ASCII letters and digits: the scan looks
    # for them too and notes where they start words (`Anchors.scan`), so a
    # lookup tells, where an absent word costs a search of the whole text
    # (match_bench.py's 1000 terms have 308 such checks, all failing).
    noted: tuple[str, ...]
    groups: Groups | Node  # one word of each group in the text (or what `possible` says)

    def holds(self, folded: str, hits: Mapping[str, list[int]]) -> bool:
        """Whether the `folded` article, where the scan noted `hits`, has what is needed."""
        for word in self.noted:
            if word not in hits:
                return False
        return holds(self.groups, folded)


# Anchor words of ASCII letters and digits (nearly all) are looked for only
# where a word starts, in a copy of the text with every other character a
# space (`ascii_words`), by ahocorasick-rs built as a DFA (one table step per
# character, however many words) over the bare words, skipping a place not
# after a space; the longest word at each place (leftmost-longest), whose
# shorter anchor words that start it are there too (`_start`). Faster than
# pyahocorasick over the folded text, which follows fail links inside words,
# at any number of words (issue 3; figures: bench/micro_bench.py).
_PLAIN = re.compile("[a-z0-9_]+")  # folded words the copy keeps whole
_ASCII_WORD_CHARS = bytes(
    byte if chr(byte) in string.ascii_letters + string.digits + "_" else ord(" ")
    for byte in range(256)
)
_SPACE = ord(" ")


def ascii_words(folded: str) -> bytes:
    """`folded` with a space for each character but ASCII letters, digits and _, and on each side.

    Every word of ASCII letters and digits in `folded` starts after a space
    here (at its offset plus one), and so does any other such run: a word
    that only ends in ASCII ("café" holds "caf") looks whole. Bytes, which
    ahocorasick-rs takes as they are: given a str, it first maps each UTF-8
    offset to a character offset.
    """
    ascii_only = folded.encode("ascii", "replace")  # one "?" for each other character
    return b" " + ascii_only.translate(_ASCII_WORD_CHARS) + b" "


@dataclass(frozen=True)
class _Start:
    """What finding a word of the word-start scan at a word start tells."""

    words: tuple[str, ...]  # the anchor words it starts with, itself last: all are there
    prefix: frozenset[int]  # terms with one of those as a wildcard
    whole: frozenset[int]  # terms with the word itself, if it ends there


class Anchors:
    """The anchor words of many terms, looked for in an article in one scan.

    Those of ASCII letters and digits are looked for only where words start,
    in an ASCII copy of the text (`ascii_words`), by a DFA, which keeps the
    cost of the scan from growing with them; the others, if any, anywhere in
    the folded text by pyahocorasick.
    """

    def __init__(self, terms: Sequence[Anchored]) -> None:
        anchors: dict[str, tuple[set[int], set[int]]] = {}  # word -> (whole-word, prefix) terms
        for index, term in enumerate(terms):
            for leaf in term.anchors:
                whole, prefix = anchors.setdefault(leaf.words[0], (set(), set()))
                (prefix if leaf.prefix and len(leaf.words) == 1 else whole).add(index)
        self.checks = _checks(terms)  # by the index of the term
        plain = {word: anchors.pop(word) for word in list(anchors) if _PLAIN.fullmatch(word)}
        for check in self.checks.values():
            for word in check.noted:
                plain.setdefault(word, (set(), set()))  # noted only, picking no term
        self._starts = [_start(word, plain) for word in plain]
        self._word_starts = (
            ahocorasick_rs.BytesAhoCorasick(
                [word.encode("ascii") for word in plain],
                matchkind=ahocorasick_rs.MatchKind.LeftmostLongest,
                implementation=ahocorasick_rs.Implementation.DFA,
            )
            if plain
            else None
        )
        # The others, looked for anywhere in the folded text.
        self._automaton = ahocorasick.Automaton()
        for word, (whole, prefix) in anchors.items():
            self._automaton.add_word(word, (word, frozenset(whole), frozenset(prefix)))
        if len(self._automaton):
            self._automaton.make_automaton()
        self.words = frozenset((*plain, *anchors))

    def scan(self, folded: str, hits: defaultdict[str, list[int]]) -> list[int]:
        """The terms (indexes) with an anchor word in the `folded` article, noting in `hits`
        where each anchor word, and each word of a `Check.noted`, occurs (in order).

        Evaluating a term then finds its anchor words there instead of
        searching the text again. The places noted
        are at least every place where a word starts with the word.
        """
        found: set[int] = set()
        if self._word_starts is not None:
            view, starts = ascii_words(folded), self._starts
            for index, start, end in self._word_starts.find_matches_as_indexes(view):
                if view[start - 1] != _SPACE:
                    continue  # inside a word
                known = starts[index]
                for word in known.words:
                    hits[word].append(start - 1)  # in `folded`: `view` has one more byte first
                found |= known.prefix
                if known.whole and view[end] == _SPACE:
                    found |= known.whole
        if len(self._automaton):
            last = len(folded) - 1
            for end, (word, whole, prefix) in self._automaton.iter(folded):
                start = end - len(word) + 1
                hits[word].append(start)
                if start > 0 and joins(folded[start - 1], folded[start]):
                    continue  # inside a longer word
                found |= prefix
                if whole and (end == last or not joins(folded[end], folded[end + 1])):
                    found |= whole
        return sorted(found)


def _checks(terms: Sequence[Anchored]) -> dict[int, Check]:
    """What to check for terms (by index) whose `possible` an anchor word alone can't answer.

    For a phrase or NEAR; for "a OR b*" or "a AND NOT b", finding a or b
    answered it. `possible` only grows with the text, and the text holds the
    anchor word: a group with a term's only anchor word holds.
    """
    checks: dict[int, Check] = {}
    for index, term in enumerate(terms):
        if all(possible(term.tree, leaf.words[0]) for leaf in term.anchors):
            continue
        groups = needed(term.tree)
        if groups is None:
            checks[index] = Check((), term.tree)
            continue
        anchor_words = {leaf.words[0] for leaf in term.anchors}
        if len(anchor_words) == 1:
            groups = tuple(group for group in groups if not anchor_words.intersection(group))
        if not groups:
            continue
        noted = tuple(
            group[0] for group in groups if len(group) == 1 and _PLAIN.fullmatch(group[0])
        )
        others = tuple(group for group in groups if len(group) > 1 or group[0] not in noted)
        checks[index] = Check(noted, _cheapest_first(others))
    return checks


def _start(word: str, plain: dict[str, tuple[set[int], set[int]]]) -> _Start:
    """What finding `word` at a word start tells, given the terms of each word (`plain`).

    The scan finds the longest word at each place: the shorter ones that
    start it are there too, as wildcards, though not as whole words.
    """
    words = tuple(word[:end] for end in range(1, len(word) + 1) if word[:end] in plain)
    prefix = frozenset(index for start in words for index in plain[start][1])
    return _Start(words, prefix, frozenset(plain[word][0]))
