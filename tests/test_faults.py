"""Faults under a poll: the database failing, a page that never ends, the network down."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner

from conftest import (
    SECRET,
    Mailbox,
    Receiver,
    Site,
    channel_config,
    email_channel,
    free_port,
    webhook_channel,
    write_config,
)
from watcher.app.oneshot import poll_once
from watcher.app.poll import STORE_RETRY, Poller
from watcher.app.schedule import network_quorum
from watcher.cli import cli
from watcher.config.load import Config, load_config
from watcher.delivery.dispatch import Dispatcher
from watcher.models import PollResult
from watcher.sources.extract import Extractor
from watcher.sources.http import Fetcher
from watcher.store import Store, open_storage
from watcher.store import database as store_database
from watcher.store.articles import Articles

T = TypeVar("T")


def coastline(site: Site, tmp_path: Path) -> Config:
    """A config of one fixture feed (two hits in four entries), its database ready."""
    config = load_config(write_config(tmp_path, [("Coastline Daily", f"{site.base}/news.rss")]))
    with Store.open(config.db_path) as store:
        store.sync(config.feeds, config.channels, datetime.now(UTC))
    return config


def with_poller(
    config: Config, use: Callable[[Poller, Store], Awaitable[T]], extractor: Extractor | None = None
) -> T:
    """Run `use` with a real poller (inline extraction by default) on the config's database."""

    async def run() -> T:
        with Store.open(config.db_path) as store, extractor or Extractor(0) as extracting:
            async with Fetcher(config.fetch) as fetcher:
                return await use(Poller(config, store, fetcher, extracting), store)

    return asyncio.run(run())


@pytest.mark.slow
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


@pytest.mark.slow
def test_entries_a_database_fault_skipped_are_stored_at_the_next_poll(
    fixture_site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A feed's articles are stored in one transaction: a fault skips them all, the next poll
    stores them all."""
    config = coastline(fixture_site, tmp_path)
    save = Articles.save
    failures = iter([True])

    def failing_once(
        articles: Articles, feed: str, items: Any, now: datetime, stories: Any
    ) -> list[int | None]:
        if any(i.entry.url.endswith("/a1.html") for i in items) and next(failures, False):
            raise sqlite3.OperationalError("disk I/O error")
        return save(articles, feed, items, now, stories)

    monkeypatch.setattr(Articles, "save", failing_once)

    async def poll_twice(poller: Poller, store: Store) -> tuple[PollResult, PollResult]:
        first = await poller.poll(config.feeds[0])
        fixture_site.clear_log()
        return first, await poller.poll(config.feeds[0])

    first, second = with_poller(config, poll_twice)

    assert (first.status, first.hits) == ("ok", 0)
    assert first.error == "4 entries skipped, retried next poll"
    assert fixture_site.requests("/news.rss") == [("/news.rss", 200)]  # not a 304
    assert (second.status, second.new_articles, second.hits) == ("ok", 4, 2)
    with Store.open(config.db_path) as store:
        assert store.count("articles") == 4
        assert sorted(hit.term for hit in store.archive.hits()) == [
            "Ahmedabad–Mumbai HSR",
            "JWG on critical minerals",
        ]


SLOW_RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>Slow Wire</title>
<link>{base}/</link><description>d</description>
<item><title>Dredging resumes at the outer harbour</title><link>{base}/slow.html</link>
<guid>slow-1</guid><description>Dredgers are back in the outer channel.</description></item>
</channel></rss>"""


@pytest.mark.slow
def test_a_page_that_outlasts_extraction_falls_back_to_the_feed_text(
    site: Site, tmp_path: Path
) -> None:
    paragraphs = "".join(f"<p>Paragraph {n} on harbour dredging.</p>" for n in range(20_000))
    site.put("/slow.html", f"<html><body><article>{paragraphs}</article></body></html>")
    site.put("/slow.rss", SLOW_RSS.replace("{base}", site.base))
    config = load_config(write_config(tmp_path, [("Slow Wire", f"{site.base}/slow.rss")]))
    with Store.open(config.db_path) as store:
        store.sync(config.feeds, config.channels, datetime.now(UTC))

    async def poll(poller: Poller, store: Store) -> PollResult:
        return await poller.poll(config.feeds[0])

    result = with_poller(config, poll, Extractor(1, deadline=0.5))

    assert (result.status, result.new_articles) == ("ok", 1)
    with Store.open(config.db_path) as store:
        [article] = store.archive.articles([1])
    assert (article.source, article.text) == ("summary", "Dredgers are back in the outer channel.")
    assert article.note == f"{site.base}/slow.html: extraction took longer than 0.5s"


@pytest.mark.slow
def test_entries_a_full_disk_refused_are_stored_once_there_is_room(
    fixture_site: Site, tmp_path: Path
) -> None:
    config = coastline(fixture_site, tmp_path)

    async def poll_twice(poller: Poller, store: Store) -> tuple[PollResult, PollResult]:
        pages = store.db.execute("PRAGMA page_count").fetchone()[0]
        store.db.execute(f"PRAGMA max_page_count = {pages}")  # the file may not grow: "full"
        full = await poller.poll(config.feeds[0])
        store.db.execute("PRAGMA max_page_count = 1073741823")
        return full, await poller.poll(config.feeds[0])

    full, after = with_poller(config, poll_twice)

    assert full.error is not None and full.error.endswith("entries skipped, retried next poll")
    assert full.hits + after.hits == 2
    with Store.open(config.db_path) as store:
        assert (store.count("articles"), store.count("hits")) == (4, 2)
        assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_when_no_feed_can_be_reached_none_is_counted_as_failing(tmp_path: Path) -> None:
    dead = [(f"Dead {n}", f"http://127.0.0.1:{free_port()}/feed.xml") for n in range(3)]
    config = load_config(write_config(tmp_path, dead))

    before = datetime.now(UTC).replace(microsecond=0)
    results = asyncio.run(poll_once(config, config.feeds, workers=0))

    assert [result.failed for result in results] == [True, True, True]
    with Store.open(config.db_path) as store:
        statuses = store.feeds.statuses(config.feeds)
        down = store.feeds.network_down(network_quorum(3))
    assert [(s.consecutive_errors, s.failing_since) for s in statuses] == [(0, None)] * 3
    assert all(s.unreachable_since is not None for s in statuses)
    assert down is not None and datetime.fromisoformat(down) >= before
    # Not backed off: each is polled again at its interval (15m).
    assert [(s.wait, s.reason) for s in statuses] == [(900.0, "interval")] * 3


@pytest.mark.slow
def test_a_network_outage_counts_no_feed_failing_and_status_says_so_in_one_line(
    fixture_site: Site, tmp_path: Path, storage_at: str
) -> None:
    feeds = [
        ("Coastline Daily", f"{fixture_site.base}/news.rss"),
        ("Eastern Ledger", f"{fixture_site.base}/world.atom"),
        ("Harbour Wire", f"{fixture_site.base}/briefs.json"),
    ]
    path = write_config(tmp_path, feeds, storage=storage_at)
    config = load_config(path)
    asyncio.run(poll_once(config, config.feeds, workers=0))  # all answer
    answered = datetime.now(UTC)
    fixture_site.close()  # the network goes down: nothing answers any more

    results = asyncio.run(poll_once(config, config.feeds, workers=0))

    assert [result.failed for result in results] == [True, True, True]
    with open_storage(storage_at) as store:
        statuses = store.feeds.statuses(config.feeds)
    # Reached a moment ago, yet none counts: a failure says nothing of a feed until
    # another feed answers, and here none does.
    assert [s.consecutive_errors for s in statuses] == [0, 0, 0]
    assert [(s.wait, s.reason) for s in statuses] == [(900.0, "interval")] * 3
    shown = CliRunner().invoke(cli, ["--config", str(path), "status"], catch_exceptions=False)
    assert shown.exit_code == 0, shown.output
    since = answered.strftime("%Y-%m-%d %H:%M")
    assert f"network:   no feed reachable since {since}: network down?" in shown.output
    assert "3 enabled, 0 failing" in shown.output
    assert shown.output.count("unreachable since") == 3


@pytest.mark.slow
def test_an_unreachable_feed_counts_as_failing_while_others_answer(
    fixture_site: Site, tmp_path: Path
) -> None:
    """Polled together from the first poll on: the closed port fails before the others
    answer, and their answers show that the feed, not the network, failed."""
    feeds = [
        ("Coastline Daily", f"{fixture_site.base}/news.rss"),
        ("Closed Port", f"http://127.0.0.1:{free_port()}/feed.xml"),
        ("Harbour Wire", f"{fixture_site.base}/briefs.json"),
    ]
    config = load_config(write_config(tmp_path, feeds))

    results = asyncio.run(poll_once(config, config.feeds, workers=0))

    assert [result.failed for result in results] == [False, True, False]
    with Store.open(config.db_path) as store:
        status = store.feeds.statuses(config.feeds)[1]
        assert store.feeds.network_down(network_quorum(3)) is None
    assert status.consecutive_errors == 1
    assert status.failing_since is not None
    assert status.unreachable_since is None
    assert status.last_error is not None and "cannot connect" in status.last_error


@pytest.mark.slow
def test_an_hour_of_smtp_and_webhook_outage_keeps_hits_pending_then_delivers_them(
    tmp_path: Path,
    polled: Path,
    mailbox: Mailbox,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Simulated time: the dispatcher's clock jumps from one retry to the next."""
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", SECRET)
    channels = email_channel(mailbox) + "\n" + webhook_channel(receiver)
    config = load_config(channel_config(tmp_path, polled, channels, delivery="max_attempts = 10"))
    start = datetime.now(UTC)
    clock = [start]
    mailbox.controller.stop()  # SMTP down: nothing listens on its port

    async def outage() -> tuple[set[str], list[str]]:
        with Store.open(config.db_path) as store:
            store.sync(config.feeds, config.channels, start)
            async with Fetcher(config.fetch) as fetcher:
                dispatcher = Dispatcher(
                    config, store, fetcher, clock=lambda: clock[0], jitter=lambda: 0.5
                )
                receiver.statuses = [503]
                await dispatcher.run(list(config.channels))
                while True:
                    due = store.outbox.next_attempt()
                    assert due is not None
                    clock[0] = max(clock[0], datetime.fromisoformat(due))
                    if clock[0] - start > timedelta(hours=1):
                        break
                    receiver.statuses = [503]
                    await dispatcher.deliver_due()
                during = {delivery.status for delivery in store.outbox.deliveries()}
                mailbox.controller = Controller(  # both are back
                    mailbox.controller.handler, hostname="127.0.0.1", port=mailbox.port
                )
                mailbox.controller.start()
                outcomes = await dispatcher.deliver_due()
                return during, [outcome.status for outcome in outcomes]

    during, after = asyncio.run(outage())

    assert during == {"pending"}
    assert after == ["sent", "sent"]
    assert len(mailbox.messages) == 1
    assert len(receiver.posts) >= 6  # five or more refused within the hour, then accepted
    assert len({post.headers["webhook-id"] for post in receiver.posts}) == 1  # one digest
    with Store.open(config.db_path) as store:
        tries = {d.channel: (d.status, d.attempts) for d in store.outbox.deliveries()}
    assert tries == {"desk": ("sent", len(receiver.posts)), "hook": ("sent", len(receiver.posts))}


@pytest.mark.slow
def test_article_links_into_the_private_network_are_refused_and_the_feed_text_kept(
    fixture_site: Site, tmp_path: Path
) -> None:
    path = write_config(tmp_path, [("Coastline Daily", f"{fixture_site.base}/news.rss")])
    path.write_text(path.read_text().replace("allow_private_addresses = true", ""))
    config = load_config(path)  # the default: article links must be public

    asyncio.run(poll_once(config, config.feeds, workers=0))

    with Store.open(config.db_path) as store:
        rows = store.db.execute("SELECT url, source, note FROM articles ORDER BY url").fetchall()
    assert [(url.rsplit("/", 1)[1], source) for url, source, _ in rows] == [
        ("a1.html", "summary"),
        ("a10.html", "summary"),
        ("a2.html", "summary"),
        ("a3.html", "summary"),
    ]
    assert rows[0][2] == (
        f"{fixture_site.base}/articles/a1.html: refused: 127.0.0.1 resolves to non-public"
        " address 127.0.0.1 (set [fetch] allow_private_addresses = true to allow)"
    )
    assert fixture_site.requests("/articles/") == []  # not one request went out


@pytest.mark.slow
def test_a_read_only_database_fails_the_poll_which_stores_everything_later(
    fixture_site: Site, tmp_path: Path
) -> None:
    config = coastline(fixture_site, tmp_path)

    async def poll_twice(poller: Poller, store: Store) -> tuple[PollResult, PollResult]:
        store.db.execute("PRAGMA query_only = ON")  # as a read-only file or mount answers
        refused = await poller.poll(config.feeds[0])
        store.db.execute("PRAGMA query_only = OFF")
        return refused, await poller.poll(config.feeds[0])

    refused, after = with_poller(config, poll_twice)

    assert refused.failed
    assert refused.error == "database: attempt to write a readonly database"
    assert refused.next_due is not None  # tried again, not dropped
    assert (after.status, after.new_articles, after.hits) == ("ok", 4, 2)


@pytest.mark.slow
def test_a_poll_waiting_for_the_database_lock_leaves_the_event_loop_free(
    fixture_site: Site, tmp_path: Path
) -> None:
    """Issue 15, item C: a write waiting for another process's lock held up every poll,
    timeout and heartbeat of the service, since it waited on the event loop."""
    config = coastline(fixture_site, tmp_path)
    other = sqlite3.connect(config.db_path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another process writing for 5 s
    release = threading.Timer(5.0, lambda: other.execute("ROLLBACK"))

    async def poll_and_tick(poller: Poller, store: Store) -> tuple[PollResult, float]:
        gaps: list[float] = []

        async def tick() -> None:
            last = time.monotonic()
            while True:
                await asyncio.sleep(0.05)
                gaps.append(time.monotonic() - last)
                last = time.monotonic()

        ticker = asyncio.create_task(tick())
        release.start()
        result = await poller.poll(config.feeds[0])
        await asyncio.sleep(0.2)  # the ticker notes the gap the poll left, if any
        ticker.cancel()
        return result, max(gaps)

    try:
        result, longest = with_poller(config, poll_and_tick)
    finally:
        release.join()
        other.close()

    assert (result.status, result.new_articles, result.hits) == ("ok", 4, 2)  # it waited
    # The loop ran on while the poll waited for the lock; blocking on it would stall 5 s.
    assert longest < 2.5


@pytest.mark.slow
def test_status_answers_while_another_process_holds_the_write_lock(
    tmp_path: Path, polled_at: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_database, "BUSY_TIMEOUT_MS", 300)
    feeds = [("Coastline Daily", "https://coast.example/rss")]
    if "://" in polled_at:  # PostgreSQL: another writer's locks, and a reader that may not wait
        import psycopg

        waiting = polled_at + ("&" if "?" in polled_at else "?") + "options=-c%20lock_timeout%3D3s"
        path = write_config(tmp_path, feeds, storage=waiting)
        other: Any = psycopg.connect(polled_at, autocommit=True)
        other.execute("BEGIN")
        other.execute("LOCK TABLE feeds, articles, hits, polls, service IN EXCLUSIVE MODE")
    else:
        path = write_config(tmp_path, feeds, storage=polled_at)
        other = sqlite3.connect(polled_at, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
    try:
        shown = CliRunner().invoke(cli, ["--config", str(path), "status"], catch_exceptions=False)
        listed = CliRunner().invoke(cli, ["--config", str(path), "feeds", "list"])
    finally:
        other.execute("ROLLBACK")
        other.close()

    assert shown.exit_code == 0, shown.output
    assert "5 in all" in shown.output
    assert listed.exit_code == 0, listed.output
    assert "Coastline Daily" in listed.output
