"""Anchor words: which terms the scan of an article picks, and where it notes their words.

Anchor words of ASCII letters and digits are looked for in an ASCII copy of
the text by a DFA of the bare words, which finds the longest at each place,
and a place not at a word start is dropped (`watcher.match.anchors.Anchors.scan`).
"""

from __future__ import annotations

from collections import defaultdict

from watcher.match.anchors import Anchors
from watcher.match.terms import compile_term
from watcher.match.words import fold_text


def scan(query: str, text: str) -> tuple[bool, dict[str, list[int]]]:
    """Whether the scan of `text` picks the term `query`, and the places it notes."""
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


def scan_many(queries: list[str], text: str) -> tuple[list[int], dict[str, list[int]]]:
    """The terms (indexes) the scan of `text` picks of `queries`, and the places it notes."""
    anchors = Anchors([compile_term(f"t{i}", query) for i, query in enumerate(queries)])
    hits: defaultdict[str, list[int]] = defaultdict(list)
    return anchors.scan(fold_text(text), hits), dict(hits)


def test_a_wildcard_anchor_starting_a_longer_anchor_word_is_found_with_it() -> None:
    assert scan_many(["kari*", "karito"], "Karito, karitos") == (
        [0, 1],
        {"kari": [0, 8], "karito": [0, 8]},
    )


def test_an_anchor_word_starting_a_longer_anchor_word_found_is_not_whole_there() -> None:
    assert scan_many(["kari", "karito*", "kar*"], "karitomu") == (
        [1, 2],
        {"kar": [0], "kari": [0], "karito": [0]},
    )


def test_a_shorter_anchor_word_is_whole_where_the_longer_is_absent() -> None:
    assert scan_many(["kari", "karito"], "kari karit") == ([0], {"kari": [0, 5]})


def test_a_phrase_notes_its_other_word_for_its_check() -> None:
    anchors = Anchors([compile_term("t", '"kari tomu"')])
    hits: defaultdict[str, list[int]] = defaultdict(list)

    assert anchors.scan(fold_text("Kari, xtomu and tomus"), hits) == [0]
    assert anchors.checks[0].noted == ("tomu",)
    assert dict(hits) == {"kari": [0], "tomu": [16]}


def test_the_check_of_a_phrase_fails_where_its_other_word_starts_no_word() -> None:
    anchors = Anchors([compile_term("t", '"kari tomu"')])
    hits: defaultdict[str, list[int]] = defaultdict(list)
    folded = fold_text("Kari xtomu")

    anchors.scan(folded, hits)

    assert anchors.checks[0].holds(folded, hits) is False


def test_the_check_of_a_near_searches_a_group_of_words_in_the_text() -> None:
    anchors = Anchors([compile_term("t", "kari NEAR/3 (tomu OR sen)")])
    hits: defaultdict[str, list[int]] = defaultdict(list)
    folded = fold_text("Kari xsenx")

    anchors.scan(folded, hits)

    assert anchors.checks[0].noted == ()
    assert anchors.checks[0].holds(folded, hits) is True  # as a substring: a cheap filter
