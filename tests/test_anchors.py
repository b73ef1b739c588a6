"""Anchor words: which terms the scan of an article picks, and where it notes their words.

With many anchor words, those of ASCII letters and digits are looked for in
an ASCII copy of the text by a DFA of the bare words, and a place not at a
word start is dropped (`watcher.anchors.Anchors.scan`); these tests make one
word enough for that.
"""

from __future__ import annotations

from collections import defaultdict
from unittest.mock import patch

import watcher.anchors as anchors_module
from watcher.anchors import Anchors
from watcher.terms import compile_term
from watcher.words import fold_text


def scan(query: str, text: str) -> tuple[bool, dict[str, list[int]]]:
    """Whether the scan of `text` picks the term `query`, and the places it notes."""
    with patch.object(anchors_module, "_WORD_STARTS_FROM", 1):
        anchors = Anchors([compile_term("t", query)])
    hits: defaultdict[str, list[int]] = defaultdict(list)
    return anchors.scan(fold_text(text), hits) == [0], dict(hits)


def test_an_anchor_word_inside_a_longer_word_picks_no_term_and_is_not_noted() -> None:
    assert scan("kari", "Makari and makarisma.") == (False, {})


def test_an_anchor_word_starting_a_longer_word_is_noted_but_picks_no_term() -> None:
    assert scan("kari", "The Karis") == (False, {"kari": [4]})


def test_an_anchor_word_at_a_word_start_is_noted_at_its_offset_in_the_text() -> None:
    assert scan("kari", "Makari met Kari (kari).") == (True, {"kari": [11, 17]})


def test_a_wildcard_anchor_picks_its_term_at_the_start_of_a_longer_word() -> None:
    assert scan("kari*", "Makari, karisma") == (True, {"kari": [8]})


def test_an_anchor_word_after_a_non_ascii_letter_is_noted_but_picks_no_term() -> None:
    # The ASCII copy has a space for "é": the place is noted (evaluation
    # then tells it is no word start), but the word goes on, so no term.
    assert scan("kari", "ékaris") == (False, {"kari": [1]})
