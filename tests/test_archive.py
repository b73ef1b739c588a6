"""Reading the hit database: `watcher hits` filters, `show`, `search`, `stats`, `export`.

Each test copies the database the real pipeline built from the fixture site
(tests/fixtures/site/EXPECTED.md): five hits, on articles a1 (T1), a2 (T4,
also carried by the Atom feed as a5), a4 (T3), a7 (T2) and a8 (T4). Each runs
on SQLite and on PostgreSQL (`polled_at`), with the same rows and ids.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sqlite3
import stat
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from conftest import db_rows, write_config
from watcher.cli import cli
from watcher.config.load import load_config
from watcher.store import Storage, open_storage

# Every test reads the database the `polled` fixture fills from a loopback site.
pytestmark = pytest.mark.slow

T1, T2, T3, T4 = (
    "JWG on critical minerals",
    "India–Japan AI Dialogue",
    "UNICORN antenna",
    "Ahmedabad–Mumbai HSR",
)
FEEDS = [
    ("Coastline Daily", "https://coast.example/rss"),
    ("Eastern Ledger", "https://ledger.example/atom"),
    ("Harbour Wire", "https://harbour.example/feed.json"),
]


def invoke(config: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)


@pytest.fixture
def config(tmp_path: Path, polled_at: str) -> Path:
    return write_config(tmp_path, FEEDS, storage=polled_at)


def opened(config: Path) -> Storage:
    """The store `config` names, on either backend."""
    return open_storage(load_config(config).database)


def execute(config: Path, sql: str, *params: object) -> None:
    db_rows(load_config(config).database, sql, *params)


def slug(url: str) -> str:
    """ "a2" for http://127.0.0.1:1234/articles/a2.html."""
    return url.rsplit("/", 1)[1].split(".")[0]


def listed(config: Path, *args: str) -> list[tuple[str, str]]:
    """(article, term) of each hit `watcher hits` lists with these options, in its order."""
    result = invoke(config, "hits", "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return [(slug(hit["url"]), hit["term"]) for hit in json.loads(result.stdout)]


def hit_id(config: Path, article: str) -> int:
    result = invoke(config, "hits", "--format", "json")
    return next(hit["id"] for hit in json.loads(result.output) if slug(hit["url"]) == article)


def set_hit(config: Path, article: str, column: str, value: object) -> None:
    """Give the hit on one fixture article (a1, a2, ...) another found_at or score."""
    execute(
        config,
        f"UPDATE hits SET {column} = ?"
        " WHERE article_id = (SELECT id FROM articles WHERE url LIKE ?)",
        value,
        f"%/{article}.html",
    )


# -- watcher hits -----------------------------------------------------------------------


def test_hits_of_one_term(config: Path) -> None:
    assert sorted(listed(config, "--term", T4)) == [("a2", T4), ("a8", T4)]


def test_hits_of_a_feed_include_articles_it_carried_after_another_feed(config: Path) -> None:
    # a2 came first through the RSS feed and again through the Atom feed (as a5).
    assert sorted(listed(config, "--feed", "Eastern Ledger")) == [("a2", T4), ("a4", T3)]
    assert sorted(listed(config, "--feed", "Harbour Wire")) == [("a7", T2), ("a8", T4)]


def test_since_and_until_take_dates_and_until_includes_its_day(config: Path) -> None:
    set_hit(config, "a1", "found_at", "2026-10-01T23:30:00+00:00")
    set_hit(config, "a4", "found_at", "2026-10-15T08:00:00+00:00")

    assert listed(config, "--since", "2026-10-01", "--until", "2026-10-01") == [("a1", T1)]
    assert listed(config, "--since", "2026-10-02", "--until", "2026-10-31") == [("a4", T3)]
    assert sorted(listed(config, "--since", "7d")) == [("a2", T4), ("a7", T2), ("a8", T4)]
    assert listed(config, "--until", "2026-10-16") == [("a4", T3), ("a1", T1)]


def test_min_score_and_sorting_by_score(config: Path) -> None:
    for article, score in [("a1", 9), ("a2", 12.5), ("a4", 4), ("a7", 3), ("a8", 1)]:
        set_hit(config, article, "score", score)

    assert listed(config, "--min-score", "9", "--sort", "score") == [("a2", T4), ("a1", T1)]
    assert listed(config, "--sort", "score", "--limit", "3") == [
        ("a2", T4),
        ("a1", T1),
        ("a4", T3),
    ]


def test_sorting_by_published_puts_the_newest_story_first(config: Path) -> None:
    # Published dates in the fixture feeds: a8 Nov 10, a7 Nov 9, a4 and a2 Nov 4 (a2's time
    # is the RSS or the Atom feed's, whichever stored it first), a1 Nov 3.
    order = [article for article, _ in listed(config, "--sort", "published")]

    assert order[:2] == ["a8", "a7"]
    assert sorted(order[2:4]) == ["a2", "a4"]
    assert order[4] == "a1"


def test_delivered_means_a_channel_accepted_the_digest(config: Path) -> None:
    now = datetime.now(UTC)
    with opened(config) as store:
        store.outbox.sync_channels(["desk"], now)
        digest = store.outbox.create("desk", now, terms=[T3], since=now - timedelta(days=1))
        assert digest is not None
        assert listed(config, "--delivered") == []  # pending is not delivered
        store.outbox.mark_sent(digest, now)

    assert listed(config, "--delivered") == [("a4", T3)]
    [sent] = json.loads(invoke(config, "deliveries", "--format", "json").output)
    assert (sent["id"], sent["channel"], sent["status"]) == (digest, "desk", "sent")
    assert sent["hits"] == 1
    assert sorted(listed(config, "--undelivered")) == [
        ("a1", T1),
        ("a2", T4),
        ("a7", T2),
        ("a8", T4),
    ]


def test_hits_as_csv_and_ndjson(config: Path) -> None:
    as_csv = invoke(config, "hits", "--format", "csv", "--term", T1)
    rows = list(csv.DictReader(io.StringIO(as_csv.output)))
    assert [(slug(row["url"]), row["term"]) for row in rows] == [("a1", T1)]
    assert "New Delhi and Tokyo" in rows[0]["snippet"]  # the term's first match: the pairing

    as_ndjson = invoke(config, "hits", "--format", "ndjson", "--term", T4)
    assert sorted(slug(json.loads(line)["url"]) for line in as_ndjson.output.splitlines()) == [
        "a2",
        "a8",
    ]


def test_hits_as_a_table_for_people(config: Path) -> None:
    result = invoke(config, "hits", "--term", T3)

    header, rule, row = result.output.splitlines()
    assert header.split() == ["id", "found", "term", "score", "feed", "title", "url"]
    assert set(rule.replace(" ", "")) == {"-"}
    assert "UNICORN antenna" in row and "Japan agrees to share stealth mast technology" in row
    assert slug(row.split()[-1]) == "a4"


def test_the_hits_table_gives_the_id_that_show_takes(config: Path) -> None:
    row = invoke(config, "hits", "--term", T3).output.splitlines()[2]

    shown = invoke(config, "show", row.split()[0])

    assert shown.output.startswith("Japan agrees to share stealth mast technology")


def test_an_unknown_term_is_an_error_that_suggests_the_closest(config: Path) -> None:
    result = CliRunner().invoke(cli, ["--config", str(config), "hits", "--term", "UNICORN antena"])

    assert result.exit_code == 2
    assert result.output == (
        "error: no term named 'UNICORN antena' in the config or the database;"
        " did you mean 'UNICORN antenna'?\n"
    )


def test_a_term_removed_from_the_config_still_filters_its_stored_hits(
    tmp_path: Path, polled_at: str
) -> None:
    only_t1 = '[[terms]]\nname = "JWG on critical minerals"\nquery = "=JWG"\n'
    config = write_config(tmp_path, FEEDS, terms=only_t1, storage=polled_at)

    assert sorted(listed(config, "--term", T4)) == [("a2", T4), ("a8", T4)]


def test_since_after_until_is_an_error(config: Path) -> None:
    result = invoke(config, "hits", "--since", "2026-11-20", "--until", "2026-11-01")

    assert result.exit_code == 2
    assert result.output == (
        "error: --since 2026-11-20 00:00 is not before --until 2026-11-02 00:00\n"
    )


# -- watcher show -----------------------------------------------------------------------


def test_show_prints_the_whole_article_with_every_match_marked(config: Path) -> None:
    result = invoke(config, "show", str(hit_id(config, "a2")))

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == (
        "Viaduct work races ahead on **Mumbai–Ahmedabad bullet train**"
        " as last girder spans the Narmada"
    )
    assert slug(lines[1]) == "a2"
    # Both feeds carry the article and are polled at once: either may have stored it first.
    assert lines[2] in {
        "feed: Coastline Daily (also Eastern Ledger)",
        "feed: Eastern Ledger (also Coastline Daily)",
    }
    assert lines[4].startswith(f"hit {hit_id(config, 'a2')}: {T4}, score ")
    body = "\n".join(lines[6:])
    assert "**NHSRCL**" in body
    assert "**Mumbai‑Ahmedabad high‑speed rail**" in body  # non-breaking hyphens, as written


def test_show_as_json_gives_the_spans_of_the_matches(config: Path) -> None:
    result = invoke(config, "show", str(hit_id(config, "a1")), "--format", "json")

    [article] = json.loads(result.output)
    marked = [article["text"][start:end] for start, end in article["highlights"]["text"]]
    assert marked == [
        "New Delhi and Tokyo",
        "India–Japan",
        "Working Group",
        "Critical Minerals",
        "ministers",
    ]
    assert [hit["term"] for hit in article["hits"]] == [T1]
    assert article["feeds"] == ["Coastline Daily"]


def test_show_of_an_unknown_hit_is_a_one_line_error(config: Path) -> None:
    result = invoke(config, "show", "9999")

    assert result.exit_code == 2
    assert result.output == "error: no hit 9999 in the database (see `watcher hits`)\n"


# -- watcher search ---------------------------------------------------------------------


def search(config: Path, *args: str) -> list[dict[str, object]]:
    result = invoke(config, "search", *args, "--format", "json")
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


def test_search_finds_stories_no_term_caught(config: Path) -> None:
    [found] = search(config, '"maritime security"')

    assert slug(str(found["url"])) == "a6"
    assert found["terms"] == []
    assert found["clauses"] == ['"maritime security"']


def test_search_results_say_which_terms_hit_them_and_rank_title_matches_first(
    config: Path,
) -> None:
    found = search(config, "Tokyo")

    # a7's headline names Tokyo; a1 only mentions it in the text, as does a9.
    assert slug(str(found[0]["url"])) == "a7"
    assert found[0]["terms"] == [T2]
    assert {slug(str(result["url"])) for result in found} >= {"a1", "a7"}


def test_each_term_searched_finds_exactly_the_articles_it_hit(config: Path) -> None:
    from watcher.app.search import search as search_articles
    from watcher.config.load import load_config

    loaded = load_config(config)
    with opened(config) as store:
        for term in loaded.terms:
            results = search_articles(store, term.query, limit=100, aliases=loaded.aliases)
            found = {result.url for result in results}
            hit = {hit.url for hit in store.archive.hits() if hit.term == term.name}
            assert found == hit, term.name


def test_search_results_as_text_mark_the_match_in_the_snippet(config: Path) -> None:
    result = invoke(config, "search", '"maritime security"')

    first, where, snippet, link = result.output.splitlines()
    assert first == "1. India and Vietnam set up joint working group on maritime security"
    assert where.startswith("   Eastern Ledger, 2026-11-")
    assert "**maritime security**" in snippet
    assert slug(link.strip()) == "a6"


def test_search_that_finds_nothing_exits_1(config: Path) -> None:
    result = invoke(config, "search", "zeppelin")

    assert result.exit_code == 1
    assert result.output == "no articles found\n"


def test_a_malformed_search_names_the_position(config: Path) -> None:
    result = invoke(config, "search", '"rare earth')

    assert result.exit_code == 2
    assert result.output == "error: at 1: unterminated quote\n"


# -- watcher stats ----------------------------------------------------------------------


def test_stats_counts_hits_per_term_per_day(config: Path) -> None:
    today = datetime.now(UTC).date()
    set_hit(config, "a8", "found_at", f"{today - timedelta(days=2)}T09:00:00+00:00")

    result = invoke(config, "stats", "--since", "3d", "--format", "json")

    assert json.loads(result.output) == [
        {"period": str(today - timedelta(days=2)), "term": T4, "hits": 1},
        {"period": str(today), "term": T4, "hits": 1},  # terms in alphabetical order
        {"period": str(today), "term": T2, "hits": 1},
        {"period": str(today), "term": T1, "hits": 1},
        {"period": str(today), "term": T3, "hits": 1},
    ]


def test_stats_table_has_a_row_per_day_and_a_bar_of_the_total(config: Path) -> None:
    today = datetime.now(UTC).date()
    set_hit(config, "a8", "found_at", f"{today - timedelta(days=2)}T09:00:00+00:00")

    result = invoke(config, "stats", "--since", "3d")

    rows = result.output.splitlines()[2:]
    assert [row.split()[0] for row in rows] == [
        str(today - timedelta(days=offset)) for offset in (3, 2, 1, 0)
    ]
    assert rows[1].split()[-2:] == ["1", "███████▌"]  # 1 of 4: 7.5 of 30 characters
    assert rows[3].split()[-2:] == ["4", "█" * 30]
    assert rows[0].split()[-1] == "·"


def test_stats_by_week_counts_from_monday(config: Path) -> None:
    set_hit(config, "a1", "found_at", "2026-11-04T10:00:00+00:00")  # a Wednesday
    set_hit(config, "a4", "found_at", "2026-11-08T23:00:00+00:00")  # the Sunday after

    result = invoke(
        config, "stats", "--by", "week", "--since", "2026-11-01", "--until", "2026-11-10",
        "--format", "json",
    )  # fmt: skip

    assert json.loads(result.output) == [
        {"period": "2026-11-02", "term": T1, "hits": 1},
        {"period": "2026-11-02", "term": T3, "hits": 1},
    ]


# -- watcher export ---------------------------------------------------------------------


def test_export_writes_a_csv_file_oldest_first_with_the_text(config: Path) -> None:
    set_hit(config, "a1", "found_at", "2026-10-01T10:00:00+00:00")
    set_hit(config, "a4", "found_at", "2026-10-02T10:00:00+00:00")
    out = config.parent / "hits.csv"

    result = invoke(config, "export", "--with-text", "--until", "2026-10-31", "-o", str(out))

    assert result.exit_code == 0, result.output
    assert result.output == f"exported 2 hits to {out}\n"
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [(slug(row["url"]), row["term"]) for row in rows] == [("a1", T1), ("a4", T3)]
    assert "Joint Working Group on Critical Minerals" in rows[0]["text"]
    assert not (config.parent / "hits.csv.part").exists()


def test_export_as_json_is_one_array_of_every_hit(config: Path) -> None:
    result = invoke(config, "export", "--format", "json")

    assert result.stderr == "exported 5 hits\n"
    hits = json.loads(result.stdout)
    assert sorted((slug(hit["url"]), hit["term"]) for hit in hits) == [
        ("a1", T1),
        ("a2", T4),
        ("a4", T3),
        ("a7", T2),
        ("a8", T4),
    ]
    assert "text" not in hits[0]


# -- housekeeping -----------------------------------------------------------------------


def age_everything(config: Path, stamp: str = "2025-01-01T00:00:00+00:00") -> None:
    execute(config, "UPDATE articles SET first_seen_at = ?, changed_at = ?", stamp, stamp)
    execute(config, "UPDATE polls SET started_at = ?", stamp)


def retention_config(folder: Path, polled_at: str, retention: str) -> Path:
    folder.mkdir(exist_ok=True)
    return write_config(folder, FEEDS, extra=f"[retention]\n{retention}\n", storage=polled_at)


def test_housekeeping_deletes_old_articles_without_hits_and_keeps_every_hit(
    tmp_path: Path, polled_at: str
) -> None:
    config = retention_config(tmp_path, polled_at, 'articles = "30d"\npolls = "30d"')
    age_everything(config)
    assert search(config, '"maritime security"') != []

    dry = invoke(config, "housekeeping", "--dry-run")
    assert dry.output == "would delete 4 articles without hits and 3 polls\n"
    done = invoke(config, "housekeeping")

    assert done.exit_code == 0, done.output
    assert done.output == "deleted 4 articles without hits and 3 polls\n"
    assert len(listed(config)) == 5
    assert search(config, '"maritime security"') == []  # a6 is gone from the index too
    # Both kept (the order is bm25's on SQLite; on PostgreSQL, equal scores keep id order,
    # which follows which of the feeds polled at once stored its article first).
    assert sorted(slug(str(r["url"])) for r in search(config, "NHSRCL")) == ["a2", "a8"]
    with opened(config) as store:
        assert store.count("articles") == 5
        assert store.count("polls") == 0
        store.fulltext.check()


def test_housekeeping_keeps_recent_articles_and_forever_means_forever(
    tmp_path: Path, polled_at: str
) -> None:
    recent = retention_config(tmp_path, polled_at, 'articles = "30d"')
    assert invoke(recent, "housekeeping").output == "deleted 0 articles without hits and 0 polls\n"

    config = retention_config(tmp_path / "aged", polled_at, 'articles = "forever"\npolls = "30d"')
    age_everything(config)

    assert invoke(config, "housekeeping").output == (
        "deleted 0 articles without hits and 3 polls\n"
    )


def test_a_full_page_of_hits_says_there_may_be_more(config: Path) -> None:
    result = invoke(config, "hits", "--limit", "2")

    assert len(result.stdout.splitlines()) == 4  # header, rule, two hits
    assert result.stderr == "(the first 2; --limit for more, or `watcher export`)\n"


@pytest.mark.parametrize(
    "args",
    [
        ("hits", "--limit", "99999999999999999999"),
        ("hits", "--limit", str(2**63)),
        ("show", "99999999999999999999"),
        ("show", str(2**70)),
        ("deliveries", "--limit", "99999999999999999999"),
        ("hits", "--since", "999999d"),
        ("export", "--since", "9999999999w"),
        ("hits", "--since", "9999-12-31T23:00:00-05:00"),
    ],
    ids=" ".join,
)
def test_a_number_too_large_is_a_usage_error_not_a_traceback(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    result = invoke(write_config(tmp_path, FEEDS), *args)  # refused before the database opens

    assert result.exit_code == 2
    assert "Error: Invalid value" in result.output
    assert "Traceback" not in result.output


def test_a_duration_too_long_says_so(tmp_path: Path) -> None:
    result = invoke(write_config(tmp_path, FEEDS), "hits", "--since", "999999d")

    assert "'999999d' is longer than 100 years" in result.output


def test_until_the_last_day_of_year_9999_lists_every_hit(config: Path) -> None:
    assert len(listed(config, "--until", "9999-12-31")) == 5


@pytest.mark.parametrize("by", ["day", "week"])
def test_stats_until_far_in_the_future_stops_at_today(config: Path, by: str) -> None:
    result = invoke(
        config, "stats", "--by", by, "--since", "3d", "--until", "9999-12-31", "--format", "csv"
    )

    assert result.exit_code == 0
    assert result.output.startswith("period,term,hits\n")


def test_export_into_a_missing_folder_is_a_one_line_error(config: Path, tmp_path: Path) -> None:
    out = tmp_path / "no" / "such" / "hits.csv"

    result = invoke(config, "export", "-o", str(out))

    assert result.exit_code == 2
    assert result.output == f"error: --output {out}: no folder {out.parent}\n"


def test_export_to_a_named_pipe_writes_into_it_and_leaves_it_a_pipe(
    config: Path, tmp_path: Path
) -> None:
    pipe = tmp_path / "hits.pipe"
    os.mkfifo(pipe)
    read: list[str] = []
    reader = threading.Thread(target=lambda: read.append(pipe.read_text()), daemon=True)
    reader.start()

    result = invoke(config, "export", "-o", str(pipe))
    reader.join(timeout=10)

    assert result.exit_code == 0
    assert stat.S_ISFIFO(pipe.stat().st_mode)
    assert read and len(read[0].splitlines()) == 6  # the header and five hits


# SQLite only: its one writer's lock blocks readers past the busy timeout, where PostgreSQL
# readers never wait for writers.
def test_a_database_locked_by_another_process_is_a_one_line_error(
    tmp_path: Path, polled: Path
) -> None:
    shutil.copy(polled, tmp_path / "watcher.db")
    config = write_config(tmp_path, FEEDS)
    holder = sqlite3.connect(config.parent / "watcher.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock past our busy timeout
    try:
        result = invoke(config, "hits")
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    assert result.exit_code == 1
    assert result.output == (
        f"error: {config.parent / 'watcher.db'}: database is locked by another process"
        " (the service, a backup or an sqlite3 shell) for over 10s: try again\n"
    )


def test_show_and_hits_name_the_same_first_feed_when_two_feeds_tie(config: Path) -> None:
    # a2 is carried by two feeds; the later-sorting one stored it, both in the same second.
    execute(
        config,
        "UPDATE article_feeds SET first_seen_at = '2026-10-01T00:00:00+00:00'"
        " WHERE article_id = (SELECT article_id FROM article_feeds GROUP BY article_id"
        " HAVING COUNT(*) = 2)",
    )
    execute(
        config,
        "UPDATE articles SET feed = 'Eastern Ledger' WHERE id = (SELECT article_id"
        " FROM article_feeds GROUP BY article_id HAVING COUNT(*) = 2)",
    )
    hit = next(
        h
        for h in json.loads(invoke(config, "hits", "--format", "json").output)
        if slug(h["url"]) in ("a2", "a5")
    )

    shown = invoke(config, "show", str(hit["id"])).output.splitlines()

    assert hit["feed"] == "Eastern Ledger"
    assert shown[2] == "feed: Eastern Ledger (also Coastline Daily)"


@pytest.mark.parametrize(
    "args",
    [("export",), ("hits", "--format", "csv"), ("search", "stealth", "--format", "csv")],
    ids=" ".join,
)
def test_csv_to_stdout_shows_control_characters_escaped(
    config: Path, args: tuple[str, ...], polled_at: str
) -> None:
    controls, shown = "\x1b[2J\x07\x00\x9b\u202e", "\\x1b[2J\\x07\\x00\\x9b\\u202e"
    if "://" in polled_at:  # PostgreSQL's text cannot hold NUL (`db copy` replaces it)
        controls, shown = "\x1b[2J\x07\x9b\u202e", "\\x1b[2J\\x07\\x9b\\u202e"
    execute(config, "UPDATE articles SET title = title || ?", " " + controls)

    result = invoke(config, *args)

    assert not any(char in result.stdout for char in "\x1b\x07\x00\x9b\u202e")
    assert shown in result.stdout


# -- the same answers on both backends --------------------------------------------------


@pytest.fixture
def configs(tmp_path: Path, polled: Path, postgres_server: Any, polled_template: str) -> Any:
    """Configs of the polled database on SQLite and its PostgreSQL clone (same rows, ids)."""
    shutil.copy(polled, tmp_path / "watcher.db")
    url, name = postgres_server.create_database(template=polled_template)
    (tmp_path / "pg").mkdir()
    try:
        yield write_config(tmp_path, FEEDS), write_config(tmp_path / "pg", FEEDS, storage=url)
    finally:
        postgres_server.drop_database(name)


@pytest.mark.parametrize(
    "args",
    [
        ("hits", "--format", "json"),
        ("hits", "--feed", "Eastern Ledger", "--sort", "score", "--format", "csv"),
        ("show", "1", "--format", "json"),
        ("show", "4"),
        ("search", "Tokyo", "--format", "json"),
        ("search", "Tokyo", "--limit", "2", "--since", "1d", "--format", "json"),
        ("search", '"maritime security" OR NHSRCL', "--format", "json"),
        ("search", "NHSRCL OR Tokyo", "--feed", "Harbour Wire", "--format", "csv"),
        ("search", '"rare earth*" NEAR/8 Japan', "--format", "csv"),
        ("show", "3", "--article", "--format", "json"),
        ("hits", "--sort", "published", "--until", "9999-12-31", "--format", "ndjson"),
        ("stats", "--by", "week", "--since", "30d", "--format", "csv"),
        ("stats", "--since", "3d", "--format", "json"),
        ("export", "--with-text", "--format", "json"),
        ("feeds", "list", "--format", "json"),
        ("deliveries",),
        ("terms", "eval", "--judged"),
    ],
    ids=" ".join,
)
def test_a_command_prints_the_same_on_sqlite_and_on_postgres(
    configs: tuple[Path, Path], args: tuple[str, ...]
) -> None:
    on_sqlite, on_postgres = (invoke(config, *args) for config in configs)

    assert on_sqlite.exit_code == 0, on_sqlite.output
    assert on_postgres.exit_code == 0, on_postgres.output
    assert comparable(args, on_postgres.stdout) == comparable(args, on_sqlite.stdout)


def comparable(args: tuple[str, ...], stdout: str) -> object:
    """A command's output; a search's as its set of results without their `rank`: SQLite's
    bm25 figure and order, which PostgreSQL's index does not compute (its results come by
    the matcher's score, app/search.py; the test of title matches first holds on both)."""
    if args[0] != "search":
        return stdout
    if "csv" in args:
        found: list[dict[str, object]] = list(csv.DictReader(io.StringIO(stdout)))
    else:
        found = json.loads(stdout)
    return sorted(json.dumps({**result, "rank": None}, sort_keys=True) for result in found)
