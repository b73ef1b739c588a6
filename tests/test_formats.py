"""Rendering hits and feed states as table, JSON, NDJSON and CSV."""

from __future__ import annotations

import csv
import io
import json
import threading
import unicodedata
from dataclasses import replace
from typing import Any

import pytest

from watcher.cli.render import render_feeds, render_hits, render_matches, render_terms
from watcher.match.terms import compile_term
from watcher.models import Hit, Match
from watcher.store.records import FeedStatus

HIT = Hit(
    id=1,
    term="Ahmedabad–Mumbai HSR",
    url="https://news.example.com/a/1",
    title="MAHSR viaduct complete",
    published="2026-01-16T04:00:00+00:00",
    feed="The Hindu — National",
    snippet="NHSRCL said the viaduct is complete.",
    score=4.0,
    found_at="2026-01-16T05:12:45+00:00",
    source="page",
    clauses=["NHSRCL"],
    highlights=[[0, 6]],
)

FEED = FeedStatus(
    name="Kyodo News — All",
    url="https://english.kyodonews.net/rss/all.xml",
    enabled=True,
    last_polled="2026-01-16T05:00:00+00:00",
    last_ok="2026-01-16T05:00:00+00:00",
    last_status=200,
    consecutive_errors=0,
    last_error=None,
    articles=12,
    hits=3,
)


def hit(**changes: Any) -> Hit:
    return replace(HIT, **changes)


def feed(**changes: Any) -> FeedStatus:
    return replace(FEED, **changes)


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


# --- empty lists ---------------------------------------------------------------------


def test_empty_hits_table_says_no_hits() -> None:
    assert render_hits([], "table") == "no hits"


def test_empty_feeds_table_says_no_feeds_configured() -> None:
    assert render_feeds([], "table") == "no feeds configured"


def test_empty_hits_json_is_an_empty_array() -> None:
    assert render_hits([], "json") == "[]"


def test_empty_hits_ndjson_is_empty() -> None:
    assert render_hits([], "ndjson") == ""


def test_empty_hits_csv_is_the_header_row() -> None:
    assert render_hits([], "csv") == (
        "id,term,score,published,found_at,feed,title,url,snippet,source,cluster,outlets,clauses,highlights,"
        "read,verdict,muted,snoozed"
    )


def test_unknown_format_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"unknown format 'xml'"):
        render_hits([HIT], "xml")


# --- hits ------------------------------------------------------------------------------


def test_hits_table_has_a_header_a_rule_and_one_line_per_hit() -> None:
    table = render_hits([HIT, hit(id=2, term="UNICORN antenna", score=1.5, url=None)], "table")

    assert table.splitlines() == [
        "id  found             term                  score  feed                  title                   url",  # noqa: E501
        "--  ----------------  --------------------  -----  --------------------  ----------------------  ----------------------------",  # noqa: E501
        "1   2026-01-16 05:12  Ahmedabad–Mumbai HSR  4      The Hindu — National  MAHSR viaduct complete  https://news.example.com/a/1",  # noqa: E501
        "2   2026-01-16 05:12  UNICORN antenna       1.5    The Hindu — National  MAHSR viaduct complete",  # noqa: E501
    ]


def test_hits_table_shortens_a_long_title_to_sixty_characters() -> None:
    table = render_hits([hit(title="word " * 20)], "table")

    assert "word " * 11 + "word…" in table
    assert "word " * 12 + "word" not in table


def test_terminal_escape_in_a_title_never_reaches_the_table() -> None:
    table = render_hits([hit(title="MAHSR \x1b[31mviaduct\x1b[0m complete\x9b2J")], "table")

    assert "\x1b" not in table
    assert "\x9b" not in table
    assert "MAHSR [31mviaduct [0m complete 2J" in table


def test_a_bidi_override_in_a_title_never_reaches_the_table() -> None:
    table = render_hits([hit(title="Rail deal \u202egnirots\u2066 signed")], "table")

    assert "\u202e" not in table and "\u2066" not in table
    assert "Rail deal gnirots signed" in table


def test_a_title_of_a_megabyte_is_cut_without_stalling_the_table() -> None:
    # Trimming one character at a time took 20 s for 30 kB and never ended for 1 MB.
    done: list[str] = []
    worker = threading.Thread(
        target=lambda: done.append(render_hits([hit(title="Port " * 200_000)], "table")),
        daemon=True,
    )

    worker.start()
    worker.join(timeout=20)

    assert done, "rendering a 1 MB title did not finish in 20 s"
    assert "Port " * 11 + "Port…" in done[0]


def test_hits_table_fits_the_terminal_width() -> None:
    long = hit(title="Viaduct " * 12, url="https://news.example.com/" + "a" * 80)

    lines = render_hits([long, HIT], "table", width=100).splitlines()

    assert max(display_width(line) for line in lines) <= 100
    assert lines[2].startswith("1   2026-01-16 05:12  ")  # the id and time are never cut
    assert "…" in lines[2]


def test_hits_table_keeps_its_layout_when_the_terminal_is_wide_enough() -> None:
    assert render_hits([HIT], "table", width=200) == render_hits([HIT], "table")


def test_terms_table_fits_the_terminal_width() -> None:
    terms = [compile_term("UNICORN antenna", " OR ".join(["=UNICORN NEAR/5 mast"] * 12))]

    lines = render_terms(terms, "table", width=60).splitlines()

    assert max(display_width(line) for line in lines) <= 60
    assert lines[2].startswith("UNICORN antenna  =UNICORN NEAR/5 mast OR")


def test_csv_escapes_terminal_controls_and_bidi_but_keeps_lines() -> None:
    title = "Port\x1b[2J \x07bell\x00 \x9b31m \u202eevil\u2069 end"

    rows = list(csv.DictReader(io.StringIO(render_hits([hit(title=title, snippet="a\nb")], "csv"))))

    assert rows[0]["title"] == "Port\\x1b[2J \\x07bell\\x00 \\x9b31m \\u202eevil\\u2069 end"
    assert rows[0]["snippet"] == "a\nb"


@pytest.mark.parametrize("form", ["json", "ndjson"])
def test_json_writes_c1_and_bidi_controls_as_escapes(form: str) -> None:
    title = "Rail \x9b2J deal \u202egnirots\u2066 \x7f"

    text = render_hits([hit(title=title)], form)

    assert not any(char in text for char in "\x9b\u202e\u2066\x7f")
    assert "\\u009b2J" in text and "\\u202egnirots" in text
    loaded = json.loads(text)
    assert (loaded[0] if form == "json" else loaded)["title"] == title


def test_match_counts_agree_with_their_noun() -> None:
    one = Match("UNICORN antenna", "UNICORN", "The UNICORN mast", 1.0, 1, False, ("=UNICORN",))

    assert "(1 match in text)" in render_matches([one])
    assert "(2 matches in text)" in render_matches([replace(one, count=2)])


def test_newline_in_a_title_does_not_add_a_table_line() -> None:
    table = render_hits([hit(title="MAHSR viaduct\r\ncomplete")], "table")

    assert len(table.splitlines()) == 3
    assert "MAHSR viaduct complete" in table


def test_hits_json_holds_every_field() -> None:
    assert json.loads(render_hits([HIT], "json")) == [
        {
            "id": 1,
            "term": "Ahmedabad–Mumbai HSR",
            "url": "https://news.example.com/a/1",
            "title": "MAHSR viaduct complete",
            "published": "2026-01-16T04:00:00+00:00",
            "feed": "The Hindu — National",
            "snippet": "NHSRCL said the viaduct is complete.",
            "score": 4.0,
            "found_at": "2026-01-16T05:12:45+00:00",
            "source": "page",
            "cluster": None,
            "outlets": 1,
            "clauses": ["NHSRCL"],
            "highlights": [[0, 6]],
            "read": False,
            "verdict": None,
            "muted": False,
            "snoozed": False,
        }
    ]


def test_hits_json_keeps_non_ascii_text_readable() -> None:
    assert '"term": "Ahmedabad–Mumbai HSR"' in render_hits([HIT], "json")


def test_hits_ndjson_is_one_object_per_line() -> None:
    lines = render_hits([HIT, hit(id=2, url=None)], "ndjson").splitlines()

    assert [json.loads(line)["id"] for line in lines] == [1, 2]
    assert json.loads(lines[1])["url"] is None


def test_hits_csv_has_the_fields_in_order() -> None:
    assert render_hits([HIT], "csv").splitlines() == [
        "id,term,score,published,found_at,feed,title,url,snippet,source,cluster,outlets,clauses,highlights,"
        "read,verdict,muted,snoozed",
        "1,Ahmedabad–Mumbai HSR,4.0,2026-01-16T04:00:00+00:00,2026-01-16T05:12:45+00:00,"
        "The Hindu — National,MAHSR viaduct complete,https://news.example.com/a/1,"
        'NHSRCL said the viaduct is complete.,page,,1,"[""NHSRCL""]","[[0, 6]]",false,,false,false',
    ]


@pytest.mark.parametrize(
    ("title", "cell"),
    [
        ('=HYPERLINK("http://evil.example","x")', '\'=HYPERLINK("http://evil.example","x")'),
        ("+91 trains delayed", "'+91 trains delayed"),
        ("-1 dead in derailment", "'-1 dead in derailment"),
        ("@channel alert", "'@channel alert"),
        ("MAHSR = bullet train", "MAHSR = bullet train"),
    ],
)
def test_csv_cells_that_a_spreadsheet_would_run_get_an_apostrophe(title: str, cell: str) -> None:
    rows = list(csv.DictReader(io.StringIO(render_hits([hit(title=title)], "csv"))))

    assert rows[0]["title"] == cell


def test_csv_leaves_a_missing_url_empty() -> None:
    rows = list(csv.DictReader(io.StringIO(render_hits([hit(url=None)], "csv"))))

    assert rows[0]["url"] == ""


# --- feeds -----------------------------------------------------------------------------


def test_feeds_table_states_ok_failing_disabled_and_new() -> None:
    feeds = [
        FEED,
        feed(name="Bad", consecutive_errors=2, last_status=503),
        feed(name="Off", enabled=False),
        feed(name="New", last_polled=None, last_ok=None, articles=0, hits=0),
    ]

    lines = render_feeds(feeds, "table").splitlines()

    assert [line[18:26].strip() for line in lines[2:]] == ["ok", "failing", "disabled", "new"]


def test_feeds_table_says_never_for_a_feed_not_yet_polled() -> None:
    table = render_feeds([feed(last_polled=None, last_ok=None)], "table")

    assert table.splitlines()[2] == (
        "Kyodo News — All  new    never                         12        3"
    )


def test_feeds_table_says_how_long_and_why_a_feed_fails() -> None:
    failing = feed(
        consecutive_errors=3,
        last_error="https://english.kyodonews.net/rss/all.xml: HTTP 503",
        failing_since="2026-01-15T22:10:00+00:00",
        next_due="2026-01-16T07:00:00+00:00",
        wait=14400.0,
        reason="backoff",
    )

    row = render_feeds([failing], "table").splitlines()[2]

    assert row.endswith(
        "2026-01-16 07:00  4h backoff  12        3     "
        "3 failures since 2026-01-15 22:10: https://english.kyodonews.net/rss/all.xml: HTTP 503"
    )


def test_one_failure_is_not_called_failures() -> None:
    row = render_feeds([feed(consecutive_errors=1, last_error="HTTP 503")], "table").splitlines()[2]

    assert row.endswith("1 failure: HTTP 503")


def test_feeds_csv_writes_switches_as_true_and_false() -> None:
    rows = list(csv.DictReader(io.StringIO(render_feeds([FEED, feed(enabled=False)], "csv"))))

    assert [row["enabled"] for row in rows] == ["true", "false"]


def test_feeds_table_columns_line_up_with_wide_characters() -> None:
    table = render_feeds([feed(name="NHK ニュース — 主要"), feed(name="BBC News — Asia")], "table")

    state_columns = {display_width(line[: line.index(" ok ")]) for line in table.splitlines()[2:]}

    assert len(state_columns) == 1


def test_feeds_json_holds_every_field() -> None:
    assert json.loads(render_feeds([FEED], "json")) == [
        {
            "name": "Kyodo News — All",
            "url": "https://english.kyodonews.net/rss/all.xml",
            "enabled": True,
            "last_polled": "2026-01-16T05:00:00+00:00",
            "last_ok": "2026-01-16T05:00:00+00:00",
            "last_status": 200,
            "consecutive_errors": 0,
            "last_error": None,
            "articles": 12,
            "hits": 3,
            "failing_since": None,
            "next_due": None,
            "wait": None,
            "reason": None,
            "unreachable_since": None,
        }
    ]


def test_feeds_ndjson_is_one_object_per_line() -> None:
    lines = render_feeds([FEED, feed(name="Off", enabled=False)], "ndjson").splitlines()

    assert [json.loads(line)["name"] for line in lines] == ["Kyodo News — All", "Off"]


def test_feeds_csv_guards_an_error_message_that_looks_like_a_formula() -> None:
    status = feed(consecutive_errors=1, last_error="=1+2 from server")

    rows = list(csv.DictReader(io.StringIO(render_feeds([status], "csv"))))

    assert rows[0]["last_error"] == "'=1+2 from server"
