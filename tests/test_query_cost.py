"""The work budget: a costly query on one text ends quickly with `QueryCostError`, and
queries a user would write never reach it (issue 17, item 8)."""

from __future__ import annotations

import time

import pytest
from click.testing import CliRunner

from watcher.cli import cli
from watcher.errors import QueryCostError, QueryError
from watcher.match.terms import Matcher, compile_term

# Generous: each ends in about a second on the project's machine (bench/README.md); without
# the budget the chain took 67 s on 85 kB and the wildcards ran out of memory on 5 MB.
WITHIN_SECONDS = 30
CHAIN = " NEAR/100 ".join(["(cell OR UNICORN)"] * 40)
WILDCARDS = " ".join(["abc*"] * 800)


def timed_cost_error(query: str, text: str) -> tuple[float, QueryCostError]:
    matcher = Matcher([compile_term("costly", query)])
    started = time.perf_counter()
    with pytest.raises(QueryCostError) as caught:
        matcher.match("", text)
    return time.perf_counter() - started, caught.value


def test_a_chain_of_near_on_a_word_found_everywhere_ends_with_query_too_costly() -> None:
    text = "the cell and UNICORN cell of a cell. " * 2300  # 85 kB

    seconds, error = timed_cost_error(CHAIN, text)

    assert seconds < WITHIN_SECONDS
    assert str(error).startswith("term 'costly': query too costly: over 2,000,000 places")
    assert error.term == "costly"


def test_hundreds_of_anded_wildcards_end_with_query_too_costly() -> None:
    text = "abcde abcdf abcdg abc. " * 45_000  # 1 MB

    seconds, error = timed_cost_error(WILDCARDS, text)

    assert seconds < WITHIN_SECONDS
    assert error.term == "costly"


def test_a_phrase_checked_at_every_place_of_its_first_word_ends_with_query_too_costly() -> None:
    # Every word of the phrase is there, so the term is evaluated; the phrase is not.
    seconds, _ = timed_cost_error('"日印 対話"', "日印ＡＩ対話 " * 300_000)

    assert seconds < WITHIN_SECONDS


def test_the_other_terms_still_match_and_come_with_the_error() -> None:
    matcher = Matcher([compile_term("costly", CHAIN), compile_term("plain", "UNICORN")])

    with pytest.raises(QueryCostError) as caught:
        matcher.match("", "the cell and UNICORN cell of a cell. " * 2300)

    assert [match.term for match in caught.value.matches] == ["plain"]


def test_a_common_wildcard_and_near_on_five_megabytes_stay_within_the_budget() -> None:
    # India, Japan and "said" each once in 600 characters: as often as in the news.
    filler = "Officials from both sides met for a second day of talks in the capital. " * 8
    text = ("The minister said India and Japan agreed on the rail line. " + filler) * 8_000
    matcher = Matcher(
        [compile_term("w", "said NEAR/10 (India OR Japan)"), compile_term("x", "the*")]
    )

    assert [match.term for match in matcher.match("", text)] == ["w", "x"]


def test_the_cost_error_is_a_query_error_so_terms_test_reports_it_in_one_line() -> None:
    assert issubclass(QueryCostError, QueryError)
    result = CliRunner().invoke(
        cli,
        ["--config", "config/watcher.toml", "terms", "test", CHAIN,
         "--text", "the cell and UNICORN cell of a cell. " * 2300],
        catch_exceptions=False,
    )  # fmt: skip

    assert result.exit_code == 2
    assert result.output.startswith("error: term 'QUERY': query too costly: ")
    assert len(result.output.splitlines()) == 1
