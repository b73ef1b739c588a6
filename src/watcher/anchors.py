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
from collections.abc import Sequence
from typing import TYPE_CHECKING

import ahocorasick
import ahocorasick_rs

from watcher.query import AllOf, AnyOf, Field, Leaf, Near, Node, Not, positive
from watcher.words import joins

if TYPE_CHECKING:
    from watcher.terms import Term


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

    Checking groups takes a loop over a few words, not a walk of the query
    (~1 against ~3.5 µs). The right side of a NEAR counts too: a search of
    the whole text for its words (~5 µs for two absent from 5 kB) costs less
    than counting words around the left side's places and looking for them
    there (~13 µs, `watcher.near.around`), and in the benchmark 132 of 330
    NEAR terms picked by their left side lack their right side.
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

    A word that is absent costs a search of the whole text (~2.7 µs for 5 kB).
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


# Looking for many anchor words anywhere in a text costs pyahocorasick more
# the more words it holds (it walks a node's letters one by one, and fail
# links at each character): 11 ms for 4 MB of news text with one word, 45 ms
# with 1149. So from 16 words on, those of ASCII letters and digits are
# looked for only where a word starts, in a copy of the text with every
# other character a space (~6 ms to make), by ahocorasick-rs built as a DFA
# (one table step per character, however many words). The patterns are the
# bare words, and a place not after a space is skipped: for the 1149 words
# that scans the copy in 11 ms (8 given bytes, see `scan`), against 22 as
# first written (the default automaton, an NFA, and a space in front of each
# pattern; 16 as a DFA) and 42 for the bare words in the NFA, which follows
# fail links inside words. The DFA takes ~0.6 MB and 2 ms to build for 1149
# words (21 MB and 0.14 s for 20,000). The 1000-term line of
# bench/match_bench.py went from 49-52% of the 1-term throughput to 56-60%
# in most runs (issue 3). Below 16 words pyahocorasick still scans the
# folded text, though the copy and the DFA now cost less there too (~6
# against ~12 ms for one word).
_WORD_STARTS_FROM = 16
_PLAIN = re.compile("[a-z0-9_]+")  # folded words the copy keeps whole
_ASCII_WORD_CHARS = bytes(
    byte if chr(byte) in string.ascii_letters + string.digits + "_" else ord(" ")
    for byte in range(256)
)


def ascii_words(folded: str) -> str:
    """`folded` with a space for each character but ASCII letters, digits and _, and on each side.

    Every word of ASCII letters and digits in `folded` starts after a space
    here (at its offset plus one), and so does any other such run: a word
    that only ends in ASCII ("café" holds "caf") looks whole.
    """
    ascii_only = folded.encode("ascii", "replace")  # one "?" for each other character
    return f" {ascii_only.translate(_ASCII_WORD_CHARS).decode('ascii')} "


class Anchors:
    """The anchor words of many terms, looked for in an article in one scan.

    With many anchor words, those of ASCII letters and digits are looked for
    only where words start, in an ASCII copy of the text (`ascii_words`), by
    a DFA, which keeps the cost of the scan from growing with them.
    """

    def __init__(self, terms: Sequence[Term]) -> None:
        anchors: dict[str, tuple[set[int], set[int]]] = {}  # word -> (whole-word, prefix) terms
        for index, term in enumerate(terms):
            for leaf in term.anchors:
                whole, prefix = anchors.setdefault(leaf.words[0], (set(), set()))
                (prefix if leaf.prefix and len(leaf.words) == 1 else whole).add(index)
        plain = [word for word in anchors if _PLAIN.fullmatch(word)]
        if len(plain) < _WORD_STARTS_FROM:
            plain = []
        # Anchor words of ASCII letters and digits (most), looked for at word starts.
        self._starts: list[tuple[str, frozenset[int], frozenset[int]]] = []
        for word in plain:
            whole, prefix = anchors.pop(word)
            self._starts.append((word, frozenset(whole), frozenset(prefix)))
        self._word_starts = (
            ahocorasick_rs.BytesAhoCorasick(
                [word.encode("ascii") for word, _, _ in self._starts],
                implementation=ahocorasick_rs.Implementation.DFA,
            )
            if self._starts
            else None
        )
        # The others (and all of them, when few), looked for anywhere in the folded text.
        self._automaton = ahocorasick.Automaton()
        for word, (whole, prefix) in anchors.items():
            self._automaton.add_word(word, (word, frozenset(whole), frozenset(prefix)))
        if len(self._automaton):
            self._automaton.make_automaton()
        self.words = frozenset((*plain, *anchors))
        # What to check for terms whose `possible` an anchor word alone can't
        # answer (a phrase, NEAR): for "a OR b*" or "a AND NOT b", finding a or b
        # answered it. `possible` only grows with the text, and the text holds
        # the anchor word: a group with a term's only anchor word holds.
        self.checks: dict[int, Groups | Node] = {}  # by the index of the term
        for index, term in enumerate(terms):
            if all(possible(term.tree, leaf.words[0]) for leaf in term.anchors):
                continue
            groups = needed(term.tree)
            if groups is None:
                self.checks[index] = term.tree
                continue
            anchor_words = {leaf.words[0] for leaf in term.anchors}
            if len(anchor_words) == 1:
                groups = tuple(group for group in groups if not anchor_words.intersection(group))
            if groups:
                self.checks[index] = _cheapest_first(groups)

    def scan(self, folded: str, hits: defaultdict[str, list[int]]) -> list[int]:
        """The terms (indexes) with an anchor word in the `folded` article, noting in `hits`
        where each anchor word occurs (in order).

        Evaluating a term then finds its anchor words there instead of
        searching the text again (~1.5 µs a search of 5 kB). The places noted
        are at least every place where a word starts with the anchor word.
        """
        found: set[int] = set()
        if self._word_starts is not None:
            view = ascii_words(folded)
            # As bytes: given a str, ahocorasick-rs first maps each of its UTF-8
            # offsets to a character offset, a table as long as the text (~3 of
            # 11 ms for 4 MB); in the ASCII copy they are the same.
            for index, start, end in self._word_starts.find_matches_as_indexes(
                view.encode("ascii"), overlapping=True
            ):
                if view[start - 1] != " ":
                    continue  # inside a word
                word, whole, prefix = self._starts[index]
                hits[word].append(start - 1)  # in `folded`: `view` has one more character first
                found |= prefix
                if whole and view[end] == " ":
                    found |= whole
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
