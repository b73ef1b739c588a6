"""`watcher db copy`: a database moved between SQLite and PostgreSQL, either way, and back.

The SQLite database is the one the real pipeline filled from the fixture site
(the `polled` fixture); PostgreSQL is a real server in a temporary folder
(tests/pgserver.py).
"""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner, Result
from sqlite_utils import Database

from conftest import wait_for, write_config
from watcher.cli import cli
from watcher.store.copy import copy_database, plan
from watcher.store.schema import migrations

FEEDS = [
    ("Coastline Daily", "https://coast.example/rss"),
    ("Eastern Ledger", "https://ledger.example/atom"),
    ("Harbour Wire", "https://harbour.example/feed.json"),
]
NOW = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)
# Tables copied, parents before children, as of m010 (m011 and later add theirs).
TABLES = ["feeds", "articles", "article_feeds", "hits", "polls", "article_bands", "service"]


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def setup(folder: Path, db: Path | None = None) -> Path:
    """A config whose database is `folder`/watcher.db (a copy of `db`, when given)."""
    folder.mkdir(exist_ok=True)
    if db is not None:
        shutil.copy(db, folder / "watcher.db")
    return write_config(folder, FEEDS)


def rows(db: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every copied table's rows, in key order."""
    with sqlite3.connect(db) as conn:
        return {
            table.name: conn.execute(
                f"SELECT * FROM {table.name} ORDER BY {', '.join(table.key)}"
            ).fetchall()
            for table in plan()
        }


def counted(url: str, table: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(f"SELECT COUNT(*) FROM {table}".encode()).fetchone()
    assert row is not None
    return int(row[0])


def test_the_tables_are_copied_parents_first_and_without_the_search_index() -> None:
    names = [table.name for table in plan()]
    assert names[: len(TABLES)] == TABLES
    assert {"channels", "digests", "digest_hits", "integrity"} <= set(names)
    assert names.index("digest_hits") > max(names.index("digests"), names.index("hits"))
    assert not [name for name in names if "fts" in name or "migrations" in name]


@pytest.mark.slow
def test_a_polled_database_copied_to_postgres_and_back_answers_hits_and_search_the_same(
    tmp_path: Path, polled: Path, postgres_url: str
) -> None:
    original = setup(tmp_path / "original", polled)
    returned = setup(tmp_path / "returned")
    there = run("db", "copy", str(original.parent / "watcher.db"), postgres_url)
    assert there.exit_code == 0, there.output
    back = run("db", "copy", postgres_url, str(returned.parent / "watcher.db"))
    assert back.exit_code == 0, back.output

    hits = run("--config", str(original), "hits", "--format", "json")
    assert hits.stdout.count('"term"') == 5  # the fixture site's five hits
    assert run("--config", str(returned), "hits", "--format", "json").stdout == hits.stdout
    on_postgres = setup(tmp_path / "shared")
    on_postgres.write_text(
        on_postgres.read_text().replace(
            f'path = "{on_postgres.parent / "watcher.db"}"', f'url = "{postgres_url}"'
        )
    )
    for query in ("NHSRCL", '"rare earth*" OR minerals', "unicorn"):
        searched = run("--config", str(original), "search", query, "--format", "json")
        assert searched.exit_code == 0 and searched.stdout.strip() != "[]", query
        again = run("--config", str(returned), "search", query, "--format", "json")
        assert again.stdout == searched.stdout, query
        # PostgreSQL's copy finds the same articles (it ranks them otherwise: ids compared).
        shared = run("--config", str(on_postgres), "search", query, "--format", "json")
        assert shared.exit_code == 0, shared.output
        ids = {item["article_id"] for item in json.loads(shared.stdout)}
        assert ids == {item["article_id"] for item in json.loads(searched.stdout)}, query
    assert rows(returned.parent / "watcher.db") == rows(original.parent / "watcher.db")
    lines = back.stdout.splitlines()
    assert lines[0].split() == ["table", "source", "target"]
    articles = rows(original.parent / "watcher.db")["articles"]
    assert f"articles {len(articles)} {len(articles)}" in [" ".join(x.split()) for x in lines]
    assert "counts match" in lines[-1]
    assert "articles: " in there.stderr  # the progress


@pytest.mark.slow
def test_new_rows_on_postgres_get_ids_after_the_copied_ones(
    tmp_path: Path, polled: Path, postgres_url: str
) -> None:
    copy_database(str(polled), postgres_url, NOW)
    with psycopg.connect(postgres_url) as conn:
        highest = conn.execute("SELECT MAX(id) FROM polls").fetchone()
        made = conn.execute(
            "INSERT INTO polls (feed, started_at, finished_at, status)"
            " VALUES ('Coastline Daily', 'x', 'x', 'ok') RETURNING id"
        ).fetchone()
    assert highest is not None and made is not None
    assert made[0] == highest[0] + 1


class Interrupt(Exception):
    pass


def stop_in(table: str, after: int) -> object:
    """A progress report that stops the copy once `after` rows of `table` are copied."""

    def progress(name: str, done: int, total: int) -> None:
        if name == table and done >= after:
            raise Interrupt

    return progress


@pytest.mark.slow
@pytest.mark.parametrize("table", ["articles", "article_bands"])  # keyed by id; by whole rows
def test_an_interrupted_copy_to_postgres_run_again_copies_every_row_once(
    tmp_path: Path, polled: Path, postgres_url: str, table: str
) -> None:
    with pytest.raises(Interrupt):
        copy_database(str(polled), postgres_url, NOW, batch=2, progress=stop_in(table, 2))
    assert counted(postgres_url, table) == 2  # one batch in, the rest not

    again = run("db", "copy", "--batch", "2", str(polled), postgres_url)

    assert again.exit_code == 0, again.output
    expected = rows(polled)
    for table in TABLES:
        assert counted(postgres_url, table) == len(expected[table]), table
    with psycopg.connect(postgres_url) as conn:
        ids = [row[0] for row in conn.execute("SELECT id FROM articles ORDER BY id")]
    assert ids == [row[0] for row in expected["articles"]]


@pytest.mark.slow
def test_an_interrupted_copy_to_sqlite_run_again_copies_every_row_once_and_indexes_them(
    tmp_path: Path, polled: Path, postgres_url: str
) -> None:
    copy_database(str(polled), postgres_url, NOW)
    returned = setup(tmp_path / "returned")
    target = str(returned.parent / "watcher.db")
    with pytest.raises(Interrupt):
        copy_database(postgres_url, target, NOW, batch=3, progress=stop_in("article_feeds", 3))
    assert len(rows(Path(target))["article_feeds"]) == 3

    again = run("db", "copy", postgres_url, target)

    assert again.exit_code == 0, again.output
    assert rows(Path(target)) == rows(polled)
    found = run("--config", str(returned), "search", "NHSRCL", "--format", "json")
    assert found.exit_code == 0 and "NHSRCL" in found.stdout


def sqlite_at(path: Path, before: str | None = None) -> Path:
    """An SQLite watcher database migrated up to (not including) `before`."""
    db = Database(path)
    migrations.apply(db, stop_before=before)
    db.close()
    return path


@pytest.mark.slow
def test_a_postgres_target_at_another_schema_version_is_refused_in_one_line(
    tmp_path: Path, postgres_url: str
) -> None:
    source = sqlite_at(tmp_path / "source.db")
    run("db", "copy", str(source), postgres_url)
    with psycopg.connect(postgres_url) as conn:
        conn.execute("INSERT INTO _watcher_migrations VALUES ('m999_future', 'x')")

    result = run("db", "copy", str(source), postgres_url)

    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    theirs = len(migrations._migrations) + 1
    assert f"schema version {theirs} (m999_future), not this watcher's" in result.stderr


def test_an_sqlite_target_at_another_schema_version_is_refused_in_one_line(
    tmp_path: Path,
) -> None:
    source = sqlite_at(tmp_path / "source.db")
    target = sqlite_at(tmp_path / "old.db", before="m006_outbox")

    result = run("db", "copy", str(source), str(target))

    assert result.exit_code == 1
    assert result.stderr == (
        f"error: target {target}: schema version 5 (m005_adaptive_interval), not this"
        f" watcher's schema version {len(migrations._migrations)}"
        f" ({migrations._migrations[-1].name}): copy into a new, empty database\n"
    )


def test_an_sqlite_source_of_an_older_version_is_refused_and_left_as_it_was(
    tmp_path: Path,
) -> None:
    source = sqlite_at(tmp_path / "old.db", before="m006_outbox")
    before = source.read_bytes()

    result = run("db", "copy", str(source), str(tmp_path / "new.db"))

    assert result.exit_code == 1
    assert "source" in result.stderr and "schema version 5" in result.stderr
    assert source.read_bytes() == before
    assert not (tmp_path / "new.db").exists()


def test_a_target_that_held_other_rows_is_reported_with_the_counts_that_differ(
    tmp_path: Path,
) -> None:
    source = filled(tmp_path / "source.db", 3)
    target = filled(tmp_path / "target.db", 5)

    result = run("db", "copy", str(source), str(target))

    assert result.exit_code == 1
    lines = [" ".join(line.split()) for line in result.stdout.splitlines()]
    assert "articles 3 5 differs" in lines
    assert "feeds 1 1" in lines
    assert result.stderr.endswith(
        "error: row counts differ in articles, hits: was"
        f" {target} empty (or an interrupted copy of {source}) before the copy?\n"
    )


@pytest.mark.parametrize(
    ("source", "target", "message"),
    [
        ("missing.db", "new.db", "source {tmp}/missing.db: no such file"),
        ("folder", "new.db", "source {tmp}/folder: is a folder, not a database file"),
        ("notes.txt", "new.db", "source {tmp}/notes.txt: file is not a database"),
        ("good.db", "nowhere/new.db", "target {tmp}/nowhere/new.db: no such folder"),
        ("good.db", "folder", "target {tmp}/folder: is a folder, not a database file"),
        ("good.db", "mysql://db.example/watcher", "target 'mysql://db.example/watcher':"),
        ("good.db", "good.db", "source and target are the same database"),
        (
            "good.db",
            "postgresql://watcher:secret@127.0.0.1:1/watcher",
            "target postgresql://watcher:***@127.0.0.1:1/watcher: cannot connect:",
        ),
        (
            "postgresql://127.0.0.1:99999999/watcher",
            "new.db",
            "source postgresql://127.0.0.1:99999999/watcher: cannot connect:",
        ),
        (
            "postgresql://watcher:secret@[::1/watcher",
            "new.db",
            "source postgresql://[::1/watcher: cannot connect:",
        ),
    ],
)
def test_a_bad_source_or_target_is_a_one_line_error_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str, target: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "folder").mkdir()
    (tmp_path / "notes.txt").write_text("not a database, only words\n" * 200)
    sqlite_at(tmp_path / "good.db")

    def place(text: str) -> str:
        return text if "://" in text else str(tmp_path / text)

    result = run("db", "copy", place(source), place(target))

    assert result.exit_code in (1, 2)
    assert result.stderr.startswith("error: " + message.format(tmp=tmp_path))
    assert result.stderr.count("\n") == 1
    assert "secret" not in result.stderr
    assert not (tmp_path / "new.db").exists() or source == "good.db"


@pytest.mark.slow
def test_a_nul_character_postgres_cannot_hold_is_copied_as_the_replacement_character(
    tmp_path: Path, polled: Path, postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    source = tmp_path / "watcher.db"
    shutil.copy(polled, source)
    with sqlite3.connect(source) as conn:
        conn.execute("UPDATE articles SET title = ? WHERE id = 2", ["Rail\x00 link"])

    counts = copy_database(str(source), postgres_url, NOW)

    assert all(count.source == count.target for count in counts)
    with psycopg.connect(postgres_url) as conn:
        row = conn.execute("SELECT title FROM articles WHERE id = 2").fetchone()
    assert row == ("Rail\ufffd link",)
    assert "table articles: 1 values in the rows from key (1,) held NUL" in caplog.text


POLL = (
    "INSERT INTO polls (feed, started_at, finished_at, status)"
    " VALUES ('Coastline Daily', '2026-12-06T02:00:00+00:00', '2026-12-06T02:00:01+00:00', 'ok')"
)


@pytest.mark.slow
def test_a_copy_from_sqlite_reads_one_snapshot_while_the_source_is_written(
    tmp_path: Path, polled: Path, postgres_url: str
) -> None:
    source = tmp_path / "watcher.db"
    shutil.copy(polled, source)
    before = len(rows(source)["polls"])

    def write_meanwhile(table: str, done: int, total: int) -> None:
        if table == "articles" and done == 0:
            with sqlite3.connect(source) as conn:
                conn.execute(POLL)

    counts = copy_database(str(source), postgres_url, NOW, progress=write_meanwhile)

    assert {count.table: count.target for count in counts}["polls"] == before
    assert all(count.source == count.target for count in counts)
    assert len(rows(source)["polls"]) == before + 1  # written, after the snapshot


@pytest.mark.slow
def test_a_copy_from_postgres_reads_one_snapshot_while_the_source_is_written(
    tmp_path: Path, polled: Path, postgres_url: str
) -> None:
    copy_database(str(polled), postgres_url, NOW)
    before = counted(postgres_url, "polls")

    def write_meanwhile(table: str, done: int, total: int) -> None:
        if table == "articles" and done == 0:
            with psycopg.connect(postgres_url) as conn:
                conn.execute(POLL)

    counts = copy_database(postgres_url, str(tmp_path / "copy.db"), NOW, progress=write_meanwhile)

    assert {count.table: count.target for count in counts}["polls"] == before
    assert all(count.source == count.target for count in counts)
    assert counted(postgres_url, "polls") == before + 1


def filled(path: Path, articles: int) -> Path:
    """An SQLite watcher database with `articles` articles of ~2 KB, each hit once."""
    db = sqlite_at(path)
    text = "The corridor's viaducts rise over the estuary; " * 40
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO feeds (name, url) VALUES ('Coastline Daily', 'https://c.example')"
        )
        conn.executemany(
            "INSERT INTO articles (id, key, url, title, text, source, feed, first_seen_at,"
            " changed_at, cluster_id) VALUES (?, ?, ?, ?, ?, 'page', 'Coastline Daily', ?, ?, ?)",
            [
                (n, f"k{n}", f"https://c.example/{n}", f"Story {n}", text, "2026-12-01", "x", n)
                for n in range(1, articles + 1)
            ],
        )
        conn.executemany(
            "INSERT INTO hits (article_id, term, phrase, snippet, score, found_at)"
            " VALUES (?, 'HSR', 'viaduct', 'viaducts rise', 1.5, '2026-12-01')",
            [(n,) for n in range(1, articles + 1)],
        )
    return db


@pytest.mark.slow
def test_a_copy_killed_mid_table_run_again_copies_every_row_once(
    tmp_path: Path, postgres_url: str
) -> None:
    total = 5000
    source = filled(tmp_path / "big.db", total)
    command = [sys.executable, "-m", "watcher", "db", "copy", "--batch", "5"]
    process = subprocess.Popen(
        [*command, str(source), postgres_url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        copied = wait_for(lambda: counted_or_zero(postgres_url, "articles") >= 50, timeout=60)
    finally:
        process.kill()
        process.wait(timeout=30)
    assert copied, "the copy stored no 50 articles in 60 s"
    assert process.returncode == -signal.SIGKILL  # killed, not finished
    assert 50 <= counted(postgres_url, "articles") < total  # killed mid-table

    again = run("db", "copy", str(source), postgres_url)

    assert again.exit_code == 0, again.output
    assert counted(postgres_url, "articles") == total
    assert counted(postgres_url, "hits") == total
    with psycopg.connect(postgres_url) as conn:
        row = conn.execute("SELECT COUNT(DISTINCT id), MIN(id), MAX(id) FROM articles").fetchone()
    assert row == (total, 1, total)


def counted_or_zero(url: str, table: str) -> int:
    """A table's rows, 0 while the copy has not made it yet."""
    try:
        return counted(url, table)
    except psycopg.errors.UndefinedTable:
        return 0


@pytest.mark.slow
def test_a_row_the_target_refuses_stops_the_copy_with_one_line_naming_table_and_key(
    tmp_path: Path, postgres_url: str
) -> None:
    source = filled(tmp_path / "source.db", 30)
    with sqlite3.connect(source) as conn:  # past SQLite's own CHECK, as an old bug might have
        conn.execute("PRAGMA ignore_check_constraints = ON")
        conn.execute("UPDATE articles SET source = 'rumour' WHERE id = 17")

    result = run("db", "copy", "--batch", "10", str(source), postgres_url)

    assert result.exit_code == 1
    last = result.stderr.splitlines()[-1]
    assert last.startswith("error: target postgresql://")
    assert "table articles, rows from key (11,): new row for relation" in last
    assert counted(postgres_url, "articles") == 10  # the batches before it stay
