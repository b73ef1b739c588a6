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

import bisect
import contextlib
import itertools
import re
import unicodedata
from collections.abc import Iterator

import regex

# Han, Hiragana and Katakana (Unicode scripts), spelled out for the stdlib re,
# which is about six times faster than the regex module here;
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


def _words(text: str) -> re.Pattern[str] | regex.Pattern[str]:
    """The cheapest pattern that splits `text` correctly (measured: 94 against 216 µs on 5 kB)."""
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
        word.replace("_", " ") for word in _words(folded).findall(folded) if word not in _HARD_SET
    )


def joins(before: str, after: str) -> bool:
    """Whether two adjacent characters belong to one word (so no word boundary lies between)."""
    if not (before.isalnum() or before == "_") or not (after.isalnum() or after == "_"):
        return False
    return not (_SPACELESS_CHAR.match(before) or _SPACELESS_CHAR.match(after))


def split(text: str) -> list[str]:
    """The words of `text`, as written (clause punctuation included, one mark a word)."""
    return _words(text).findall(text)


class Words:
    """A text as folded words, with positions, exact forms and spans worked out on demand.

    Matching needs the folded words of every article but positions, exact
    forms and character spans only where a term may match, so the eager part
    is one NFKC + case-fold of the whole text and one `findall` (both in C).
    """

    def __init__(self, text: str, folded_text: str | None = None) -> None:
        self.text = text
        folded = fold_text(text) if folded_text is None else folded_text
        self.folded: list[str] = _words(folded).findall(folded)
        self.vocabulary = frozenset(self.folded)
        self._positions: dict[str, list[int]] = {}
        self._sorted: list[str] | None = None
        self._pulled: list[tuple[int, int]] = []  # spans found so far, for snippets
        self._pulling: Iterator[re.Match[str]] | None = None
        self._exact: list[str] | None = None
        self._spans: list[tuple[int, int]] | None = None

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

    @property
    def exact(self) -> list[str]:
        """The words in NFKC but not case-folded, for case-sensitive query parts."""
        if self._exact is None:
            text = self.text
            self._exact = [unicodedata.normalize("NFKC", text[a:b]) for a, b in self.spans]
        return self._exact

    @property
    def spans(self) -> list[tuple[int, int]]:
        """Character offsets of each word in the original text.

        Folding the whole text keeps word boundaries in practice; when it does
        not (a compatibility character that NFKC expands into two words), the
        words are folded one by one instead, which is always right.
        """
        if self._spans is None:
            text = self.text
            self._spans = [found.span() for found in _words(text).finditer(text)]
            if len(self._spans) != len(self.folded):
                self.folded = [forms(text[a:b])[1] for a, b in self._spans]
                self.vocabulary = frozenset(self.folded)
                self._positions = {}
                self._sorted = None
        return self._spans

    def chars(self, first: int, end: int) -> tuple[int, int]:
        """Character offsets of the words first..end-1.

        Snippets need the offsets of a few words near a match, so the original
        text is tokenised only as far as the last word asked for.
        """
        if self._spans is not None:
            return self._spans[first][0], self._spans[end - 1][1]
        if self._pulling is None:
            self._pulling = _words(self.text).finditer(self.text)
        while len(self._pulled) < end:
            found = next(self._pulling, None)
            if found is None:
                return self.spans[first][0], self.spans[end - 1][1]  # realigned, see spans
            self._pulled.append(found.span())
        return self._pulled[first][0], self._pulled[end - 1][1]
