"""Several watchers, one database (issue 20): feeds claimed under a lease, processes beating.

The store-level rules run on both backends; the races run on PostgreSQL, where
several processes share a database.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from conftest import write_config
from watcher.app.poll import STORIES, Poller, to_store
from watcher.app.service import Service
from watcher.app.startup import release_the_dead
from watcher.app.status import service_status
from watcher.cli.render import render_status
from watcher.config.load import FeedConfig, load_config
from watcher.delivery.dispatch import Dispatcher
from watcher.errors import StoreError
from watcher.models import Article, Entry, PollResult
from watcher.sources.extract import Extractor
from watcher.sources.http import Fetcher
from watcher.store import Storage, Store, open_storage
from watcher.store.articles import CLUSTER_LOCK
from watcher.store.retention import HOUSEKEEPING_LOCK

NOW = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
FEED = FeedConfig("Port News", "https://news.example/rss", 900.0)
A, B = "alpha:101", "beta:202"


def test_a_due_feed_is_claimed_by_one_process_until_its_poll_is_recorded(
    storage: Storage,
) -> None:
    storage.feeds.sync([FEED])

    first = storage.feeds.claim([FEED.name], NOW, A, 600.0)
    second = storage.feeds.claim([FEED.name], NOW, B, 600.0)
    storage.feeds.record_poll(
        PollResult(FEED.name, NOW, NOW, "ok", 200, next_due=NOW + timedelta(minutes=15)), owner=A
    )
    early = storage.feeds.claim([FEED.name], NOW + timedelta(minutes=1), B, 600.0)
    later = storage.feeds.claim([FEED.name], NOW + timedelta(minutes=15), B, 600.0)

    assert (first, second, early, later) == ([FEED.name], [], [], [FEED.name])


def test_a_dead_processes_feed_comes_back_when_its_lease_runs_out(storage: Storage) -> None:
    storage.feeds.sync([FEED])
    storage.feeds.claim([FEED.name], NOW, A, 60.0)  # A dies mid-poll: nothing is recorded

    during = storage.feeds.claim([FEED.name], NOW + timedelta(seconds=59), B, 60.0)
    after = storage.feeds.claim([FEED.name], NOW + timedelta(seconds=60), B, 60.0)

    assert (during, after) == ([], [FEED.name])


def test_a_late_poll_record_leaves_the_claim_of_the_process_that_took_the_feed_over(
    storage: Storage,
) -> None:
    """A's lease ran out mid-poll and B claimed the feed; A's record at last must not end
    B's claim, or a third process would poll the feed beside B."""
    storage.feeds.sync([FEED])
    storage.feeds.claim([FEED.name], NOW, A, 60.0)
    taken = storage.feeds.claim([FEED.name], NOW + timedelta(seconds=61), B, 60.0)

    late = NOW + timedelta(seconds=62)
    storage.feeds.record_poll(PollResult(FEED.name, NOW, late, "ok", 200, next_due=late), owner=A)
    third = storage.feeds.claim([FEED.name], late, "gamma:303", 60.0)

    assert (taken, storage.feeds.claimants(), third) == ([FEED.name], [B], [])


def test_a_poll_record_ends_its_own_processes_claim(storage: Storage) -> None:
    storage.feeds.sync([FEED])
    storage.feeds.claim([FEED.name], NOW, A, 600.0)

    done = NOW + timedelta(seconds=5)
    storage.feeds.record_poll(PollResult(FEED.name, NOW, done, "ok", 200, next_due=done), owner=A)

    assert storage.feeds.claimants() == []
    assert storage.feeds.claim([FEED.name], done, B, 600.0) == [FEED.name]


def test_a_limited_claim_takes_the_longest_due_feeds_and_leaves_the_rest_to_the_next(
    storage: Storage,
) -> None:
    feeds = [FeedConfig(f"Feed {n}", f"https://f{n}.example/rss", 60.0) for n in range(5)]
    storage.feeds.sync(feeds)
    for n, feed in enumerate(feeds):  # Feed 4 has been due longest, Feed 0 the least
        storage.feeds.set_due(feed.name, NOW - timedelta(minutes=n + 1))
    names = [feed.name for feed in feeds]

    first = storage.feeds.claim(names, NOW, "a:1", 600.0, limit=2)
    second = storage.feeds.claim(names, NOW, "b:2", 600.0, limit=2)

    assert (first, second) == (["Feed 3", "Feed 4"], ["Feed 1", "Feed 2"])


def test_a_process_beats_with_its_feeds_in_hand_and_notes_its_stop(storage: Storage) -> None:
    storage.heartbeat.joined("alpha", 101, NOW)
    storage.heartbeat.joined("beta", 202, NOW)
    storage.heartbeat.beat_process("alpha", 101, NOW + timedelta(seconds=30), 3)
    storage.heartbeat.beat_process("beta", 202, NOW + timedelta(seconds=40), 0, stopped=True)

    found = {(p.host, p.pid): p for p in storage.heartbeat.processes()}

    assert found["alpha", 101].feeds == 3
    assert found["alpha", 101].beat_at == "2026-11-20T08:30:30+00:00"
    assert found["alpha", 101].stopped_at is None
    assert found["beta", 202].stopped_at == "2026-11-20T08:30:40+00:00"


@pytest.mark.slow
def test_three_processes_claiming_at_once_each_claim_a_feed_once(postgres_url: str) -> None:
    feeds = [
        FeedConfig(f"Feed {number}", f"https://f{number}.example/rss", 60.0) for number in range(60)
    ]
    stores = [open_storage(postgres_url) for _ in range(3)]
    try:
        stores[0].feeds.sync(feeds)
        names = [feed.name for feed in feeds]
        claimed: list[set[str]] = [set(), set(), set()]
        start = threading.Barrier(3)

        def claim(index: int) -> None:
            start.wait()
            for round_ in range(20):  # each asks for every feed, in its own order
                ask = names[round_ % 60 :] + names[: round_ % 60]
                claimed[index].update(stores[index].feeds.claim(ask, NOW, f"h:{index}", 600.0))

        workers = [threading.Thread(target=claim, args=(index,)) for index in range(3)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)

        # A process may claim its own feed again; no feed is in two processes' hands.
        assert not (claimed[0] & claimed[1] or claimed[0] & claimed[2] or claimed[1] & claimed[2])
        assert claimed[0] | claimed[1] | claimed[2] == set(names)
    finally:
        for store in stores:
            store.close()


def test_status_lists_every_running_process_and_marks_one_that_stopped_beating(
    storage: Storage,
) -> None:
    storage.heartbeat.joined("alpha", 101, NOW)
    storage.heartbeat.joined("beta", 202, NOW)
    storage.heartbeat.joined("gamma", 303, NOW)
    storage.heartbeat.beat_process("alpha", 101, NOW + timedelta(minutes=10), 4)
    storage.heartbeat.beat_process("gamma", 303, NOW + timedelta(minutes=10), 0, stopped=True)

    shown = render_status(service_status(storage, [], NOW + timedelta(minutes=10)), "table")

    assert "processes: 2" in shown
    assert "  alpha pid 101: beat at 2026-11-20 08:40:00, 4 feeds in hand" in shown
    assert "  beta pid 202: STOPPED BEATING at 2026-11-20 08:30:00" in shown
    assert "gamma" not in shown  # stopped cleanly


def unhit_article(store: Storage) -> None:
    """An article no term hit, first seen at NOW."""
    url = "https://news.example/quiet"
    entry = Entry("quiet", url, url, "Quiet day", "", NOW, None)
    article = Article(url, entry.title, "Nothing happened at the harbour.", "page", NOW)
    store.articles.save("Port News", [to_store(entry, article, "f", ())], NOW, STORIES)


def test_housekeeping_deletes_an_old_article_no_term_hit(storage: Storage) -> None:
    unhit_article(storage)

    pruned = storage.retention.prune(articles_before=NOW + timedelta(days=1), polls_before=None)

    assert (pruned.articles, storage.count("articles")) == (1, 0)


@pytest.mark.slow
def test_housekeeping_runs_in_one_watcher_at_a_time(postgres_url: str) -> None:
    """While another watcher holds the housekeeping lock, this one deletes nothing."""
    with open_storage(postgres_url) as store:
        unhit_article(store)
        with psycopg.connect(postgres_url, autocommit=True) as other:
            other.execute("SELECT pg_advisory_lock(%s)", [HOUSEKEEPING_LOCK])
            skipped = store.retention.prune(
                articles_before=NOW + timedelta(days=1), polls_before=None
            )
            # Now, not when the server's backend for `other` exits, a moment after the close.
            other.execute("SELECT pg_advisory_unlock(%s)", [HOUSEKEEPING_LOCK])
        after = store.retention.prune(articles_before=NOW + timedelta(days=1), polls_before=None)

        assert (skipped.articles, after.articles, store.count("articles")) == (0, 1, 0)


def test_status_does_not_look_up_here_the_pid_of_a_service_on_another_host(
    storage: Storage,
) -> None:
    gone = 2**22 + 12345  # above Linux's default pid_max: no such process here
    storage.heartbeat.started(gone, NOW)
    storage.heartbeat.joined("elsewhere.example", gone, NOW)

    shown = service_status(storage, [], NOW + timedelta(seconds=10))

    assert shown.state.startswith("running for"), shown.state


def test_status_says_a_service_on_this_host_whose_pid_ended_is_not_running(
    storage: Storage,
) -> None:
    gone = 2**22 + 12345
    storage.heartbeat.started(gone, NOW)
    storage.heartbeat.joined(socket.gethostname(), gone, NOW)

    shown = service_status(storage, [], NOW + timedelta(seconds=10))

    assert shown.state.startswith("not running: pid"), shown.state


@pytest.mark.slow
def test_a_store_whose_connection_the_server_dropped_connects_again_for_the_next_work(
    postgres_url: str,
) -> None:
    """A restart of PostgreSQL under a running watcher costs the work in flight, not the
    service: the next piece of work runs on a new connection."""

    async def count(store: Storage) -> int:
        return await store.call(store.count, "feeds")

    with open_storage(postgres_url) as store:
        store.feeds.sync([FEED])
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(%s)",
                [store.db.info.backend_pid],  # type: ignore[attr-defined]
            )
        with pytest.raises(StoreError, match="database error"):
            asyncio.run(count(store))
        assert asyncio.run(count(store)) == 1
        with store.translated():
            assert store.feeds.state(FEED.name).consecutive_errors == 0


def test_a_restarted_service_takes_back_at_once_the_feeds_its_dead_predecessor_held(
    storage: Storage,
) -> None:
    """A service killed mid-poll held its feed; on this host its death is known, so the
    next service need not wait out the lease (other hosts' claims wait for theirs)."""
    here, gone = socket.gethostname(), 2**22 + 12345
    feeds = [FeedConfig(f"Feed {n}", f"https://f{n}.example/rss", 60.0) for n in range(3)]
    storage.feeds.sync(feeds)
    storage.feeds.claim(["Feed 0"], NOW, f"{here}:{gone}", 600.0)
    storage.feeds.claim(["Feed 1"], NOW, f"{here}:{os.getpid()}", 600.0)  # alive: kept
    storage.feeds.claim(["Feed 2"], NOW, f"elsewhere.example:{gone}", 600.0)

    release_the_dead(storage, here)

    assert storage.feeds.claimants() == sorted(
        [f"{here}:{os.getpid()}", f"elsewhere.example:{gone}"]
    )
    assert storage.feeds.claim([f.name for f in feeds], NOW, "next:1", 600.0) == ["Feed 0"]


def test_a_feeds_lease_runs_from_its_claim_not_from_when_the_planner_looked(
    tmp_path: Path,
) -> None:
    """The planner reads the schedule, then claims the due feeds; with the store's thread busy
    (a poll's transaction) the claim may come seconds after the look. A lease measured from
    the look was short by as much, and another process polled the feed beside this one."""
    config = load_config(write_config(tmp_path, [("Port News", "http://127.0.0.1:9/rss")]))

    async def claim_once(looked: datetime) -> str:
        with Store.open(config.db_path) as store, Extractor(0) as extractor:
            store.feeds.sync(config.feeds)
            async with Fetcher(config.fetch) as fetcher:
                poller = Poller(config, store, fetcher, extractor)
                service = Service(config, store, poller, Dispatcher(config, store, fetcher))
                await service._start_due_polls(looked)
                until = store.db.execute("SELECT claimed_until FROM feeds").fetchone()[0]
                for poll in list(service.tasks):  # its poll of the feed: not needed here
                    poll.cancel()
                await asyncio.gather(*service.tasks, return_exceptions=True)
        return str(until)

    before = datetime.now(UTC)
    until = asyncio.run(claim_once(looked=before - timedelta(seconds=60)))

    assert datetime.fromisoformat(until) >= before + timedelta(seconds=config.lease - 1)


@pytest.mark.slow
def test_two_processes_storing_one_story_at_once_do_not_deadlock(postgres_url: str) -> None:
    """A story on two feeds, polled by two processes at once: each inserts the article, and
    one holds the story-cluster lock. Taken after the insert, the lock closed a cycle (this
    one waits for the lock, the other for this one's row) that PostgreSQL broke by failing
    one of them ("deadlock detected": entries skipped, an ERROR in the log)."""
    url = "https://news.example/one-story"
    entry = Entry("one-story", url, url, "One story, two outlets", "", NOW, None)
    text = " ".join(["Ferries ran late after a storm in the strait, the harbour office said."] * 5)
    article = Article(url, entry.title, text, "page", NOW)  # long enough for a story fingerprint
    with open_storage(postgres_url) as store, psycopg.connect(postgres_url) as other:
        other.execute("SELECT pg_advisory_xact_lock(%s)", [CLUSTER_LOCK])  # mid-save, clustering
        saved: list[int | None] = []
        saving = threading.Thread(
            target=lambda: saved.extend(
                store.articles.save("Port News", [to_store(entry, article, "f", ())], NOW, STORIES)
            )
        )
        saving.start()
        saving.join(timeout=1.0)  # this process is now inside its save
        other.execute(  # the other process stores the same article, then commits
            """
            INSERT INTO articles (key, url, title, text, source, feed, first_seen_at, changed_at)
            VALUES (%s, %s, %s, 'Ferries ran late.', 'page', 'Harbour Wire', %s, %s)
            ON CONFLICT DO NOTHING
            """,
            [entry.key, url, entry.title, NOW.isoformat(), NOW.isoformat()],
        )
        other.commit()
        saving.join(timeout=30)

        assert saved == [0]  # stored (by the other process), no hits, and not refused
        assert store.count("articles") == 1
