"""The store on real databases: SQLite files, and PostgreSQL (`storage`) where a test is
about what any backend does."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.schedulers.base import STATE_PAUSED
from click.testing import CliRunner

from conftest import write_config
from watcher.app.housekeeping import housekeep
from watcher.app.poll import STORIES, Poller, to_store
from watcher.app.service import Service, serve
from watcher.cli import cli
from watcher.config.load import FeedConfig, load_config
from watcher.delivery.dispatch import Dispatcher
from watcher.errors import DamagedError, StoreError
from watcher.models import Article, Entry, Match, PollResult
from watcher.sources.extract import Extractor
from watcher.sources.http import Fetcher
from watcher.store import Storage, Store, open_storage

NOW = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
MIGRATIONS = [
    "m001_initial",
    "m002_explained_hits",
    "m003_story_clusters",
    "m004_schedule",
    "m005_adaptive_interval",
    "m006_outbox",
    "m007_search",
    "m008_fingerprint_index",
    "m009_schedule_reasons",
    "m010_integrity",
    "m011_marks",
    "m012_processes",
    "m013_search_words",
]
ENTRY = Entry(
    key="news.example|item-7",
    url="https://news.example/item-7",
    link="https://news.example/item-7?utm_source=rss",
    title="Harbour dredging resumes",
    summary="Dredgers returned to the outer channel.",
    published=datetime(2026, 11, 19, 6, 0, tzinfo=UTC),
    updated=None,
)
ARTICLE = Article(
    url=ENTRY.url,
    title=ENTRY.title,
    text="Dredgers returned to the outer channel on Thursday after a two-week pause.",
    source="page",
    published=ENTRY.published,
)
MATCH = Match(
    term="Dredging", phrase="Dredgers", snippet="Dredgers returned", score=1.0, count=1,
    in_title=False,
)  # fmt: skip


def save(store: Storage, feed: str = "Port News", matches: tuple[Match, ...] = (MATCH,)) -> int:
    return store.articles.save(feed, [to_store(ENTRY, ARTICLE, "f1", matches)], NOW, STORIES)[0]


def test_new_database_gets_schema_in_wal_mode(tmp_path: Path) -> None:
    with Store.open(tmp_path / "sub" / "watcher.db") as store:
        mode = store.db.execute("PRAGMA journal_mode").fetchone()[0]
        assert mode == "wal"
        assert store.schema_version() == MIGRATIONS
        assert {"feeds", "articles", "article_feeds", "hits", "polls"} <= set(
            store.db.table_names()
        )


def test_reopening_applies_no_migration_twice(tmp_path: Path) -> None:
    Store.open(tmp_path / "watcher.db").close()

    with Store.open(tmp_path / "watcher.db") as store:
        assert store.schema_version() == MIGRATIONS


def test_a_term_hits_an_article_once(storage: Storage) -> None:
    first = save(storage)
    second = save(storage)

    assert (first, second) == (1, 0)
    assert storage.count("hits") == 1
    assert storage.count("articles") == 1


def test_hit_rows_carry_article_fields_in_utc(storage: Storage) -> None:
    save(storage)
    [hit] = storage.archive.hits()

    assert (hit.term, hit.url, hit.feed, hit.source) == (
        "Dredging",
        "https://news.example/item-7",
        "Port News",
        "page",
    )
    assert (hit.published, hit.found_at) == (
        "2026-11-19T06:00:00+00:00",
        "2026-11-20T08:30:00+00:00",
    )


def test_entry_is_known_by_canonical_url_from_another_feed(storage: Storage) -> None:
    save(storage)
    other = Entry(**{**ENTRY.__dict__, "key": "other.example|99"})

    known = storage.articles.lookup("Other Feed", other)

    assert known is not None
    assert known.fingerprint is None  # this feed never described it


def test_failed_poll_counts_errors_and_keeps_cache_validators(storage: Storage) -> None:
    feed = FeedConfig("Port News", "https://news.example/feed", 900.0)
    storage.feeds.sync([feed])
    ok = PollResult("Port News", NOW, NOW, "ok", 200, etag='"abc"', last_modified="x")
    storage.feeds.record_poll(ok)
    storage.feeds.record_poll(PollResult("Port News", NOW, NOW, "failed", error="timed out"))
    storage.feeds.record_poll(PollResult("Port News", NOW, NOW, "failed", error="HTTP 503"))

    state = storage.feeds.state("Port News")
    [status] = storage.feeds.statuses([feed])

    assert (state.etag, state.last_modified) == ('"abc"', "x")
    assert (status.consecutive_errors, status.last_error) == (2, "HTTP 503")


def test_changed_feed_url_forgets_its_validators(storage: Storage) -> None:
    storage.feeds.sync([FeedConfig("Port News", "https://news.example/feed", 900.0)])
    storage.feeds.record_poll(PollResult("Port News", NOW, NOW, "ok", 200, etag='"abc"'))

    storage.feeds.sync([FeedConfig("Port News", "https://news.example/rss", 900.0)])

    assert storage.feeds.state("Port News").etag is None


def test_a_database_from_a_newer_watcher_is_refused_naming_both_versions(tmp_path: Path) -> None:
    path = tmp_path / "watcher.db"
    Store.open(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at)"
            " VALUES ('watcher', 'm099_from_the_future', '2027-01-01')"
        )
    conn.close()

    with pytest.raises(StoreError) as refused:
        Store.open(path)

    message = str(refused.value)
    assert "\n" not in message
    assert re.search(
        r"schema version \d+ \(m099_from_the_future\), newer than this watcher's", message
    )
    assert f"({MIGRATIONS[-1]})" in message


def damaged_database(folder: Path) -> Path:
    """A database with 200 articles, one page of their table overwritten with garbage."""
    path = folder / "watcher.db"
    with Store.open(path) as store:
        for n in range(200):
            entry = replace(ENTRY, key=f"news.example|{n}", url=f"https://news.example/{n}")
            article = replace(ARTICLE, url=entry.url, text=f"Story {n}. " + "Dredging news. " * 40)
            store.articles.save("Wire", [to_store(entry, article, "f", [])], NOW, STORIES)
        page_size = store.db.execute("PRAGMA page_size").fetchone()[0]
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        leaf = store.db.execute(
            "SELECT MAX(pageno) FROM dbstat WHERE name = 'articles' AND pagetype = 'leaf'"
        ).fetchone()[0]
    with path.open("r+b") as file:
        file.seek((leaf - 1) * page_size)
        file.write(bytes([0x5A]) * 64)
    return path


def test_quick_check_finds_a_damaged_page_and_keeps_the_finding_for_status(
    tmp_path: Path,
) -> None:
    path = damaged_database(tmp_path)

    with Store.open(path) as store:
        problems = store.check(NOW)
        with pytest.raises(DamagedError, match=r"database is damaged .*docs/operations.md"):
            store.ensure_sound(NOW)
        checked_at, problem = store.last_check() or ("", None)

    assert problems and checked_at == "2026-11-20T08:30:00+00:00"
    assert problem is not None and problems[0] in problem


def test_a_sound_database_checks_ok_and_backs_up_to_a_copy_that_opens(tmp_path: Path) -> None:
    with Store.open(tmp_path / "watcher.db") as store:
        store.articles.save("Wire", [to_store(ENTRY, ARTICLE, "f", [MATCH])], NOW, STORIES)
        assert store.check(NOW) == []
        store.backup(tmp_path / "copy.db")
        with pytest.raises(StoreError, match="exists already"):
            store.backup(tmp_path / "copy.db")

    with Store.open(tmp_path / "copy.db") as copy:
        assert (copy.count("articles"), copy.count("hits")) == (1, 1)


# `db check`'s damage and `db backup` are SQLite's, kept SQLite-only: a file's pages can be
# damaged and copied; PostgreSQL's `db check` finds nothing, its `db backup` refuses (pg_dump
# does it), as tests/test_cli.py shows on each backend.
def test_db_check_names_the_damage_and_status_shows_it(tmp_path: Path) -> None:
    damaged_database(tmp_path)
    config = write_config(tmp_path, [])
    runner = CliRunner()

    checked = runner.invoke(cli, ["--config", str(config), "db", "check"])
    status = runner.invoke(cli, ["--config", str(config), "status"], catch_exceptions=False)

    assert checked.exit_code == 1
    assert "damaged: stop the service, `watcher db backup`" in checked.output
    assert "integrity: DAMAGED at " in status.output


def test_the_service_refuses_a_damaged_database_at_start_and_in_housekeeping(
    tmp_path: Path,
) -> None:
    damaged_database(tmp_path)
    config = load_config(write_config(tmp_path, []))

    with pytest.raises(DamagedError, match="nothing more is written to it"):
        asyncio.run(serve(config))
    with pytest.raises(DamagedError):
        housekeep(config, NOW)


def test_db_backup_copies_the_database_and_db_check_says_ok(tmp_path: Path) -> None:
    config = write_config(tmp_path, [])
    with Store.open(tmp_path / "watcher.db") as store:
        store.articles.save("Wire", [to_store(ENTRY, ARTICLE, "f", [MATCH])], NOW, STORIES)
    runner = CliRunner()

    backed = runner.invoke(
        cli, ["--config", str(config), "db", "backup", str(tmp_path / "b.db")],
        catch_exceptions=False,
    )  # fmt: skip
    checked = runner.invoke(cli, ["--config", str(config), "db", "check"], catch_exceptions=False)

    assert backed.exit_code == 0 and checked.exit_code == 0
    assert checked.output == f"{tmp_path / 'watcher.db'}: ok\n"
    with Store.open(tmp_path / "b.db") as copy:
        assert copy.count("hits") == 1


def test_an_article_the_database_refuses_is_rolled_back_alone(tmp_path: Path) -> None:
    bad_entry = replace(ENTRY, key="news.example|bad", url="https://news.example/bad")
    bad = replace(ARTICLE, url=bad_entry.url, text="Dredging \ud800 news")  # cannot be encoded
    good_entry = replace(ENTRY, key="news.example|good", url="https://news.example/good")
    good = replace(ARTICLE, url=good_entry.url)

    with Store.open(tmp_path / "watcher.db") as store:
        saved = store.articles.save(
            "Wire",
            [to_store(bad_entry, bad, "f", [MATCH]), to_store(good_entry, good, "f", [MATCH])],
            NOW,
            STORIES,
        )
        stored = [row[0] for row in store.db.execute("SELECT key FROM articles")]

    assert saved == [None, 1]
    assert stored == ["news.example|good"]


@pytest.mark.slow
def test_damage_found_by_the_daily_housekeeping_stops_polls_and_digests(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    damaged_database(tmp_path)
    config = load_config(write_config(tmp_path, []))

    async def housekeep_once() -> int:
        with Store.open(config.db_path) as store, Extractor(0) as extractor:
            async with Fetcher(config.fetch) as fetcher:
                poller = Poller(config, store, fetcher, extractor)
                service = Service(config, store, poller, Dispatcher(config, store, fetcher))
                service.scheduler.start()
                await service.housekeeping_job()
                state = int(service.scheduler.state)
                service.scheduler.shutdown(wait=False)
                return state, service.stopping

    state, planner_stopped = asyncio.run(housekeep_once())

    assert state == STATE_PAUSED
    assert planner_stopped  # the planner and the sender end their loops: no more polls
    assert any(
        record.levelname == "CRITICAL" and "the database is damaged" in record.getMessage()
        for record in caplog.records
    )


def test_a_due_time_is_stored_to_the_microsecond(storage: Storage) -> None:
    """Cut to the second, a Retry-After of 7200 s came back as 7199.5 s (issue 15, item 21)."""
    due = NOW + timedelta(seconds=7200.75)
    storage.feeds.sync([FeedConfig("Port News", "https://news.example/rss", 900.0)])
    storage.feeds.record_poll(PollResult("Port News", NOW, NOW, "failed", 429, next_due=due))
    stored = storage.feeds.state("Port News").next_due

    assert stored is not None and datetime.fromisoformat(stored) == due


def test_status_reads_a_database_another_process_is_writing(tmp_path: Path) -> None:
    with Store.open(tmp_path / "w.db") as store:
        store.feeds.sync([FeedConfig("Port News", "https://news.example/rss", 900.0)])
    writer = sqlite3.connect(tmp_path / "w.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # holds the write lock
    writer.execute("UPDATE feeds SET title = 'Port News Daily'")
    try:
        with Store.open(tmp_path / "w.db", readonly=True) as store:
            assert store.feeds.state("Port News").consecutive_errors == 0
            try:
                store.db.execute("UPDATE feeds SET title = 'x'")
            except sqlite3.OperationalError as exc:
                assert "readonly" in str(exc)
            else:
                raise AssertionError("a read-only store wrote")
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_a_database_fault_in_work_run_through_call_is_a_store_error(tmp_path: Path) -> None:
    async def run(store: Store) -> None:
        await store.call(store.db.execute, "SELECT * FROM no_such_table")

    with (
        Store.open(tmp_path / "watcher.db") as store,
        pytest.raises(StoreError, match=r"^no such table: no_such_table$"),
    ):
        asyncio.run(run(store))


@pytest.mark.slow
def test_an_article_two_processes_store_at_once_is_stored_and_hit_once(
    postgres_url: str,
) -> None:
    """Two watchers on one PostgreSQL read the same entry at the same moment (issue 20)."""
    stores = [open_storage(postgres_url) for _ in range(2)]
    added: list[int] = []

    def store_it(start: threading.Barrier, store: Storage) -> None:
        start.wait()
        added.append(save(store))

    try:
        start = threading.Barrier(2)
        workers = [threading.Thread(target=store_it, args=(start, store)) for store in stores]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=30)

        assert sorted(added) == [0, 1]
        assert (stores[0].count("articles"), stores[0].count("hits")) == (1, 1)
    finally:
        for store in stores:
            store.close()
