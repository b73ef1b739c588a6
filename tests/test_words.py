"""Words: what a word is, and folding a text without moving its words."""

from __future__ import annotations

import re
import unicodedata

import pytest
import regex

from watcher import folded
from watcher.folded import _moved, fold_in_place
from watcher.words import SPACELESS, kind

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
            if kind(char) == (0, 0, False):
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
