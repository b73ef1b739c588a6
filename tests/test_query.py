"""The query language: what each operator matches, and errors that name the position."""

from __future__ import annotations

import contextlib
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from watcher.errors import AliasError, QueryError
from watcher.match.query import parse, resolve_aliases
from watcher.match.terms import compile_term, match_terms


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


# --- sentence and paragraph scope, phrase slop, ordered proximity ------------------


def test_slash_s_needs_both_sides_in_one_sentence() -> None:
    assert hits('Japan /s "AI Dialogue"', "Japan and India held their AI Dialogue in Tokyo.")
    assert not hits('Japan /s "AI Dialogue"', "Japan hosted the talks. The AI Dialogue went on.")


def test_near_s_is_another_spelling_of_slash_s() -> None:
    assert hits("Japan NEAR/s dialogue", "The dialogue that Japan proposed.")
    assert not hits("Japan NEAR/s dialogue", "Japan proposed it! The dialogue began.")


def test_a_single_capital_and_a_title_with_a_dot_do_not_end_a_sentence() -> None:
    assert hits("Navy /s UNICORN", "The U.S. Navy has no UNICORN mast.")
    assert hits("Sato /s dialogue", "Dr. Sato opened the dialogue.")


def test_japanese_and_hindi_full_stops_end_a_sentence() -> None:
    assert not hits("日本 /s 対話", "日本が提案した。対話は続く。")
    assert hits("日本 /s 対話", "日本が対話を提案した。")
    assert not hits("भारत /s जापान", "भारत ने कहा। जापान ने माना।")


def test_slash_p_needs_both_sides_in_one_paragraph() -> None:
    text = "Japan hosted the talks. Ministers met.\n\nThe AI Dialogue was the second item."

    assert hits("Japan /p Ministers", text)
    assert not hits('Japan /p "AI Dialogue"', text)
    assert hits('Japan NEAR/p "AI Dialogue"', text.replace("\n\n", " "))


def test_a_text_without_blank_lines_has_a_paragraph_per_line() -> None:
    assert not hits("Japan /p dialogue", "Japan hosted the talks.\nThe dialogue began.")
    # With a blank line anywhere, only blank lines separate paragraphs.
    assert hits("Japan /p talks", "Japan hosted\nthe talks.\n\nThe dialogue began.")


def test_the_title_is_a_paragraph_of_its_own() -> None:
    assert not hits("Japan /p dialogue", "The dialogue began.", title="Japan and India")
    assert hits("title:Japan /p title:India", "Nothing here.", title="Japan and India")


def test_phrase_slop_lets_words_in_between_in_order() -> None:
    assert hits('"AI Dialogue"~2', "the India-Japan AI strategic dialogue")
    assert hits('"AI Dialogue"~2', "an AI and security dialogue")
    assert not hits('"AI Dialogue"~2', "an AI, space and security dialogue")  # 4 words between
    assert not hits('"AI Dialogue"~2', "a dialogue on AI")  # order kept


def test_phrase_slop_works_in_japanese_and_case_sensitive() -> None:
    assert hits('"日印 AI 対話"~2', "日印ＡＩ戦略対話の初会合")
    assert hits('="AI Dialogue"~1', "AI Strategic Dialogue")
    assert not hits('="AI Dialogue"~1', "ai strategic dialogue")


def test_onear_needs_the_left_side_first() -> None:
    assert hits("India ONEAR/3 Japan", "India and Japan agreed")
    assert not hits("India ONEAR/3 Japan", "Japan and India agreed")
    assert not hits("India ONEAR/1 Japan", "India, China and Japan agreed")


def test_onear_takes_or_groups_and_phrases() -> None:
    query = '(India OR Indian) ONEAR/4 "bullet train"'

    assert hits(query, "the Indian high-speed bullet train")
    assert not hits(query, "a bullet train for India")


# --- aliases -------------------------------------------------------------------


def test_an_alias_stands_for_its_query_anywhere_in_a_query() -> None:
    aliases = resolve_aliases({"india_japan": '"India-Japan" OR "Japan-India" OR 日印'})
    term = compile_term("t", '@india_japan NEAR/3 "AI Dialogue"~1', aliases)

    assert match_terms([term], "", "the Japan–India AI Dialogue")
    assert match_terms([term], "", "the India-Japan AI policy dialogue")
    assert not match_terms([term], "", "India-Japan ties are old; there is also an AI Dialogue")


def test_aliases_may_name_other_aliases() -> None:
    aliases = resolve_aliases({"pair": "@india ONEAR/3 @japan", "india": "India", "japan": "Japan"})

    assert match_terms([compile_term("t", "@pair", aliases)], "", "India and Japan")
    assert not match_terms([compile_term("t", "@pair", aliases)], "", "Japan and India")


def test_an_alias_cycle_is_an_error_naming_the_cycle() -> None:
    with pytest.raises(AliasError) as caught:
        resolve_aliases({"a": "x OR @b", "b": "y OR @a"})

    assert caught.value.alias == "a"
    assert str(caught.value) == "aliases name each other in a cycle: @a -> @b -> @a"


def test_an_unknown_alias_in_a_query_is_named_with_the_known_ones() -> None:
    with pytest.raises(QueryError) as caught:
        parse("JWG OR @minerals", resolve_aliases({"mineral": "lithium"}))

    assert str(caught.value) == "at 8: unknown alias @minerals (aliases: @mineral)"


def test_aliases_that_double_at_each_link_are_refused() -> None:
    texts = {f"a{n}": f"@a{n + 1} OR @a{n + 1}" for n in range(12)} | {"a12": "x"}

    with pytest.raises(QueryError, match="more than 2000 words and phrases once aliases expand"):
        parse("@a0", resolve_aliases(texts))


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
        ("JWG ONEAR minerals", "at 5: ONEAR needs a distance in words, like ONEAR/5"),
        ("JWG ONEAR/s minerals", "at 5: ONEAR needs a distance in words, like ONEAR/5"),
        ("JWG ONEAR/101 minerals", "at 5: ONEAR/n goes up to ONEAR/100"),
        ('"AI Dialogue"~101', "at 1: a phrase's ~n goes up to ~100"),
        ("JWG /s (a AND b)", f"at 5: /s needs {NEAR_OPERANDS}"),
        ("JWG /p", "at 7: expected a word, a \"phrase\" or '(', found the end of the query"),
        ("JWG OR @", "at 8: @ needs an alias name, like @india_japan"),
        ("JWG OR @minerals", "at 8: unknown alias @minerals (aliases: none defined)"),
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
    [
        *'abcJWG "()*=:/ ',
        *["AND ", "OR ", "NOT ", "NEAR/3 ", "title:", "日", "–", "\n"],
        *["ONEAR/2 ", "/s ", "NEAR/p ", "~2 ", "@", ". ", "\n\n"],
    ]
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
