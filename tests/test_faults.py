"""The database failing under a poll: the poll fails, nothing is lost, it is tried again."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest

from conftest import Site, write_config
from watcher.config import Config, load_config
from watcher.extract import Extractor
from watcher.fetch import Fetcher
from watcher.pipeline import STORE_RETRY, Poller, PollResult
from watcher.store import Store
from watcher.store import database as store_database

T = TypeVar("T")


def coastline(site: Site, tmp_path: Path) -> Config:
    """A config of one fixture feed (two hits in four entries), its database ready."""
    config = load_config(write_config(tmp_path, [("Coastline Daily", f"{site.base}/news.rss")]))
    with Store.open(config.db_path) as store:
        store.sync_config(config, datetime.now(UTC))
    return config


def with_poller(config: Config, use: Callable[[Poller, Store], Awaitable[T]]) -> T:
    """Run `use` with a real poller (inline extraction) on the config's database."""

    async def run() -> T:
        with Store.open(config.db_path) as store, Extractor(0) as extractor:
            async with Fetcher(config.fetch) as fetcher:
                return await use(Poller(config, store, fetcher, extractor), store)

    return asyncio.run(run())


def test_a_locked_database_fails_the_poll_which_is_tried_again(
    fixture_site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_database, "BUSY_TIMEOUT_MS", 300)
    config = coastline(fixture_site, tmp_path)
    other = sqlite3.connect(config.db_path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another process writing, for longer than the poll waits

    async def poll_twice(poller: Poller, store: Store) -> tuple[PollResult, PollResult]:
        locked = await poller.poll(config.feeds[0])
        other.execute("ROLLBACK")
        return locked, await poller.poll(config.feeds[0])

    before = datetime.now(UTC)
    locked, after = with_poller(config, poll_twice)

    assert locked.failed
    assert locked.error == "database: database is locked"
    assert locked.next_due is not None
    assert locked.next_due - before >= timedelta(seconds=STORE_RETRY)
    assert (after.status, after.new_articles, after.hits) == ("ok", 4, 2)


def test_entries_a_database_fault_skipped_are_stored_at_the_next_poll(
    fixture_site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = coastline(fixture_site, tmp_path)
    save = Store.save_article
    failures = iter([True])

    def failing_once(store: Store, **kw: Any) -> int:
        if kw["entry"].url.endswith("/a1.html") and next(failures, False):
            raise sqlite3.OperationalError("disk I/O error")
        return save(store, **kw)

    monkeypatch.setattr(Store, "save_article", failing_once)

    async def poll_twice(poller: Poller, store: Store) -> tuple[PollResult, PollResult]:
        first = await poller.poll(config.feeds[0])
        fixture_site.clear_log()
        return first, await poller.poll(config.feeds[0])

    first, second = with_poller(config, poll_twice)

    assert (first.status, first.hits) == ("ok", 1)  # a2's hit; a1 skipped
    assert fixture_site.requests("/news.rss") == [("/news.rss", 200)]  # not a 304
    assert (second.status, second.new_articles, second.hits) == ("ok", 1, 1)
    with Store.open(config.db_path) as store:
        assert sorted(hit.term for hit in store.archive.hits()) == [
            "Ahmedabad–Mumbai HSR",
            "JWG on critical minerals",
        ]
