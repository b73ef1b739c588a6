"""Explaining a miss: which parts of a query were found, where, and how near NEAR came."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from watcher.cli import cli
from watcher.match.misses import explain_miss, render_miss
from watcher.match.terms import compile_term

FILLER = "word " * 400
# "India and Japan met." is words 1-5 (the full stop is a word), the filler 6-405, "AI" 407.
FAR = f"India and Japan met. {FILLER}The AI Dialogue began."


def explained(query: str, text: str, title: str = "") -> list[tuple[str, str, str]]:
    findings = explain_miss(compile_term("t", query), title, text)
    return [(f.status, f.part, f.detail) for f in findings]


def test_near_too_far_names_both_places_the_gap_and_the_distance_needed() -> None:
    assert explained('"India and Japan" NEAR/4 "AI Dialogue"', FAR) == [
        (
            "too far",
            '"India and Japan" NEAR/4 "AI Dialogue"',
            "nearest at text word 1 and word 407, 403 words apart; NEAR/4 needs 4 or fewer",
        ),
        ("found", '"India and Japan"', "at text word 1"),
        ("found", '"AI Dialogue"', "at text word 407"),
    ]


def test_the_nearest_pair_is_reported_when_there_are_several() -> None:
    # The second "Japan" is word 404; "dialogue" is 413, with 8 words in between.
    text = f"Japan first. {FILLER}Japan again, then the long talks and a dialogue."

    (near, *_) = explained("Japan NEAR/3 dialogue", text)

    assert near[2] == (
        "nearest at text word 404 and word 413, 8 words apart; NEAR/3 needs 3 or fewer"
    )


def test_a_missing_part_is_named_and_a_found_one_has_its_snippet() -> None:
    findings = explain_miss(compile_term("t", "JWG AND lithium"), "", "Talks on lithium.")

    assert [(f.status, f.part) for f in findings] == [
        ("not found", "all of"),
        ("not found", "JWG"),
        ("found", "lithium"),
    ]
    assert (findings[2].snippet, findings[2].highlights) == ("Talks on lithium.", ((9, 16),))


def test_a_phrase_not_found_says_how_many_words_stood_between_its_words() -> None:
    assert explained('"AI Dialogue"', "They held an AI strategic dialogue.")[0] == (
        "not found",
        '"AI Dialogue"',
        "its words in this order at text word 4, 1 other word between them (~1 lets them in)",
    )


def test_a_phrase_not_found_names_its_missing_words_or_the_wrong_order() -> None:
    assert explained('"AI summit"', "An AI dialogue.")[0][2] == "no 'summit' in the article"
    assert explained('"AI Dialogue"~1', "A dialogue on AI.")[0][2] == (
        "its words are there, never in this order within 100 words"
    )


def test_sentence_and_paragraph_scope_say_not_in_one_sentence() -> None:
    text = "Japan hosted the talks. The AI Dialogue went on."

    assert explained('Japan /s "AI Dialogue"', text)[0] == (
        "apart",
        'Japan /s "AI Dialogue"',
        "both found, but not in one sentence",
    )
    assert explained('Japan /p "AI Dialogue" AND JWG', text)[1][2] == "both in one paragraph"


def test_onear_in_the_wrong_order_says_so() -> None:
    assert explained("India ONEAR/3 Japan", "Japan and India")[0][2] == (
        "both found, never in that order"
    )


def test_a_not_that_rules_the_article_out_is_shown_with_its_place() -> None:
    assert explained("lithium AND NOT Australia", "Lithium from Australia.")[2] == (
        "excluded",
        "NOT Australia",
        "found at text word 3, which rules the article out",
    )


def test_words_in_the_title_are_placed_in_the_title() -> None:
    assert explained("Japan NEAR/2 JWG", "Nothing.", title="Japan talks")[1] == (
        "found",
        "Japan",
        "at title word 1",
    )


def test_rendered_lines_are_indented_by_depth_with_marked_snippets() -> None:
    findings = explain_miss(compile_term("t", "JWG AND lithium"), "", "Talks on lithium.")

    assert render_miss(findings) == (
        "  not found  all of\n"
        "    not found  JWG\n"
        "    found      lithium: at text word 3\n"
        "               Talks on **lithium**."
    )


def test_terms_test_explains_a_miss_after_no_match(tmp_path: Path) -> None:
    story = tmp_path / "story.txt"
    story.write_text(FAR, encoding="utf-8")

    query = '"India and Japan" NEAR/4 "AI Dialogue"'

    result = CliRunner().invoke(
        cli,
        ["--config", "config/watcher.toml", "terms", "test", query, "--file", str(story)],
        catch_exceptions=False,
    )

    assert result.exit_code == 1
    assert result.output.splitlines()[:3] == [
        "no match",
        "why QUERY does not match:",
        '  too far  "India and Japan" NEAR/4 "AI Dialogue": nearest at text word 1 and word 407,'
        " 403 words apart; NEAR/4 needs 4 or fewer",
    ]
