"""Watch-terms: parse a query, then find its matches in an article.

This is the phrase subset of the query language: a query is one or more
"quoted phrases" or single words joined by OR. Matching is on words, so case,
Unicode compatibility forms (NFKC: full-width letters equal ASCII ones),
dashes and punctuation between words never matter: "Mumbai–Ahmedabad"
(en dash), "Mumbai-Ahmedabad" and "Mumbai Ahmedabad" are the same two words.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import regex

from watcher.errors import QueryError
from watcher.models import Match

_SPACELESS = r"\p{Han}\p{Hiragana}\p{Katakana}"
# A word is a run of letters, digits and combining marks (a Devanagari vowel sign
# belongs to its word); each Han, Hiragana or Katakana character is a word of its
# own, because Japanese and Chinese put no spaces between words, so a phrase in
# those scripts matches as a character sequence.
_WORD = regex.compile(rf"[{_SPACELESS}]|(?:(?![{_SPACELESS}])[\w\p{{M}}])+")
# A phrase in straight or typographic double quotes, the OR keyword, or a bare word.
_QUERY_TOKEN = re.compile(r'\s*(?:"([^"]*)"|“([^”]*)”|(\S+))')

TITLE_WEIGHT = 3.0  # a match in the headline says more than one deep in the text
SNIPPET_BEFORE = 90
SNIPPET_AFTER = 150


@dataclass(frozen=True)
class Term:
    """A named, compiled watch-term."""

    name: str
    query: str
    phrases: tuple[tuple[str, ...], ...]  # each phrase as its folded words


def fold(word: str) -> str:
    """A word in the form matching compares: NFKC (full-width to ASCII), case-folded."""
    return unicodedata.normalize("NFKC", word).casefold()


def words(text: str) -> list[str]:
    """The folded words of a text."""
    return [fold(found.group()) for found in _WORD.finditer(text)]


def compile_term(name: str, query: str) -> Term:
    """Parse `query` ("phrase" OR word OR ...) into a `Term`; raise `QueryError` if it fails."""
    phrases: list[tuple[str, ...]] = []
    expect_phrase = True
    position = 0
    for found in _QUERY_TOKEN.finditer(query):
        if not found.group(0).strip():
            break
        position = found.start() + len(found.group(0)) - len(found.group(0).lstrip())
        quoted = found.group(1) if found.group(1) is not None else found.group(2)
        bare = found.group(3)
        if bare == "OR" and quoted is None:
            if expect_phrase:
                raise QueryError(f"at {position + 1}: expected a phrase or word before OR")
            expect_phrase = True
            continue
        if not expect_phrase:
            raise QueryError(
                f"at {position + 1}: expected OR before {found.group(0).strip()!r}"
                " (only phrases joined by OR are supported)"
            )
        if bare is not None and (bare.startswith('"') or bare.startswith("“")):
            raise QueryError(f"at {position + 1}: unterminated quote")
        phrase = tuple(words(quoted if quoted is not None else bare or ""))
        if not phrase:
            raise QueryError(f"at {position + 1}: empty phrase")
        phrases.append(phrase)
        expect_phrase = False
    if not phrases:
        raise QueryError("empty query")
    if expect_phrase:
        raise QueryError(f"at {len(query)}: expected a phrase or word after OR")
    return Term(name=name, query=query, phrases=tuple(phrases))


@dataclass(frozen=True)
class _Indexed:
    """A text with its folded words, their character spans and where each word occurs."""

    text: str
    words: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]
    where: dict[str, list[int]]

    @classmethod
    def of(cls, text: str) -> _Indexed:
        found = list(_WORD.finditer(text))
        folded = tuple(fold(item.group()) for item in found)
        where: dict[str, list[int]] = defaultdict(list)
        for index, word in enumerate(folded):
            where[word].append(index)
        return cls(text=text, words=folded, spans=tuple(item.span() for item in found), where=where)

    def find(self, phrase: tuple[str, ...]) -> list[int]:
        """Indexes of the first word of each occurrence of `phrase`."""
        hits = []
        size = len(phrase)
        for start in self.where.get(phrase[0], ()):
            if self.words[start : start + size] == phrase:
                hits.append(start)
        return hits

    def quote(self, word_index: int, length: int) -> str:
        """The matched words as they stand in the text."""
        return self.text[self.spans[word_index][0] : self.spans[word_index + length - 1][1]]

    def snippet(self, word_index: int, length: int) -> str:
        """The text around a match, cut at word boundaries, whitespace collapsed."""
        begin = self.spans[word_index][0]
        end = self.spans[word_index + length - 1][1]
        left = max(0, begin - SNIPPET_BEFORE)
        right = min(len(self.text), end + SNIPPET_AFTER)
        if left > 0:
            space = self.text.find(" ", left, begin)
            left = space + 1 if space != -1 else left
        if right < len(self.text):
            space = self.text.rfind(" ", end, right)
            right = space if space != -1 else right
        body = " ".join(self.text[left:right].split())
        return ("…" if left > 0 else "") + body + ("…" if right < len(self.text) else "")


def match_terms(terms: Iterable[Term], title: str, text: str) -> list[Match]:
    """Every term found in the article, with snippet and score; title and text indexed once."""
    head = _Indexed.of(title)
    body = _Indexed.of(text)
    matches = []
    for term in terms:
        in_title = in_text = 0
        best_text: tuple[int, tuple[str, ...]] | None = None
        best_title: tuple[int, tuple[str, ...]] | None = None
        for phrase in term.phrases:
            title_hits = head.find(phrase)
            text_hits = body.find(phrase)
            in_title += len(title_hits)
            in_text += len(text_hits)
            if text_hits and (best_text is None or text_hits[0] < best_text[0]):
                best_text = (text_hits[0], phrase)
            if title_hits and (best_title is None or title_hits[0] < best_title[0]):
                best_title = (title_hits[0], phrase)
        # The snippet shows the first match in the text; the title is shown anyway.
        source, best = (body, best_text) if best_text else (head, best_title)
        if best is None:
            continue
        index, phrase = best
        matches.append(
            Match(
                term=term.name,
                phrase=source.quote(index, len(phrase)),
                snippet=source.snippet(index, len(phrase)),
                score=TITLE_WEIGHT * in_title + in_text,
                count=in_title + in_text,
                in_title=in_title > 0,
            )
        )
    return matches
