"""Texts folded in place: finding a query's words without splitting the text.

Matching compares words folded (NFKC, then case-folded). Folding almost
always turns each character into one character of the same kind, so the
folded text has its words where the text has them: `fold_in_place` makes
sure of that, and `FoldedWords` then finds a query's words by searching the
folded text (in C) and checking the few places found, instead of splitting
the whole text into words in Python (costs: bench/micro_bench.py). For the rare text
that folding would change in shape, `watcher.match.words.Words` splits it.
"""

from __future__ import annotations

import functools
import re
import string
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import regex

from watcher.match.words import (
    ALONE,
    BETWEEN,
    IN_RUN,
    Phrase,
    Ranges,
    inside,
    kind,
    same,
    word_pattern,
)


@dataclass(frozen=True)
class _Moved:
    """Characters whose folded form is not one character of the same kind (see `_moved`)."""

    recased: str  # unchanged by NFKC, case-folded into one character of another kind ("\u0345")
    bmp: re.Pattern[str]  # every such character below U+10000
    astral: regex.Pattern[str]  # and above (the regex module scans astral ranges faster)
    between: frozenset[str]  # those of them that are never part of a word ("…", "™", "″")
    between_bmp: re.Pattern[str]


@functools.cache
def _moved() -> _Moved:
    """The characters that folding moves, worked out once from this Python's Unicode tables.

    Quick: blocks of 256 code points that folding leaves alone (most) are
    skipped with one C call each; only the rest are looked at one by one.
    """
    moved: list[str] = []
    for base in range(0, 0x110000, 256):
        if 0xD800 <= base < 0xE000:
            continue  # surrogates never fold
        block = "".join(map(chr, range(base, base + 256)))
        if unicodedata.is_normalized("NFKC", block) and block.casefold() == block:
            continue
        for char in block:
            folded = unicodedata.normalize("NFKC", char).casefold()
            if folded != char and (len(folded) != 1 or kind(folded) != kind(char)):
                moved.append(char)
    between = [char for char in moved if kind(char) == BETWEEN]

    def one_of(chars: Iterable[str]) -> str:
        return "[" + "".join(f"\\U{ord(char):08x}" for char in chars) + "]"

    return _Moved(
        recased="".join(
            c for c in moved if unicodedata.is_normalized("NFKC", c) and len(c.casefold()) == 1
        ),
        bmp=re.compile(one_of(c for c in moved if c < "\U00010000")),
        astral=regex.compile(one_of(c for c in moved if c >= "\U00010000")),
        between=frozenset(between),
        between_bmp=re.compile(one_of(c for c in between if c < "\U00010000")),
    )


_ASTRAL = regex.compile("[\U00010000-\U0010ffff]")


def fold_in_place(text: str) -> str | None:
    """`text` folded as matching compares it, each character in its place; None if words move.

    Almost always (NFKC + case fold of news text) each character folds into
    one character of the same kind, so the words of the folded text are the
    words of `text` at the same offsets, and matching can search the folded
    text without splitting it. A character that only separates words but
    folds into more or into word characters ("…" into "...", "™" into "tm")
    is read as the space it is; any other that moves ("ß" into "ss", "½",
    decomposed accents) makes this None, and the text is split instead.
    """
    if unicodedata.is_normalized("NFKC", text):
        folded = text.casefold()
        if len(folded) != len(text):
            return None  # a letter case-folds into more ("ß" into "ss")
        for char in _moved().recased:
            if char in text:
                return None
        return folded
    moved = _moved()
    if _ASTRAL.search(text) and moved.astral.search(text):
        return None
    found = moved.bmp.findall(text)
    if found:
        if not moved.between.issuperset(found):
            return None
        text = moved.between_bmp.sub(" ", text)
    folded = unicodedata.normalize("NFKC", text).casefold()
    return folded if len(folded) == len(text) else None  # shorter: accents composed


class FoldedWords:
    """A text folded in place (`fold_in_place`), searched for query words without splitting it.

    Splitting an article into words in Python costs a hundred times more than
    finding a word in its folded text in C (bench/micro_bench.py), and whether
    an occurrence is a whole word is mostly told by the characters beside it
    (`_apart`), else by the word pattern matched there. Positions are character offsets, the same
    in `text` and in `folded_text`.
    """

    def __init__(self, text: str, folded: str) -> None:
        self.text = text
        self.folded_text = folded

    @functools.cached_property
    def _pattern(self) -> re.Pattern[str] | regex.Pattern[str]:
        # Made only where the checks by character can't tell: it scans the whole text.
        return word_pattern(self.folded_text)

    def find(
        self,
        words: Phrase,
        exact: Phrase | None,
        prefix: bool,
        starts: list[int] | None = None,
        within: Ranges | None = None,
    ) -> list[tuple[int, int]]:
        """Where the phrase `words` occurs (see `Words.find`): character offset ranges.

        `starts` are all the places where the first word occurs, if known.
        `within`, if given, keeps only places that start in one of its ranges.
        """
        places: Iterable[int]
        if within is None:
            places = self._starts(words[0]) if starts is None else starts
        else:
            places = (
                self._starts_within(words[0], within) if starts is None else inside(starts, within)
            )
        found = []
        if not _quick(words, exact):
            for start in places:
                end = self._phrase_end(start, words, exact, prefix)
                if end != -1:
                    found.append((start, end))
            return found
        # `_quick_end` written out: one call fewer for each place,
        # and the automaton's places of a word are most of those looked at.
        folded, want = self.folded_text, words[0]
        size, last = len(want), len(folded)
        for start in places:
            if (start == 0 or folded[start - 1] in _APART) and folded.startswith(want, start):
                end = _skip(_ASCII_RUN, folded, start + size) if prefix else start + size
                if end == last or folded[end] in _APART:
                    found.append((start, end))
                    continue
            end = self._phrase_end(start, words, exact, prefix)
            if end != -1:
                found.append((start, end))
        return found

    def exists(self, words: Phrase, exact: Phrase | None, prefix: bool) -> bool:
        """Whether the phrase occurs at all (searching stops at the first)."""
        folded, want, quick = self.folded_text, words[0], _quick(words, exact)
        start = folded.find(want)
        while start != -1:
            if quick and self._quick_end(start, want, prefix) != -1:
                return True
            if self._phrase_end(start, words, exact, prefix) != -1:
                return True
            start = folded.find(want, start + 1)
        return False

    def _quick_end(self, start: int, want: str, prefix: bool) -> int:
        """Where the word `want` at `start` ends if spaces or punctuation are on each side
        (most places), or -1: then `_phrase_end` tells, for `_quick` words."""
        folded = self.folded_text
        if (start > 0 and folded[start - 1] not in _APART) or not folded.startswith(want, start):
            return -1
        end = _skip(_ASCII_RUN, folded, start + len(want)) if prefix else start + len(want)
        return end if end == len(folded) or folded[end] in _APART else -1

    def _starts(self, word: str) -> Iterator[int]:
        folded = self.folded_text
        start = folded.find(word)
        while start != -1:
            yield start
            start = folded.find(word, start + 1)

    def _starts_within(self, word: str, within: Ranges) -> Iterator[int]:
        folded = self.folded_text
        for first, last in within:
            end = last + len(word)
            start = folded.find(word, first, end)
            while start != -1:
                yield start
                start = folded.find(word, start + 1, end)

    def _phrase_end(self, start: int, words: Phrase, exact: Phrase | None, prefix: bool) -> int:
        """Where the phrase starting at `start` ends, or -1 if it does not occur there as words."""
        folded = self.folded_text
        if start > 0 and folded[start - 1] not in _APART:
            apart = _apart(folded[start - 1], folded[start])
            if apart is None:
                before = self._pattern.match(folded, start - 1)
                apart = before is None or before.end() == start
            if not apart:
                return -1  # inside a longer word
        if len(words) == 1 and exact is None:  # most query parts: one word, any case
            return self._word_end(start, words[0], prefix)
        last, end = len(words) - 1, start
        for k, want in enumerate(words):
            if k > 0:
                start = self._next_word(end)
            end = -1 if start == -1 else self._word_end(start, want, prefix and k == last)
            if end == -1:
                return -1
            if exact is not None:
                have = unicodedata.normalize("NFKC", self.text[start:end])
                if not same(have, exact[k], prefix and k == last):
                    return -1
        return end

    def _next_word(self, end: int) -> int:
        """Where the next word after the word boundary `end` starts, or -1 if none does."""
        folded = self.folded_text
        start = _skip(_COMMON_GAP, folded, end)
        if start < len(folded) and (folded[start] in _IN_RUN or folded[start] in _ALONE):
            return start
        # The pattern has no look-behind, so searching from a word boundary
        # finds the same next word as splitting the whole text would.
        found = self._pattern.search(folded, end)
        return -1 if found is None else found.start()

    def _word_end(self, start: int, want: str, prefix: bool) -> int:
        """Where the word at `start` ends if it is `want` (or starts so, if `prefix`), or -1."""
        folded = self.folded_text
        if not folded.startswith(want, start):
            return -1
        end = start + len(want)
        if want.isascii() and want.isalnum():  # ASCII letters and digits: one run in any text
            if prefix:
                end = _skip(_ASCII_RUN, folded, end)
            if end == len(folded) or folded[end] in _APART:
                return end
            apart = _apart(folded[end - 1], folded[end])
            if apart:
                return end
            if apart is False and not prefix:
                return -1  # a longer word
        found = self._pattern.match(folded, start)
        if found is None or not _fits(found.end() - start, len(want), prefix):
            return -1
        return found.end()

    def words_between(self, after: int, before: int, limit: int) -> int:
        """How many words lie from word boundary `after` up to `before`, at most `limit`."""
        folded = self.folded_text
        # Between two words nearby there are mostly ASCII and common punctuation,
        # which every way of splitting splits alike: the count holds if no other
        # character lies where it was made. Only that stretch is looked at, not
        # all up to `before`, which may be the other end of the text (and the
        # first other character would cost the pattern over the whole text).
        count, end = 0, before
        for found in _COMMON_WORDS.finditer(folded, after, before):
            count += 1
            if count == limit:
                end = found.end()
                break
        if _UNCOMMON.search(folded, after, end) is None:
            return count
        count = 0
        for _ in self._pattern.finditer(folded, after, before):
            count += 1
            if count == limit:
                break
        return count

    def around(self, start: int, reach: int) -> tuple[int, int]:
        """The first and last offset where a word may start that is fewer than `reach` words
        from the word at `start`, either way, as `words_between` counts.

        Words are counted out from `start` each way, not over the whole text.
        """
        return self._word_before(start, reach - 1), self._word_after(start, reach)

    def _word_after(self, start: int, count: int) -> int:
        """Where the `count`-th word from the one at `start` starts (the text's end if fewer)."""
        folded = self.folded_text
        skipped = _words_and_gaps(count - 1).match(folded, start)  # one C call, not a loop
        at = len(folded) if skipped is None else skipped.end()
        if _UNCOMMON.search(folded, start, at) is None:  # see `words_between`
            return at
        for number, found in enumerate(self._pattern.finditer(folded, start), 1):
            if number == count:
                return int(found.start())
        return len(folded)

    def _word_before(self, start: int, count: int) -> int:
        """Where the `count`-th word before `start` starts (0 if fewer; `start` if `count` is 0).

        Counted in the text before `start` read backwards (a word, run of
        characters of one kind or one character alone, reads so too), over a
        stretch that grows until it holds the word whole.
        """
        if count <= 0:
            return start
        folded = self.folded_text
        size = 8 * count + 16
        while True:
            first = max(0, start - size)
            backwards = folded[first:start][::-1]
            if _UNCOMMON.search(backwards) is None:
                found = _gap_and_words(count).match(backwards)
                end = -1 if found is None else found.end()
            else:
                end = -1
                for number, word in enumerate(word_pattern(backwards).finditer(backwards), 1):
                    if number == count:
                        end = int(word.end())
                        break
            if end != -1 and (end < len(backwards) or first == 0):
                return start - end
            if end == -1 and first == 0:
                return 0  # fewer words before
            size *= 4  # not enough words here, or the last may begin before `first`

    def chars(self, start: int, end: int) -> tuple[int, int]:
        """Character offsets in `text` (the same as in the folded text)."""
        return start, end


@functools.cache
def _words_and_gaps(count: int) -> re.Pattern[str]:
    """`count` words of common characters (see `_COMMON_WORDS`), each with the gap after it."""
    return re.compile(f"(?:{_COMMON_WORD}{_COMMON_GAP_OR_ELSE}){{{count}}}")


@functools.cache
def _gap_and_words(count: int) -> re.Pattern[str]:
    """A gap and `count` words of common characters, the gaps between them: text read
    backwards from a word, up to the start of the `count`-th word before it."""
    return re.compile(
        f"{_COMMON_GAP_OR_ELSE}(?:{_COMMON_WORD}{_COMMON_GAP_OR_ELSE}){{{count - 1}}}{_COMMON_WORD}"
    )


def _quick(words: Phrase, exact: Phrase | None) -> bool:
    """Whether a query part is one word of ASCII letters and digits, any case (most are)."""
    return len(words) == 1 and exact is None and words[0].isascii() and words[0].isalnum()


def _fits(size: int, wanted: int, prefix: bool) -> bool:
    return size >= wanted if prefix else size == wanted


def _skip(run: re.Pattern[str], text: str, start: int) -> int:
    """Where the characters from `start` that `run` matches (maybe none) end."""
    found = run.match(text, start)
    return start if found is None else found.end()


# Characters whose part in words is the same however a text is split (their
# `kind`, taken from the word patterns themselves), so a word boundary beside
# them needs no regex: a set lookup costs a fraction of a regex match
# (bench/micro_bench.py), and the check runs for every place a query word
# occurs. ASCII letters and digits join a run; white space, ASCII punctuation,
# curly quotes and dashes stand apart.
_COMMON = string.printable + "\u2018\u2019\u201c\u201d\u2013\u2014\u2022\u00b7\u00ab\u00bb"
_IN_RUN = frozenset(c for c in _COMMON if kind(c) == IN_RUN)
_SPACE = frozenset(c for c in _COMMON if kind(c) == BETWEEN)
_ALONE = frozenset(c for c in _COMMON if kind(c) == ALONE)  # clause punctuation
_APART = _SPACE | _ALONE  # a word boundary on either side of them
_ASCII_RUN = re.compile("[A-Za-z0-9_]*")
_COMMON_GAP = re.compile(f"[{re.escape(''.join(sorted(_SPACE)))}]*")
_UNCOMMON = re.compile(f"[^{re.escape(_COMMON)}]")
_COMMON_WORD = f"(?:[A-Za-z0-9_]+|[{re.escape(''.join(sorted(_ALONE)))}])"
_COMMON_WORDS = re.compile(_COMMON_WORD)
_COMMON_GAP_OR_ELSE = f"[^A-Za-z0-9_{re.escape(''.join(sorted(_ALONE)))}]*"  # checked for else


def _apart(before: str, after: str) -> bool | None:
    """Whether a word boundary lies between two adjacent characters; None if a regex must say."""
    if before in _SPACE or after in _SPACE or before in _ALONE or after in _ALONE:
        return True
    if before in _IN_RUN and after in _IN_RUN:
        return False
    return None
