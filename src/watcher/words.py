"""Text as words: the unit both queries and articles are compared in.

A word is a run of letters, digits and combining marks (a Devanagari vowel
sign belongs to its word); each Han, Hiragana or Katakana character is a word
of its own, because Japanese and Chinese put no spaces between words, so a
phrase in those scripts matches as a character sequence. Everything else
(spaces, dashes of every kind, punctuation) only separates words.

Each word is compared in two forms: folded (NFKC, so full-width letters equal
ASCII ones, then case-folded) and, for case-sensitive query parts, exact
(NFKC only).
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

import regex

_SPACELESS = r"\p{Han}\p{Hiragana}\p{Katakana}"
_WORD = regex.compile(rf"[{_SPACELESS}]|(?:(?![{_SPACELESS}])[\w\p{{M}}])+")


@lru_cache(maxsize=1 << 16)
def forms(word: str) -> tuple[str, str]:
    """(exact, folded) forms of one word; cached, since news text repeats its words."""
    exact = unicodedata.normalize("NFKC", word)
    return exact, exact.casefold()


def split(text: str) -> list[str]:
    """The words of `text`, as written."""
    return [found.group() for found in _WORD.finditer(text)]


@dataclass(frozen=True)
class Words:
    """A text with its words in both forms, their character spans and where each occurs."""

    text: str
    exact: tuple[str, ...]
    folded: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]
    where: dict[str, list[int]]  # folded word -> indexes

    @classmethod
    def of(cls, text: str) -> Words:
        found = list(_WORD.finditer(text))
        pairs = [forms(item.group()) for item in found]
        where: dict[str, list[int]] = defaultdict(list)
        for index, (_, folded) in enumerate(pairs):
            where[folded].append(index)
        return cls(
            text=text,
            exact=tuple(exact for exact, _ in pairs),
            folded=tuple(folded for _, folded in pairs),
            spans=tuple(item.span() for item in found),
            where=dict(where),
        )

    def chars(self, first: int, end: int) -> tuple[int, int]:
        """Character offsets of the words first..end-1."""
        return self.spans[first][0], self.spans[end - 1][1]
