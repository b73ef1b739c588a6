"""Words: what a word is, and folding a text without moving its words."""

from __future__ import annotations

import re
import unicodedata

import pytest
import regex
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from watcher.match import folded
from watcher.match.folded import FoldedWords, _moved, fold_in_place
from watcher.match.words import BETWEEN, SPACELESS, Words, inside, kind, word_pattern

SPACELESS_CLASS = re.compile(f"[{SPACELESS}]")
HAN_KANA = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}]")


def every_character() -> list[str]:
    return [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000]


def test_spaceless_ranges_are_the_han_and_kana_scripts() -> None:
    differ = [
        f"U+{ord(c):04X}"
        for c in every_character()
        if bool(SPACELESS_CLASS.match(c)) != bool(HAN_KANA.match(c))
    ]

    assert differ == []


def test_moved_characters_are_every_character_folding_moves() -> None:
    # _moved skips blocks of 256 that folding leaves alone; here every character is looked at.
    moved, between = set(), set()
    for char in every_character():
        folded = unicodedata.normalize("NFKC", char).casefold()
        if folded != char and (len(folded) != 1 or kind(folded) != kind(char)):
            moved.add(char)
            if kind(char) == BETWEEN:
                between.add(char)
    table = _moved()

    assert {c for c in moved if c < "\U00010000"} == {
        c for c in map(chr, range(0x10000)) if table.bmp.match(c)
    }
    assert {c for c in moved if c >= "\U00010000"} == {c for c in moved if table.astral.match(c)}
    assert between == table.between


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Mumbai–Ahmedabad", "mumbai–ahmedabad"),  # case folded, dash kept
        ("The ＡＩ Dialogue", "the ai dialogue"),  # full width: one character for one
        ("Tokyo\xa0and Delhi", "tokyo and delhi"),  # no-break space
        ("日本，インド", "日本,インド"),  # a full-width comma folds into a comma
        ("Wait… and see", "wait  and see"),  # an ellipsis only separates: a space
        ("Apple™ Watch", "apple  watch"),  # so does a trade mark sign
    ],
    ids=["case", "full-width", "no-break-space", "full-width-comma", "ellipsis", "trade-mark"],
)
def test_folding_in_place_keeps_every_character_where_it_was(text: str, folded: str) -> None:
    assert fold_in_place(text) == folded


@pytest.mark.parametrize(
    "text",
    [
        "Straße",  # ß folds into ss
        "İstanbul",  # İ folds into i and a combining dot
        "2½ years",  # ½ folds into 1⁄2, inside a word
        "x² and y",  # ² folds into a digit, a word character in one way of splitting only
        "cafe\u0301",  # a decomposed accent composes: the text gets shorter
        "\u0345 iota",  # a combining mark that case-folds into a letter
        "see \U0001f110",  # a parenthesised letter folds into (a)
    ],
    ids=["sharp-s", "dotted-i", "fraction", "superscript", "decomposed", "ypogegrammeni", "astral"],
)
def test_folding_that_moves_words_is_refused(text: str) -> None:
    assert fold_in_place(text) is None


def test_common_characters_are_each_in_a_run_alone_or_between_words() -> None:
    sets = (folded._IN_RUN, folded._ALONE, folded._SPACE)

    assert [c for c in folded._COMMON if sum(c in chars for chars in sets) != 1] == []


# --- counting words in a text folded in place -----------------------------------------

PIECES = [
    *[
        "india",
        "Japan",
        "rail",
        "2026",
        "x_1",
        "東京",
        "の",
        "रेल",
        "café",
        "cafe\u0301",
        "ｔｏｍｕ",
    ],
    *[" ", " ", " ", "  ", "\n", "-", "–", ", ", ". ", "“", "”", "(", ")", "…", "\xa0", "/"],
]
FOLDED_TEXT = st.lists(st.sampled_from(PIECES), min_size=1, max_size=120).map("".join)


def _words_and_starts(text: str) -> tuple[FoldedWords, list[int]]:
    """`text` as FoldedWords and where its words start (examples folding would move are
    not for these tests)."""
    folded_text = fold_in_place(text)
    assume(folded_text is not None)
    assert folded_text is not None
    starts = [found.start() for found in word_pattern(folded_text).finditer(folded_text)]
    assume(starts)
    return FoldedWords(text, folded_text), starts


@settings(max_examples=300, deadline=None)
@given(FOLDED_TEXT, st.data())
def test_words_between_counts_the_words_the_word_pattern_finds(
    text: str, data: st.DataObject
) -> None:
    words, starts = _words_and_starts(text)
    folded_text = words.folded_text
    after, before = sorted(data.draw(st.lists(st.sampled_from(starts), min_size=2, max_size=2)))
    limit = data.draw(st.integers(1, 12))
    counted = sum(1 for _ in word_pattern(folded_text).finditer(folded_text, after, before))

    assert words.words_between(after, before, limit) == min(counted, limit)


@settings(max_examples=300, deadline=None)
@given(FOLDED_TEXT, st.data())
def test_around_a_word_are_the_word_starts_fewer_than_reach_words_away(
    text: str, data: st.DataObject
) -> None:
    words, starts = _words_and_starts(text)
    start = data.draw(st.sampled_from(starts))
    reach = data.draw(st.integers(1, 12))

    first, last = words.around(start, reach)

    assert [other for other in starts if first <= other <= last] == [
        other
        for other in starts
        if words.words_between(min(start, other), max(start, other), reach) < reach
    ]


def test_around_a_word_in_a_split_text_are_the_words_fewer_than_reach_away() -> None:
    assert Words("a b c d e f g").around(3, 2) == (2, 4)


def test_inside_keeps_the_places_in_one_of_the_ranges() -> None:
    assert inside([0, 2, 5, 9, 10, 14], [(2, 5), (9, 12)]) == [2, 5, 9, 10]
