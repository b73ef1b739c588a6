"""Datasette on the hit database with the shipped docs/datasette-metadata.yml.

Datasette runs in-process (its ASGI client opens no socket) on a copy of the
database the real pipeline built from the fixture site
(tests/fixtures/site/EXPECTED.md): five hits, on articles a1 (T1), a2 (T4,
also carried by the Atom feed as a5), a4 (T3), a7 (T2) and a8 (T4). SQLite
only: Datasette reads SQLite files (on PostgreSQL, `watcher db copy` makes one).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import sqlite3
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import markupsafe
import pytest
import yaml
from datasette.app import Datasette

from conftest import ROOT

METADATA = ROOT / "docs" / "datasette-metadata.yml"
T1, T2, T3, T4 = (
    "JWG on critical minerals",
    "India–Japan AI Dialogue",
    "UNICORN antenna",
    "Ahmedabad–Mumbai HSR",
)
COAST, LEDGER, HARBOUR = "Coastline Daily", "Eastern Ledger", "Harbour Wire"
# The fixture site's hits by article page: term, headline, every feed that carried it.
SITE_HITS = {
    "a1": (T1, "India and Japan map out rare earth supply links at Tokyo talks", {COAST}),
    "a2": (
        T4,
        "Viaduct work races ahead on Mumbai–Ahmedabad bullet train"
        " as last girder spans the Narmada",
        {COAST, LEDGER},
    ),
    "a4": (T3, "Japan agrees to share stealth mast technology with Indian Navy", {LEDGER}),
    "a7": (T2, "Delhi and Tokyo open new diplomatic track on artificial intelligence", {HARBOUR}),
    "a8": (
        T4,
        "Surat station contract awarded as high-speed line moves to fit-out stage",
        {HARBOUR},
    ),
}
DOCUMENTED = [
    "feeds",
    "articles",
    "article_feeds",
    "hits",
    "polls",
    "channels",
    "digests",
    "digest_hits",
    "judgements",
    "hit_reads",
    "story_mutes",
    "term_snoozes",
]
HIDDEN = {
    "link_keys",
    "integrity",
    "article_bands",
    "articles_fts",
    "articles_fts_config",
    "articles_fts_data",
    "articles_fts_docsize",
    "articles_fts_idx",
    "_sqlite_migrations",
    "service",
    "processes",
}
QUERIES = {"hits_this_week", "hits_per_term", "top_outlets", "first_reports", "search_hits"}
# A value for each :parameter of the canned queries, for running them outside Datasette.
SAMPLE_PARAMS = {"days": "7", "term": "JWG", "text": "viaduct"}


def metadata() -> dict[str, Any]:
    return yaml.safe_load(METADATA.read_text(encoding="utf-8"))


def queries() -> dict[str, Any]:
    return metadata()["databases"]["watcher"]["queries"]


@pytest.fixture
def db(tmp_path: Path, polled: Path) -> Path:
    """A copy of the polled database, named so that Datasette calls it `watcher`."""
    copy = tmp_path / "watcher.db"
    shutil.copy(polled, copy)
    return copy


def browse(db: Path, visit: Callable[[Datasette], Awaitable[Any]]) -> Any:
    """Start Datasette on `db` with the shipped metadata, let `visit` use it, stop it."""

    async def go() -> Any:
        ds = Datasette([str(db)], metadata=metadata())
        await ds.invoke_startup()
        try:
            return await visit(ds)
        finally:
            for database in ds.databases.values():
                database.close()
            ds.executor.shutdown(wait=True)

    return asyncio.run(go())


def get(db: Path, *paths: str) -> list[httpx.Response]:
    async def visit(ds: Datasette) -> list[httpx.Response]:
        return [await ds.client.get(path) for path in paths]

    return browse(db, visit)  # type: ignore[no-any-return]


def canned(name: str, **params: str) -> str:
    return f"/watcher/{name}.json?" + urlencode({"_shape": "array", **params})


def rows(db: Path, name: str, **params: str) -> list[dict[str, Any]]:
    (response,) = get(db, canned(name, **params))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def execute(db: Path, sql: str, *params: object) -> None:
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        conn.execute(sql, params)


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def page(url: str) -> str:
    """ "a2" for http://127.0.0.1:1234/articles/a2.html."""
    return url.rsplit("/", 1)[1].split(".")[0]


# --- the metadata file -------------------------------------------------------------------


@pytest.mark.slow
def test_the_metadata_describes_every_column_of_the_main_tables(db: Path) -> None:
    """A migration that adds a column fails here until the column is described."""
    tables = metadata()["databases"]["watcher"]["tables"]
    with contextlib.closing(sqlite3.connect(db)) as conn:
        for table in DOCUMENTED:
            columns = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
            assert columns, f"no table {table}"
            assert tables[table]["description"].strip()
            described = tables[table].get("columns", {})
            assert sorted(described) == sorted(columns), table
            assert all(str(text).strip() for text in described.values()), table


def test_the_metadata_has_the_documented_canned_queries() -> None:
    found = queries()

    assert set(found) == QUERIES
    for name, query in found.items():
        assert query["title"].strip() and query["description"].strip(), name


# --- canned queries through Datasette ----------------------------------------------------


@pytest.mark.slow
def test_hits_this_week_lists_the_five_fixture_hits_newest_first(db: Path) -> None:
    found = rows(db, "hits_this_week")

    assert Counter(row["term"] for row in found) == Counter({T4: 2, T1: 1, T2: 1, T3: 1})
    assert sorted(page(row["url"]) for row in found) == ["a1", "a2", "a4", "a7", "a8"]
    for row in found:
        term, title, feeds = SITE_HITS[page(row["url"])]
        assert (row["term"], row["title"]) == (term, title)
        assert set(row["feeds"].split(", ")) == feeds
        assert row["feed"] in feeds
        assert row["score"] > 0
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", row["found_at"])
    times = [row["found_at"] for row in found]
    assert times == sorted(times, reverse=True)
    assert len({row["hit_id"] for row in found}) == 5


@pytest.mark.slow
def test_hits_this_week_leaves_out_hits_older_than_seven_days(db: Path) -> None:
    now = datetime.now(UTC)
    # Just outside the window, on the same calendar day as its start: comparing against
    # SQLite's 'YYYY-MM-DD HH:MM:SS' (a space, not a 'T') would wrongly keep it.
    execute(
        db,
        "UPDATE hits SET found_at = ? WHERE term = ?",
        stamp(now - timedelta(days=7, minutes=5)),
        T3,
    )
    execute(
        db,
        "UPDATE hits SET found_at = ? WHERE term = ?",
        stamp(now - timedelta(days=6, hours=23)),
        T2,
    )
    execute(db, "UPDATE hits SET found_at = ? WHERE term = ?", "2025-01-06T09:00:00+00:00", T1)

    found = rows(db, "hits_this_week")

    assert sorted(page(row["url"]) for row in found) == ["a2", "a7", "a8"]
    assert found[-1]["term"] == T2  # the oldest of them comes last


@pytest.mark.slow
def test_hits_per_term_counts_hits_and_stories(db: Path) -> None:
    found = rows(db, "hits_per_term")

    assert [(row["term"], row["hits"], row["stories"]) for row in found] == [
        (T4, 2, 2),
        (T2, 1, 1),
        (T1, 1, 1),
        (T3, 1, 1),
    ]
    for row in found:
        assert row["first_found"] <= row["last_found"]
    assert rows(db, "hits_per_term", days="7") == found


@pytest.mark.slow
def test_hits_per_term_with_days_counts_only_that_many_days(db: Path) -> None:
    execute(db, "UPDATE hits SET found_at = ? WHERE term = ?", "2025-01-06T09:00:00+00:00", T1)
    execute(
        db,
        "UPDATE hits SET found_at = ? WHERE id = (SELECT MIN(id) FROM hits WHERE term = ?)",
        stamp(datetime.now(UTC) - timedelta(days=10)),
        T4,
    )

    recent = {row["term"]: row["hits"] for row in rows(db, "hits_per_term", days="7")}
    month = {row["term"]: row["hits"] for row in rows(db, "hits_per_term", days="30")}
    ever = {row["term"]: (row["hits"], row["first_found"]) for row in rows(db, "hits_per_term")}

    assert recent == {T4: 1, T2: 1, T3: 1}
    assert month == {T4: 2, T2: 1, T3: 1}
    assert ever[T1] == (1, "2025-01-06T09:00:00+00:00")
    assert len(ever) == 4


@pytest.mark.slow
def test_top_outlets_counts_hits_carried_and_stories_reported_first(db: Path) -> None:
    found = {row["feed"]: row for row in rows(db, "top_outlets")}

    assert sorted(found) == [COAST, LEDGER, HARBOUR]
    assert {feed: (row["hits"], row["terms"]) for feed, row in found.items()} == {
        COAST: (2, 2),  # a1 (T1), a2 (T4)
        LEDGER: (2, 2),  # a4 (T3), a2 as a5 (T4)
        HARBOUR: (2, 2),  # a7 (T2), a8 (T4)
    }
    # Harbour Wire alone carried a7 and a8; a1 is Coastline's alone and a4 the Ledger's;
    # a2 went to whichever of Coastline and the Ledger stored it first in the same poll.
    assert found[HARBOUR]["first_reports"] == 2
    assert found[COAST]["first_reports"] + found[LEDGER]["first_reports"] == 3
    assert min(found[COAST]["first_reports"], found[LEDGER]["first_reports"]) >= 1


@pytest.mark.slow
def test_first_reports_names_the_outlet_that_reported_a_term_first(db: Path) -> None:
    jwg = rows(db, "first_reports", term="JWG")
    antenna = rows(db, "first_reports", term="unicorn")  # LIKE ignores ASCII case
    rail = rows(db, "first_reports", term="HSR")

    assert [(row["term"], row["first_feed"], row["stories"]) for row in jwg] == [(T1, COAST, 1)]
    assert [(row["term"], row["first_feed"], row["stories"]) for row in antenna] == [
        (T3, LEDGER, 1)
    ]
    assert {row["term"] for row in rail} == {T4}
    assert sum(row["stories"] for row in rail) == 2
    assert HARBOUR in {row["first_feed"] for row in rail}  # a8
    assert {row["first_feed"] for row in rail} - {HARBOUR} <= {COAST, LEDGER}  # a2
    assert len(rows(db, "first_reports")) in (4, 5)  # five stories; a2 may share a row
    assert rows(db, "first_reports", term="no such term") == []


@pytest.mark.slow
def test_search_hits_finds_text_in_titles_and_snippets(db: Path) -> None:
    viaduct = rows(db, "search_hits", text="NARMADA")  # in a2's title only
    nhsrcl = rows(db, "search_hits", text="NHSRCL")  # in the snippets of a2 and a8

    assert [(page(row["url"]), row["term"]) for row in viaduct] == [("a2", T4)]
    assert sorted(page(row["url"]) for row in nhsrcl) == ["a2", "a8"]
    assert rows(db, "search_hits", text="no such words") == []
    assert rows(db, "search_hits") == []  # nothing asked, nothing listed


@pytest.mark.slow
def test_datasette_sees_hits_the_service_commits_while_it_runs(db: Path) -> None:
    """Not --immutable: Datasette reads the live WAL database, as the service writes it."""

    async def visit(ds: Datasette) -> tuple[int, list[dict[str, Any]]]:
        before = (await ds.client.get(canned("hits_this_week"))).json()
        execute(
            db,
            "INSERT INTO hits (article_id, term, phrase, snippet, score, found_at)"
            " SELECT id, 'Kerala rainfall', 'rainfall', 'heaviest November rainfall', 2.0, ?"
            " FROM articles WHERE url LIKE '%/articles/a10.html'",
            stamp(datetime.now(UTC) + timedelta(seconds=5)),
        )
        after = (await ds.client.get(canned("hits_this_week"))).json()
        return len(before), after

    before, after = browse(db, visit)

    assert before == 5
    assert len(after) == 6
    assert (after[0]["term"], page(after[0]["url"])) == ("Kerala rainfall", "a10")


# --- tables ------------------------------------------------------------------------------


@pytest.mark.slow
def test_every_documented_table_page_loads_with_its_descriptions(db: Path) -> None:
    tables = metadata()["databases"]["watcher"]["tables"]
    responses = get(db, *(f"/watcher/{table}" for table in DOCUMENTED))

    for table, response in zip(DOCUMENTED, responses, strict=True):
        assert response.status_code == 200, table
        html = response.text
        assert str(markupsafe.escape(tables[table]["description"])) in html, table
        for column, text in tables[table]["columns"].items():
            assert f"<dt>{column}</dt><dd>{markupsafe.escape(text)}</dd>" in html, table


@pytest.mark.slow
def test_the_hits_table_is_sorted_newest_first(db: Path) -> None:
    execute(db, "UPDATE hits SET found_at = ? WHERE term = ?", "2025-01-06T09:00:00+00:00", T2)
    (response,) = get(db, "/watcher/hits.json?_shape=objects")

    data = response.json()
    assert response.status_code == 200
    assert "order by found_at desc" in data["query"]["sql"]
    assert len(data["rows"]) == 5
    assert data["rows"][-1]["term"] == T2
    times = [row["found_at"] for row in data["rows"]]
    assert times == sorted(times, reverse=True)


@pytest.mark.slow
def test_internal_tables_are_hidden(db: Path) -> None:
    database, index = get(db, "/watcher.json", "/")

    tables = {table["name"]: table["hidden"] for table in database.json()["tables"]}
    assert {name for name, hidden in tables.items() if hidden} == HIDDEN
    assert {name for name, hidden in tables.items() if not hidden} == set(DOCUMENTED)
    assert index.status_code == 200
    assert "articles_fts" not in index.text
    assert "article_bands" not in index.text


@pytest.mark.slow
def test_the_database_page_lists_the_canned_queries(db: Path) -> None:
    (response,) = get(db, "/watcher.json")

    assert {query["name"] for query in response.json()["queries"]} == QUERIES


# --- the SQL itself, without Datasette ----------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(QUERIES))
def test_every_canned_query_runs_on_the_real_schema(db: Path, name: str) -> None:
    """Plain sqlite3, as Datasette binds them: missing parameters are empty strings."""
    sql = queries()[name]["sql"]
    names = set(re.findall(r"(?<!:):([A-Za-z_]\w*)", sql))
    assert names <= set(SAMPLE_PARAMS), f"give {names - set(SAMPLE_PARAMS)} a sample value"

    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        blank = conn.execute(sql, {key: "" for key in names})
        assert [column[0] for column in blank.description]
        blank.fetchall()
        sample = conn.execute(sql, {key: SAMPLE_PARAMS[key] for key in names}).fetchall()

    assert sample, f"{name} found nothing in the fixture database"
