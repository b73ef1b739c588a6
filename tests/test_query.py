"""The query language: what each operator matches, and errors that name the position."""

from __future__ import annotations

import contextlib
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from watcher.errors import QueryError
from watcher.query import parse
from watcher.terms import compile_term, match_terms


def hits(query: str, text: str, title: str = "") -> bool:
    return bool(match_terms([compile_term("t", query)], title, text))


# --- operators -----------------------------------------------------------------


def test_and_needs_both_sides() -> None:
    assert hits("Japan AND India", "Japan and India met.")
    assert not hits("Japan AND India", "Japan met Korea.")


def test_neighbouring_words_are_an_implicit_and() -> None:
    assert hits("rail Surat", "The station at Surat is on the rail line.")
    assert not hits("rail Surat", "The station at Surat.")


def test_not_excludes_articles_with_the_word() -> None:
    query = '"critical minerals" AND NOT Australia'

    assert hits(query, "Talks on critical minerals went well.")
    assert not hits(query, "Talks on critical minerals with Australia went well.")


def test_parentheses_group_before_and() -> None:
    query = '(JWG OR "joint working group") AND minerals'

    assert hits(query, "The joint working group on minerals met.")
    assert not hits(query, "The joint working group on ports met.")


def test_or_binds_looser_than_and() -> None:
    # a OR b c  ==  a OR (b AND c)
    assert hits("lithium OR cobalt nickel", "Lithium prices fell.")
    assert not hits("lithium OR cobalt nickel", "Cobalt prices fell.")


def test_near_matches_within_the_distance_in_either_order() -> None:
    assert hits("Unicorn NEAR/3 mast", "the UNICORN integrated mast")
    assert hits("Unicorn NEAR/3 mast", "the mast called UNICORN")
    assert not hits("Unicorn NEAR/3 mast", "a unicorn startup raised money for a new ship mast")


def test_near_counts_words_between_the_two_sides() -> None:
    assert hits("India NEAR/2 Japan", "India and also Japan")
    assert not hits("India NEAR/1 Japan", "India and also Japan")


def test_near_takes_or_groups_on_both_sides() -> None:
    query = '(JWG OR "working group") NEAR/5 ("rare earth*" OR "critical minerals")'

    assert hits(query, "the working group on rare earths met")
    assert not hits(query, "the working group met. Later, far away, in another story rare earths")


def test_near_does_not_reach_from_title_into_text() -> None:
    assert not hits("Surat NEAR/2 station", "station opened", title="Surat")


def test_trailing_wildcard_matches_word_starts() -> None:
    assert hits("earth*", "Rare earths are scarce.")
    assert hits('"rare earth*"', "rare-earth magnets")
    assert not hits('"rare earth*"', "rare metals on earth")


def test_equals_sign_makes_a_word_case_sensitive() -> None:
    assert hits("=UNICORN", "fit the UNICORN mast")
    assert not hits("=UNICORN", "a Unicorn startup")
    assert hits("unicorn", "a Unicorn startup")


def test_case_sensitive_phrase_with_full_width_letters() -> None:
    assert hits('="AI Dialogue"', "the ＡＩ Ｄｉａｌｏｇｕｅ opened")
    assert not hits('="AI Dialogue"', "the ai dialogue opened")


def test_title_field_looks_only_at_the_headline() -> None:
    assert hits("title:bullet", "no word here", title="Bullet train delayed")
    assert not hits("title:bullet", "the bullet train", title="Rail news")


def test_text_field_looks_only_at_the_body() -> None:
    assert not hits("text:bullet", "rail news", title="Bullet train delayed")


def test_lower_case_operators_are_ordinary_words() -> None:
    assert hits('"war and peace"', "War and Peace")
    assert not hits("India and Japan", "India meets Japan")  # "and" is a required word


def test_japanese_phrase_matches_as_a_character_sequence() -> None:
    assert hits("日印", "日印外相会談が開かれた")
    assert hits('"AI 対話"', "日印AI対話が始まる")
    assert not hits("日印", "印日")


def test_hindi_words_keep_their_vowel_signs() -> None:
    assert hits("रेल", "मुंबई अहमदाबाद हाई स्पीड रेल परियोजना")
    assert not hits("रेल", "उनका रोल छोटा था")


# --- errors --------------------------------------------------------------------

NEAR_OPERANDS = "words, phrases or OR-groups of them on both sides"
ABSENT_ONLY = "the query matches only by what is absent; add a word or phrase, e.g. A AND NOT B"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("(JWG OR minerals", "at 17: expected ')', found the end of the query"),
        ("JWG )", "at 5: expected OR, AND, NOT, NEAR/n, a word or the end of the query, found ')'"),
        ("JWG NEAR minerals", "at 5: NEAR needs a distance in words, like NEAR/5"),
        ("JWG NEAR/101 minerals", "at 5: NEAR/n goes up to NEAR/100"),
        ("JWG NEAR/3 (a AND b)", f"at 5: NEAR/3 needs {NEAR_OPERANDS}"),
        ("NOT Australia", ABSENT_ONLY),
        ("JWG OR NOT Australia", ABSENT_ONLY),
        ("source:PIB", "at 1: unknown field 'source' (fields: title, text)"),
        ("ear*th", "at 1: a wildcard * goes only at the end of a word"),
        ("ea*", "at 1: a wildcard needs at least 3 characters before *"),
        ('"JWG', "at 1: unterminated quote"),
        ("=", "at 1: empty word"),
        ("JWG AND", "at 8: expected a word, a \"phrase\" or '(', found the end of the query"),
    ],
)  # fmt: skip
def test_mistakes_are_named_with_their_position(query: str, message: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse(query)

    assert str(caught.value) == message


def test_deep_nesting_is_refused() -> None:
    with pytest.raises(QueryError, match="more than 32 nested parentheses"):
        parse("(" * 40 + "JWG" + ")" * 40)


def test_very_long_query_is_refused() -> None:
    with pytest.raises(QueryError, match="longer than 4000 characters"):
        parse("JWG OR " * 700 + "JWG")


# --- properties ----------------------------------------------------------------

EXAMPLES = int(os.environ.get("WATCHER_HYPOTHESIS_EXAMPLES", "300"))
QUERY_ALPHABET = st.sampled_from(
    [*'abcJWG "()*=:/ ', "AND ", "OR ", "NOT ", "NEAR/3 ", "title:", "日", "–", "\n"]
)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(QUERY_ALPHABET, max_size=40).map("".join))
def test_any_query_text_parses_or_raises_query_error(query: str) -> None:
    try:
        tree = parse(query)
    except QueryError as exc:
        assert str(exc)  # a message, never an empty one
    else:
        assert tree is not None


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.text(max_size=60))
def test_any_unicode_query_parses_or_raises_query_error(query: str) -> None:
    with contextlib.suppress(QueryError):
        parse(query)


@settings(max_examples=EXAMPLES // 3, deadline=None)
@given(
    st.lists(QUERY_ALPHABET, min_size=1, max_size=30).map("".join),
    st.text(alphabet="abcJWG 日–", max_size=400),
)
def test_any_parsed_query_matches_any_text_without_error(query: str, text: str) -> None:
    try:
        term = compile_term("t", query)
    except QueryError:
        return
    for match in match_terms([term], text[:20], text):
        assert match.snippet
        for start, end in match.highlights:
            assert 0 <= start < end <= len(match.snippet)
