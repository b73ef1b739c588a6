"""The single operations the matcher's design rests on, timed on real article text.

Each line is one choice the source comments name (words, folded, anchors,
snippets, terms, spans) with its cost, and the alternative it was chosen over
where one exists. Texts: the article text trafilatura extracts from the 33
real pages of ../shared/corpus/pages, as in match_bench.py: "5 kB" is the
article nearest that size, "4 MB" all of them repeated. Each figure is the
best of `--repeat` timings (load from elsewhere only ever adds time).

    .venv/bin/python bench/micro_bench.py
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import re
import sys
import timeit
from collections.abc import Callable

import ahocorasick
import ahocorasick_rs
import regex
from match_bench import articles, generated_terms, repeated

from watcher.match.anchors import ascii_words
from watcher.match.folded import _APART, FoldedWords, fold_in_place
from watcher.match.snippets import _one_spaced, snippet
from watcher.match.spans import Span
from watcher.match.words import _FAST, _MARKED, _PLAIN, HARD, Words, fold_text, split, word_pattern
from watcher.models import Match


def best(work: Callable[[], object], repeat: int) -> float:
    """Seconds one call of `work` takes, the best of `repeat` timings."""
    number, _ = timeit.Timer(work).autorange()
    return min(timeit.repeat(work, number=number, repeat=repeat)) / number


def show(what: str, *figures: float) -> None:
    shown = " against ".join(_unit(seconds) for seconds in figures)
    print(f"{what:<62} {shown}")


def _unit(seconds: float) -> str:
    if seconds >= 0.1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.2f} µs"


@dataclasses.dataclass(frozen=True, order=True, slots=True)
class _FrozenSpan:
    place: int
    start: int
    end: int
    clause: str
    size: int


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="timings per figure (best)")
    args = parser.parse_args()
    r = args.repeat
    texts = articles()
    article = min((text for _, text in texts), key=lambda text: abs(len(text) - 5000))
    folded = fold_text(article)
    big = "\n".join(text for _, text in repeated(texts, 4.0))
    big_folded = fold_text(big)
    terms = generated_terms(random.Random(20261123), texts, 1000)
    anchors = sorted({leaf.words[0] for term in terms for leaf in term.anchors})
    present = max(split(folded), key=len)
    absent = "kamudrivaost"
    print(f"python {sys.version.split()[0]}; 5 kB = an article of {len(article)} characters;")
    print(f"4 MB = {len(big):,} characters; {len(anchors)} anchor words of 1000 generated terms")
    print()

    show("splitting 5 kB into words in Python (words.Words)", best(lambda: Words(article), r))
    show(
        "the word pattern chosen for 5 kB of English (word_pattern)",
        best(lambda: word_pattern(article).findall(article), r),
    )
    show(
        "the patterns for text with Han or kana, and with marks, 5 kB",
        best(lambda: _FAST.findall(article), r),
        best(lambda: _MARKED.findall(article), r),
    )
    scripts = r"\p{Han}\p{Hiragana}\p{Katakana}"
    by_name = regex.compile(rf"[^\W{scripts}]+|[{scripts}]|[{HARD}]")
    show(
        "Han and kana spelled out for re, against regex's \\p{...}, 5 kB",
        best(lambda: _FAST.findall(article), r),
        best(lambda: by_name.findall(article), r),
    )
    show(
        "finding a word in the folded 5 kB (str.find): present, absent",
        best(lambda: folded.find(present), r),
        best(lambda: folded.find(absent), r),
    )
    show(
        "the word pattern over the folded 5 kB, where checks can't tell",
        best(lambda: list(_PLAIN.finditer(folded)), r),
    )
    words = FoldedWords(article, fold_in_place(article) or folded)
    show(
        "a word's places in the folded 5 kB (FoldedWords.find)",
        best(lambda: words.find((present,), None, False), r),
    )
    show(
        "whether a character parts words: set lookup, against regex",
        best(lambda: " " in _APART, r),
        best(lambda: _PLAIN.match(" "), r),
    )
    show(
        "the ASCII copy of 4 MB the anchor scan reads (ascii_words)",
        best(lambda: ascii_words(big_folded), r),
    )
    view = ascii_words(big_folded)
    for count in (1, 12, len(anchors)):
        chosen = [word.encode() for word in anchors[:count] if word.isascii()]
        longest = ahocorasick_rs.BytesAhoCorasick(
            chosen, matchkind=ahocorasick_rs.MatchKind.LeftmostLongest,
            implementation=ahocorasick_rs.Implementation.DFA,
        )  # fmt: skip
        overlapping = ahocorasick_rs.BytesAhoCorasick(
            chosen, implementation=ahocorasick_rs.Implementation.DFA
        )
        show(
            f"DFA over 4 MB, {count} words: leftmost-longest, every overlap",
            best(lambda a=longest: a.find_matches_as_indexes(view), r),
            best(lambda a=overlapping: a.find_matches_as_indexes(view, overlapping=True), r),
        )
        older = ahocorasick.Automaton()
        for word in anchors[:count]:
            older.add_word(word, word)
        older.make_automaton()
        show(
            f"pyahocorasick over the folded 4 MB, {count} words",
            best(lambda a=older: sum(1 for _ in a.iter(big_folded)), max(1, r // 3)),
        )
    many = [f"{word}{tail}" for word in anchors for tail in "abcdefghijklmnopqr"][:20_000]
    for chosen in (anchors, many):
        encoded = [word.encode() for word in chosen if word.isascii()]

        def build(words: list[bytes] = encoded) -> object:
            return ahocorasick_rs.BytesAhoCorasick(
                words,
                matchkind=ahocorasick_rs.MatchKind.LeftmostLongest,
                implementation=ahocorasick_rs.Implementation.DFA,
            )

        show(f"building the DFA for {len(encoded)} words", best(build, 3))
    text_automaton = ahocorasick_rs.AhoCorasick(anchors[:12])
    bytes_automaton = ahocorasick_rs.BytesAhoCorasick([w.encode() for w in anchors[:12]])
    big_bytes = big_folded.encode()
    show(
        "ahocorasick-rs given str (offsets mapped), against bytes, 4 MB",
        best(lambda: text_automaton.find_matches_as_indexes(big_folded), r),
        best(lambda: bytes_automaton.find_matches_as_indexes(big_bytes), r),
    )
    place = [(len(article) // 2, len(article) // 2 + len(present))]
    show(
        "a snippet around one match (snippets.snippet)",
        best(lambda: snippet(article, place), r),
    )
    piece = article[:400]
    show(
        "one-spacing a snippet: split and join, against re.sub",
        best(lambda: _one_spaced(piece), r),
        best(lambda: re.sub(r"\s+", " ", piece), r),
    )
    fields = ("t", "phrase", "snippet", 2.5, 1, False, ("a",), ((0, 1),))
    names = [field.name for field in dataclasses.fields(Match)]
    keywords = dict(zip(names, fields, strict=True))
    show(
        "making a Match by position, against by keyword",
        best(lambda: Match(*fields), r),  # type: ignore[arg-type]
        best(lambda: Match(**keywords), r),  # type: ignore[arg-type]
    )
    show("round() of a match's closeness", best(lambda: round(0.123456, 3), r))
    show(
        "making a Span: not frozen, against frozen",
        best(lambda: Span(1, 2, 3, "a", 1), r),
        best(lambda: _FrozenSpan(1, 2, 3, "a", 1), r),
    )


if __name__ == "__main__":
    main()
