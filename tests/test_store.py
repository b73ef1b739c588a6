"""The SQLite store on real database files."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from watcher.models import Article, Entry, Match
from watcher.store import PollRecord, Reading, Store

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


def save(store: Store, feed: str = "Port News", matches: tuple[Match, ...] = (MATCH,)) -> int:
    return store.save_articles(feed, [Reading(ENTRY, ARTICLE, "f1", matches)], NOW)[0]


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


def test_a_term_hits_an_article_once(tmp_path: Path) -> None:
    with Store.open(tmp_path / "watcher.db") as store:
        first = save(store)
        second = save(store)

        assert (first, second) == (1, 0)
        assert store.count("hits") == 1
        assert store.count("articles") == 1


def test_hit_rows_carry_article_fields_in_utc(tmp_path: Path) -> None:
    with Store.open(tmp_path / "watcher.db") as store:
        save(store)
        [hit] = store.archive.hits()

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


def test_entry_is_known_by_canonical_url_from_another_feed(tmp_path: Path) -> None:
    with Store.open(tmp_path / "watcher.db") as store:
        save(store)
        other = Entry(**{**ENTRY.__dict__, "key": "other.example|99"})

        known = store.lookup("Other Feed", other)

    assert known is not None
    assert known.fingerprint is None  # this feed never described it


def test_failed_poll_counts_errors_and_keeps_cache_validators(tmp_path: Path) -> None:
    with Store.open(tmp_path / "watcher.db") as store:
        store.sync_feeds([("Port News", "https://news.example/feed")])
        ok = PollRecord("Port News", NOW, NOW, "ok", 200, etag='"abc"', last_modified="x")
        store.record_poll(ok)
        store.record_poll(PollRecord("Port News", NOW, NOW, "failed", error="timed out"))
        store.record_poll(PollRecord("Port News", NOW, NOW, "failed", error="HTTP 503"))

        state = store.feed_state("Port News")
        row = store.db.execute(
            "SELECT consecutive_errors, last_error FROM feeds WHERE name = 'Port News'"
        ).fetchone()

    assert (state.etag, state.last_modified) == ('"abc"', "x")
    assert row == (2, "HTTP 503")


def test_changed_feed_url_forgets_its_validators(tmp_path: Path) -> None:
    with Store.open(tmp_path / "watcher.db") as store:
        store.sync_feeds([("Port News", "https://news.example/feed")])
        store.record_poll(PollRecord("Port News", NOW, NOW, "ok", 200, etag='"abc"'))

        store.sync_feeds([("Port News", "https://news.example/rss")])

        assert store.feed_state("Port News").etag is None


def test_a_due_time_is_stored_to_the_microsecond(tmp_path: Path) -> None:
    """Cut to the second, a Retry-After of 7200 s came back as 7199.5 s (issue 15, item 21)."""
    due = NOW + timedelta(seconds=7200.75)
    with Store.open(tmp_path / "w.db") as store:
        store.sync_feeds([("Port News", "https://news.example/rss")])
        store.record_poll(PollRecord("Port News", NOW, NOW, "failed", 429, next_due=due))
        stored = store.feed_state("Port News").next_due

    assert stored is not None and datetime.fromisoformat(stored) == due


def test_status_reads_a_database_another_process_is_writing(tmp_path: Path) -> None:
    with Store.open(tmp_path / "w.db") as store:
        store.sync_feeds([("Port News", "https://news.example/rss")])
    writer = sqlite3.connect(tmp_path / "w.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # holds the write lock
    writer.execute("UPDATE feeds SET title = 'Port News Daily'")
    try:
        with Store.open(tmp_path / "w.db", readonly=True) as store:
            assert store.feed_state("Port News").consecutive_errors == 0
            try:
                store.db.execute("UPDATE feeds SET title = 'x'")
            except sqlite3.OperationalError as exc:
                assert "readonly" in str(exc)
            else:
                raise AssertionError("a read-only store wrote")
    finally:
        writer.execute("ROLLBACK")
        writer.close()
