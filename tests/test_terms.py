"""Watch-terms: query parsing, word matching, scores and snippets, and the shipped terms."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from watcher.config.load import load_config
from watcher.errors import QueryError
from watcher.match.terms import Term, compile_term, match_terms

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_CONFIG = ROOT / "config" / "watcher.toml"

HSR = compile_term("hsr", '"Mumbai-Ahmedabad high-speed rail"')
EXAMPLES = int(os.environ.get("WATCHER_HYPOTHESIS_EXAMPLES", "300"))


def hit_terms(terms: tuple[Term, ...] | list[Term], title: str, text: str) -> list[str]:
    return [match.term for match in match_terms(terms, title, text)]


# --- parsing (the grammar itself is tested in test_query.py) --------------------


def test_query_compiles_to_a_tree_with_anchor_words() -> None:
    term = compile_term("hsr", '"Bullet Train" OR MAHSR OR (Mumbai NEAR/3 Ahmedabad)')

    assert [leaf.words for leaf in term.anchors] == [("bullet", "train"), ("mahsr",), ("mumbai",)]


def test_typographic_quotes_delimit_a_phrase() -> None:
    term = compile_term("hsr", "“bullet train” OR NHSRCL")

    assert [leaf.words for leaf in term.anchors] == [("bullet", "train"), ("nhsrcl",)]


def test_empty_query_is_an_error() -> None:
    with pytest.raises(QueryError, match=r"^empty query$"):
        compile_term("t", "   ")


def test_leading_or_is_an_error_at_its_position() -> None:
    with pytest.raises(
        QueryError, match=r"^at 1: expected a word, a \"phrase\" or '\(', found 'OR'$"
    ):
        compile_term("t", "OR MAHSR")


def test_trailing_or_is_an_error_at_the_end_of_the_query() -> None:
    with pytest.raises(QueryError, match=r"^at 9: expected .*, found the end of the query$"):
        compile_term("t", "MAHSR OR")


def test_two_bare_words_are_both_required() -> None:
    term = compile_term("t", "Mumbai Ahmedabad")

    assert hit_terms([term], "", "Ahmedabad is far from Mumbai.") == ["t"]
    assert hit_terms([term], "", "Mumbai alone.") == []


def test_unterminated_quote_is_an_error_at_the_quote() -> None:
    with pytest.raises(QueryError, match=r"^at 10: unterminated quote$"):
        compile_term("t", 'MAHSR OR "bullet train')


def test_empty_quotes_are_an_error_at_the_quotes() -> None:
    with pytest.raises(QueryError, match=r"^at 10: empty phrase$"):
        compile_term("t", 'MAHSR OR ""')


def test_quotes_holding_only_punctuation_are_an_empty_phrase() -> None:
    with pytest.raises(QueryError, match=r"^at 1: empty phrase$"):
        compile_term("t", '" – "')


# --- matching on words ---------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Work on the Mumbai-Ahmedabad high-speed rail resumed.",
        "Work on the Mumbai–Ahmedabad high-speed rail resumed.",  # en dash
        "Work on the Mumbai—Ahmedabad high-speed rail resumed.",  # em dash
        "Work on the Mumbai‑Ahmedabad high‑speed rail resumed.",  # U+2011 non-breaking hyphen
        "Work on the Mumbai Ahmedabad high speed rail resumed.",
        "Work on the ‘Mumbai–Ahmedabad’ high-speed rail resumed.",
    ],
    ids=["hyphen", "en-dash", "em-dash", "non-breaking-hyphen", "spaces", "quotes"],
)
def test_dashes_and_punctuation_between_words_do_not_matter(text: str) -> None:
    assert hit_terms([HSR], "", text) == ["hsr"]


def test_matching_ignores_case() -> None:
    assert hit_terms([HSR], "", "MUMBAI-AHMEDABAD HIGH-SPEED RAIL TO OPEN IN 2027") == ["hsr"]


def test_full_width_letters_in_the_text_match_ascii_in_the_query() -> None:
    term = compile_term("ai", '"AI Dialogue"')

    assert hit_terms([term], "", "The ＡＩ Ｄｉａｌｏｇｕｅ opens") == ["ai"]


def test_full_width_letters_in_the_query_match_ascii_in_the_text() -> None:
    term = compile_term("ai", "ＡＩ")

    assert hit_terms([term], "", "New AI rules for banks") == ["ai"]


def test_a_word_inside_a_longer_word_does_not_match() -> None:
    term = compile_term("u", "unicorn")

    assert hit_terms([term], "", "Three unicorns raised money this week.") == []


def test_an_acronym_with_a_suffix_does_not_match() -> None:
    term = compile_term("m", "MAHSR")

    assert hit_terms([term], "", "The MAHSRX prototype was shown in Tokyo.") == []


def test_a_phrase_needs_its_words_adjacent_and_in_order() -> None:
    assert hit_terms([HSR], "", "Ahmedabad-Mumbai high-speed rail") == []
    assert hit_terms([HSR], "", "Mumbai-Ahmedabad and other high-speed rail") == []


def test_a_phrase_split_between_title_and_text_does_not_match() -> None:
    assert hit_terms([HSR], "Mumbai-Ahmedabad", "high-speed rail resumes") == []


def test_article_without_any_term_gives_no_matches() -> None:
    assert match_terms([HSR], "Tokyo weather", "Snow is expected on Friday.") == []


def test_hindi_word_does_not_match_a_word_with_another_vowel_sign() -> None:
    term = compile_term("rail", "रेल")  # "rail"

    assert hit_terms([term], "", "इस फ़िल्म में उनका रोल छोटा है।") == []  # "role"


def test_latin_acronym_followed_by_a_japanese_particle_matches() -> None:
    term = compile_term("m", "MAHSR")

    assert hit_terms([term], "", "MAHSRの建設が進んでいる。") == ["m"]


def test_a_phrase_does_not_run_across_a_comma_or_full_stop() -> None:
    assert hit_terms([HSR], "", "Stops: Mumbai, Ahmedabad high-speed rail depots.") == []
    assert hit_terms([HSR], "", "We left Mumbai. Ahmedabad high-speed rail works go on.") == []


def test_initials_and_numbers_do_not_break_a_phrase() -> None:
    navy = compile_term("navy", '"U.S. Navy" OR "1,150 crore"')

    assert hit_terms([navy], "", "The U.S. Navy said so.") == ["navy"]
    assert hit_terms([navy], "", "A contract worth 1,150 crore.") == ["navy"]


# --- scores, counts and where the match is --------------------------------------


def test_title_only_match_is_in_title_and_scores_the_title_weight() -> None:
    [match] = match_terms([HSR], "Mumbai-Ahmedabad high-speed rail: new station", "Nothing here.")

    assert match.in_title is True
    assert match.count == 1
    assert match.score == 3.0


def test_text_only_match_is_not_in_title_and_scores_one() -> None:
    [match] = match_terms([HSR], "Rail news", "The Mumbai-Ahmedabad high-speed rail advances.")

    assert match.in_title is False
    assert match.count == 1
    assert match.score == 1.0


def test_repeated_matches_raise_count_and_score() -> None:
    text = "MAHSR work began. MAHSR trains are due. NHSRCL runs MAHSR."
    [match] = match_terms([compile_term("m", "MAHSR OR NHSRCL")], "MAHSR update", text)

    assert match.count == 5
    assert match.score == 3.0 + 4.0


def test_every_matching_term_gives_its_own_match() -> None:
    terms = [compile_term("a", "MAHSR"), compile_term("b", "NHSRCL"), compile_term("c", "unicorn")]

    assert hit_terms(terms, "", "NHSRCL said MAHSR is on time.") == ["a", "b"]


# --- phrase and snippet ------------------------------------------------------------


def test_phrase_is_the_first_match_as_written_in_the_text() -> None:
    term = compile_term("hsr", '"bullet train" OR "Mumbai-Ahmedabad high-speed rail"')
    text = "Work on the Mumbai–Ahmedabad High-Speed Rail resumed; the bullet train is due in 2027."

    [match] = match_terms([term], "Bullet train news", text)

    assert match.phrase == "Mumbai–Ahmedabad High-Speed Rail"


def test_phrase_keeps_the_articles_own_characters() -> None:
    text = "Work on the Mumbai‑Ahmedabad high‑speed rail resumed."  # U+2011

    [match] = match_terms([HSR], "", text)

    assert match.phrase == "Mumbai‑Ahmedabad high‑speed rail"  # U+2011


def test_snippet_of_a_short_text_is_the_whole_text_with_spaces_collapsed() -> None:
    [match] = match_terms(
        [HSR], "", "  Work on the\n Mumbai-Ahmedabad   high-speed rail\tresumed. "
    )

    assert match.snippet == "Work on the Mumbai-Ahmedabad high-speed rail resumed."


def test_snippet_is_cut_at_word_boundaries_around_the_first_match() -> None:
    # 30 x "alpha " puts MAHSR at character 180; the snippet keeps about 90 characters
    # before it and 150 after, cut back to whole words.
    text = "alpha " * 30 + "MAHSR" + " beta" * 50 + " MAHSR"

    [match] = match_terms([compile_term("m", "MAHSR")], "", text)

    assert match.snippet == "…" + "alpha " * 14 + "MAHSR" + " beta" * 29 + "…"


def test_highlights_fall_on_the_match_after_white_space_is_collapsed() -> None:
    [match] = match_terms([compile_term("m", "MAHSR")], "", "Work  on\n the MAHSR line")

    assert match.snippet == "Work on the MAHSR line"
    assert match.highlights == ((12, 17),)


def test_snippet_comes_from_the_text_when_title_and_text_both_match() -> None:
    [match] = match_terms([compile_term("m", "MAHSR")], "MAHSR news", "Officials said MAHSR works.")

    assert match.snippet == "Officials said MAHSR works."


def test_snippet_comes_from_the_title_when_only_the_title_matches() -> None:
    [match] = match_terms([compile_term("m", "MAHSR")], "MAHSR news", "Officials said little.")

    assert match.snippet == "MAHSR news"


# --- the shipped watch-terms -----------------------------------------------------


@pytest.fixture(scope="module")
def shipped_terms() -> tuple[Term, ...]:
    return load_config(SHIPPED_CONFIG).terms


def test_shipped_config_has_the_four_watch_terms(shipped_terms: tuple[Term, ...]) -> None:
    assert [term.name for term in shipped_terms] == [
        "JWG on critical minerals",
        "India–Japan AI Dialogue",
        "UNICORN antenna",
        "Ahmedabad–Mumbai HSR",
    ]


@pytest.mark.parametrize(
    ("title", "text", "expected"),
    [
        (
            "Delhi and Tokyo meet on minerals",
            "The second meeting of the Joint Working Group on Critical Minerals was held.",
            "JWG on critical minerals",
        ),
        (
            "First India–Japan AI Dialogue held in New Delhi",
            "Officials from both foreign ministries attended.",
            "India–Japan AI Dialogue",
        ),
        (
            "Tokyo hosts talks",
            "The Japan–India AI dialogue covered safety and semiconductors.",
            "India–Japan AI Dialogue",
        ),
        (
            "Navy frigate gets new mast",
            "The Navy fitted the UNICORN mast, co-developed with Japan, on its new frigate.",
            "UNICORN antenna",
        ),
        (
            "Stealth antenna deal",
            "The Unified Complex Radio Antenna will be built in India.",
            "UNICORN antenna",
        ),
        (
            "Viaduct finished",
            "NHSRCL said the viaduct over the Narmada is complete.",
            "Ahmedabad–Mumbai HSR",
        ),
        (
            "Bullet train on track",
            "The Ahmedabad–Mumbai bullet train will run Shinkansen E10 sets.",
            "Ahmedabad–Mumbai HSR",
        ),
    ],
    ids=[
        "jwg",
        "ai-dialogue-title",
        "ai-dialogue-reversed",
        "unicorn-mast",
        "unicorn-full",
        "nhsrcl",
        "bullet-train",
    ],
)
def test_shipped_terms_find_their_subject(
    shipped_terms: tuple[Term, ...], title: str, text: str, expected: str
) -> None:
    assert hit_terms(shipped_terms, title, text) == [expected]


@pytest.mark.parametrize(
    ("title", "text"),
    [
        (
            "Bengaluru startup becomes India's newest unicorn",
            "The fintech unicorn raised $200 million; its antenna-testing arm was sold.",
        ),
        (
            "Company launches AI dialogue assistant",
            "The chatbot, an AI dialogue system for banks, launches in India and Japan.",
        ),
        (
            "India-US AI Dialogue next month",
            "Washington and New Delhi will hold the India-US AI Dialogue in March.",
        ),
        (
            "California high-speed rail gets funding",
            "The Los Angeles-San Francisco high-speed rail line needs more money.",
        ),
        (
            "Joint working group on trade meets",
            "The joint working group on trade discussed critical minerals prices.",
        ),
    ],
    ids=["startup-unicorn", "chatbot", "other-country-dialogue", "other-hsr", "other-jwg"],
)
def test_shipped_terms_ignore_lookalike_stories(
    shipped_terms: tuple[Term, ...], title: str, text: str
) -> None:
    assert hit_terms(shipped_terms, title, text) == []


def test_a_place_two_clauses_find_is_named_by_the_first_of_them() -> None:
    term = compile_term("t", "japan NEAR/2 (rail OR rail*)")

    [match] = match_terms([term], "", "rail japan")

    assert match.clauses == ("rail", "japan")
    assert (match.count, match.score) == (2, 4.0)  # each clause's pair counts: 2 + 1 + 1


# --- an ellipsis, a fraction and other characters that folding expands -------------


def test_an_ellipsis_before_a_match_leaves_the_phrase_on_the_match() -> None:
    text = "Wait… the MAHSR line is here and more words follow after that."

    [match] = match_terms([compile_term("m", "MAHSR")], "", text)

    assert match.phrase == "MAHSR"


def test_a_match_after_an_ellipsis_at_the_end_of_a_text_is_explained() -> None:
    [match] = match_terms([compile_term("m", "MAHSR")], "", "Wait… the MAHSR line")

    assert (match.phrase, match.snippet) == ("MAHSR", "Wait… the MAHSR line")


def test_an_ellipsis_separates_words_as_a_space_does() -> None:
    term = compile_term("t", '"tokyo delhi"')

    assert hit_terms([term], "", "From Tokyo…Delhi.") == ["t"]


def test_a_word_with_a_fraction_matches_the_same_word_in_a_query() -> None:
    term = compile_term("t", '"2½ years"')

    assert hit_terms([term], "", "The line took 2½ years to build.") == ["t"]


def test_a_trademark_sign_does_not_join_the_word_before_it() -> None:
    term = compile_term("t", "Shinkansen")

    assert hit_terms([term], "", "The Shinkansen™ E10 sets arrive in 2026.") == ["t"]
