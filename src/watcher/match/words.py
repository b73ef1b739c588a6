"""Text as words: the unit both queries and articles are compared in.

A word is a run of letters, digits and combining marks (a Devanagari vowel
sign belongs to its word); each Han, Hiragana or Katakana character is a word
of its own, because Japanese and Chinese put no spaces between words, so a
phrase in those scripts matches as a character sequence. Everything else
(spaces, dashes of every kind, punctuation) only separates words.

Each word is compared in two forms: folded (NFKC, so full-width letters equal
ASCII ones, then case-folded) and, for case-sensitive query parts, exact
(NFKC only).

Matching finds a query's words in an article through `watcher.match.folded.FoldedWords`
(the folded text searched in place, the fast and usual way) or `Words` here
(the text split into words, for the rare text whose folding moves characters);
both give the same answers, which tests/test_terms.py checks.
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
import re
import unicodedata
from collections.abc import Iterable
from enum import IntEnum
from typing import NamedTuple

import regex

Phrase = tuple[str, ...]  # a query's words or phrase, folded (or case-sensitive forms)

# Han, Hiragana and Katakana (Unicode scripts), spelled out for the stdlib re,
# which was faster than the regex module here (bench/micro_bench.py);
# tests/test_words.py checks this list against regex's \p{Han}\p{Hiragana}\p{Katakana}.
SPACELESS = (
    "\u2e80-\u2e99\u2e9b-\u2ef3\u2f00-\u2fd5\u3005\u3007\u3021-\u3029\u3038-\u303b"
    "\u3041-\u3096\u309d-\u309f\u30a1-\u30fa\u30fd-\u30ff\u31f0-\u31ff\u32d0-\u32fe"
    "\u3300-\u3357\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufa6d\ufa70-\ufad9\uff66-\uff6f"
    "\uff71-\uff9d\U00016fe2-\U00016fe3\U00016ff0-\U00016ff6\U0001aff0-\U0001aff3"
    "\U0001aff5-\U0001affb\U0001affd-\U0001affe\U0001b000-\U0001b128\U0001b132"
    "\U0001b150-\U0001b152\U0001b155\U0001b164-\U0001b168\U0001f200\U00020000-\U0002a6df"
    "\U0002a700-\U0002b81e\U0002b820-\U0002cead\U0002ceb0-\U0002ebe0\U0002ebf0-\U0002ee5d"
    "\U0002f800-\U0002fa1d\U00030000-\U0003134a\U00031350-\U00033479"
)
# Text without combining marks (most text: English, Japanese, Chinese) takes the
# fast stdlib pattern; text with marks (Hindi, Arabic, decomposed accents) needs
# the regex module's \p{M}, since the stdlib's \w excludes marks.
# Sentence and clause punctuation is a word of its own, so a phrase cannot run
# across it ("India, Japan" is a list, not the compound "India-Japan") unless
# the query writes it too ("U.S. Navy", "1,150"). Dashes, slashes, quotes and
# spaces only separate words: "Mumbai–Ahmedabad" is "Mumbai Ahmedabad".
HARD = (
    ",.;:!?()\\[\\]{}"
    "\u0964\u0965"  # Devanagari danda, double danda
    "\u3001\u3002\u3010\u3011\uff08\uff09\uff0c\uff0e\uff1a\uff1b\uff01\uff1f"  # CJK
)
_FAST = re.compile(rf"[^\W{SPACELESS}]+|[{SPACELESS}]|[{HARD}]")
_HARD_SET = frozenset(HARD.replace("\\", ""))
_MARKED = regex.compile(rf"[{SPACELESS}]|(?:(?![{SPACELESS}])[\w\p{{M}}])+|[{HARD}]")
_MARK = regex.compile(r"\p{M}")
_SPACELESS_CHAR = re.compile(f"[{SPACELESS}]")
_FORMS: dict[str, tuple[str, str]] = {}
_FORMS_LIMIT = 1 << 17  # distinct words remembered; news text repeats its words


_PLAIN = re.compile(rf"\w+|[{HARD}]")  # the common case: no combining marks, no Han or kana
_SPACELESS_HINT = re.compile("[\u2e80-\u9fff\uf900-\ufaff\uff66-\uff9f\U00016fe0-\U0003347f]")


def word_pattern(text: str) -> re.Pattern[str] | regex.Pattern[str]:
    """The cheapest pattern that splits `text` correctly (costs: bench/micro_bench.py)."""
    if _MARK.search(text):
        return _MARKED
    return _FAST if _SPACELESS_HINT.search(text) else _PLAIN


def forms(word: str) -> tuple[str, str]:
    """(exact, folded) forms of one word: NFKC, and NFKC case-folded."""
    found = _FORMS.get(word)
    if found is None:
        exact = unicodedata.normalize("NFKC", word)
        found = (exact, exact.casefold())
        if len(_FORMS) >= _FORMS_LIMIT:
            _FORMS.clear()
        _FORMS[word] = found
    return found


def fold_text(text: str) -> str:
    """The whole text in the form matching compares: NFKC, then case-folded."""
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return text.casefold()


def index_text(text: str) -> str:
    """The words of `text` as the full-text index keeps them: folded, space-separated.

    SQLite's tokenizer only has to split on the spaces, so its words are ours
    (each Han or kana character one word, marks inside their word), and a
    query's words, folded the same way, find them. Clause punctuation is left
    out; `_` joins nothing in the index.
    """
    folded = fold_text(text)
    return " ".join(
        word.replace("_", " ")
        for word in word_pattern(folded).findall(folded)
        if word not in _HARD_SET
    )


def joins(before: str, after: str) -> bool:
    """Whether two adjacent characters belong to one word (so no word boundary lies between)."""
    if not (before.isalnum() or before == "_") or not (after.isalnum() or after == "_"):
        return False
    if before.isascii() and after.isascii():
        return True  # spares two regex matches for most letters inside a word
    return not (_SPACELESS_CHAR.match(before) or _SPACELESS_CHAR.match(after))


def split(text: str) -> list[str]:
    """The words of `text`, as written (clause punctuation included, one mark a word)."""
    return word_pattern(text).findall(text)


# --- the kinds of characters, and words found in a split text -----------------------


class Role(IntEnum):
    """What a character is to one way of splitting text into words.

    The value is how much of the character doubled ("aa", ",,") one word takes.
    """

    BETWEEN = 0  # no word: spaces, dashes, quotes
    ALONE = 1  # a word by itself: clause punctuation, each Han or kana character
    IN_RUN = 2  # part of a run of its kind: letters, digits, marks in a marked text


class Kind(NamedTuple):
    """What a character is to each way of splitting (`word_pattern`).

    Folding may change a character into one of another kind only where a
    split text is used instead of the folded text (`watcher.match.folded`).
    """

    plain: Role  # to the patterns for text without combining marks
    marked: Role  # to the pattern for text with them
    mark: bool  # whether it is a combining mark itself, which chooses the pattern


def kind(char: str) -> Kind:
    """What `char` is to each way of splitting text into words."""
    plain, marked = _FAST.match(char * 2), _MARKED.match(char * 2)
    return Kind(
        Role(plain.end() if plain else 0),
        Role(marked.end() if marked else 0),
        _MARK.match(char) is not None,
    )


BETWEEN = Kind(Role.BETWEEN, Role.BETWEEN, False)  # never part of a word
IN_RUN = Kind(Role.IN_RUN, Role.IN_RUN, False)  # always inside a run: ASCII letters, digits
ALONE = Kind(Role.ALONE, Role.ALONE, False)  # always a word alone: clause punctuation


class Words:
    """A text split into words, each folded on its own: the plain way to find query words.

    Used for texts that `fold_in_place` can't fold in place. Positions are word
    indexes; `folded_text` is the folded words, space-separated, for prefilters.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.spans = [found.span() for found in word_pattern(text).finditer(text)]
        pairs = [forms(text[start:end]) for start, end in self.spans]
        self.exact = [exact for exact, _ in pairs]
        self.folded = [folded for _, folded in pairs]
        self.folded_text = " ".join(self.folded)
        self.vocabulary = frozenset(self.folded)
        self._positions: dict[str, list[int]] = {}
        self._sorted: list[str] | None = None

    def positions(self, word: str) -> list[int]:
        """Indexes at which the folded `word` occurs."""
        if word not in self.vocabulary:
            return []
        found = self._positions.get(word)
        if found is None:
            # list.index scans in C: far cheaper than indexing every word of the
            # text when only a term's few words are looked up.
            found = self._positions[word] = []
            index = -1
            with contextlib.suppress(ValueError):
                while True:
                    index = self.folded.index(word, index + 1)
                    found.append(index)
        return found

    def starting(self, prefix: str) -> list[str]:
        """The distinct folded words that start with `prefix`."""
        if self._sorted is None:
            self._sorted = sorted(self.vocabulary)  # one sort in C, then bisect per prefix
        found = []
        for word in itertools.islice(self._sorted, bisect.bisect_left(self._sorted, prefix), None):
            if not word.startswith(prefix):
                break
            found.append(word)
        return found

    def find(
        self,
        words: Phrase,
        exact: Phrase | None,
        prefix: bool,
        starts: list[int] | None = None,
        within: Ranges | None = None,
    ) -> list[tuple[int, int]]:
        """Where the phrase `words` occurs (the last word a prefix if `prefix`): word index ranges.

        `exact` are the words' case-sensitive forms, when they must match too.
        `starts` is for `FoldedWords.find`: a split text knows its own positions.
        `within`, if given, keeps only places that start in one of its ranges.
        """
        size, last = len(words), len(words) - 1
        if size == 1 and prefix:
            firsts = sorted(i for w in self.starting(words[0]) for i in self.positions(w))
        else:
            firsts = self.positions(words[0])
        if within is not None:
            firsts = inside(firsts, within)
        found = []
        for start in firsts:
            if start + size > len(self.folded):
                continue
            for k in range(size):
                if not same(self.folded[start + k], words[k], prefix and k == last):
                    break
                if exact is not None and not same(
                    self.exact[start + k], exact[k], prefix and k == last
                ):
                    break
            else:
                found.append((start, start + size))
        return found

    def exists(self, words: Phrase, exact: Phrase | None, prefix: bool) -> bool:
        """Whether the phrase occurs at all."""
        return bool(self.find(words, exact, prefix))

    def words_between(self, after: int, before: int, limit: int) -> int:
        """How many words lie from position `after` up to `before`, counting at most `limit`."""
        return min(before - after, limit)

    def around(self, start: int, reach: int) -> tuple[int, int]:
        """The first and last position fewer than `reach` words from `start`, either way."""
        return max(0, start - reach + 1), start + reach - 1

    def chars(self, first: int, end: int) -> tuple[int, int]:
        """Character offsets in `text` of the words first..end-1."""
        return self.spans[first][0], self.spans[end - 1][1]


Ranges = list[tuple[int, int]]  # sorted, apart: first and last position of each


def inside(places: Iterable[int], ranges: Ranges) -> list[int]:
    """The `places` that fall in one of the `ranges`, in their order."""
    lasts = [last for _, last in ranges]
    found = []
    for place in places:
        index = bisect.bisect_left(lasts, place)
        if index < len(ranges) and ranges[index][0] <= place:
            found.append(place)
    return found


def same(have: str, want: str, prefix: bool) -> bool:
    """Whether a word of the text is the query's word (or starts with it, if `prefix`)."""
    return have.startswith(want) if prefix else have == want
