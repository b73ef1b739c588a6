"""The outbox as a store part, on each backend: digests built, claimed, sent, retried."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from watcher.app.poll import STORIES, to_store
from watcher.models import Article, Entry, Match
from watcher.store import Storage, open_storage

NOW = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
SINCE = NOW - timedelta(days=1)
PID = os.getpid()  # alive: SQLite also lets a dead process's claim lapse at once
OTHER = PID + 1


def hit_articles(store: Storage, count: int) -> None:
    """`count` articles, each hit by the term "Ferries"."""
    items = []
    for number in range(count):
        url = f"https://news.example/{number}"
        entry = Entry(f"k{number}", url, url, f"Ferry {number}", "", NOW, None)
        article = Article(url, entry.title, f"The ferry sailed {number} times.", "page", NOW)
        match = Match("Ferries", "ferry", "The ferry", 1.0, 1, False)
        items.append(to_store(entry, article, f"f{number}", [match]))
    store.articles.save("Port News", items, NOW, STORIES)


def test_a_digest_takes_the_undelivered_hits_once(storage: Storage) -> None:
    hit_articles(storage, 3)

    first = storage.outbox.create("desk", NOW, since=SINCE)
    second = storage.outbox.create("desk", NOW, since=SINCE)

    assert first is not None and second is None
    [delivery] = storage.outbox.deliveries()
    assert (delivery.id, delivery.status, delivery.hits) == (first, "pending", 3)


def test_a_claimed_digest_is_not_claimed_again_until_its_lease_runs_out(
    storage: Storage,
) -> None:
    hit_articles(storage, 1)
    digest = storage.outbox.create("desk", NOW, since=SINCE)

    mine = storage.outbox.claim_due(NOW, PID, 60.0)
    during = storage.outbox.claim_due(NOW + timedelta(seconds=30), OTHER, 60.0)

    assert [delivery.id for delivery in mine] == [digest]
    assert during == []


def test_a_sent_digest_is_counted_and_never_claimed_again(storage: Storage) -> None:
    hit_articles(storage, 1)
    digest = storage.outbox.create("desk", NOW, since=SINCE)
    assert digest is not None
    storage.outbox.claim_due(NOW, PID, 60.0)

    storage.outbox.mark_sent(digest, NOW)

    assert storage.outbox.counts() == {"pending": 0, "sent": 1, "failed": 0}
    assert storage.outbox.claim_due(NOW + timedelta(hours=1), OTHER, 60.0) == []


def test_a_failed_attempt_waits_for_its_retry_and_a_last_one_fails(storage: Storage) -> None:
    hit_articles(storage, 1)
    digest = storage.outbox.create("desk", NOW, since=SINCE)
    assert digest is not None
    retry = NOW + timedelta(minutes=5)

    storage.outbox.mark_failed_attempt(digest, "refused", retry)
    early = storage.outbox.claim_due(NOW + timedelta(minutes=1), PID, 60.0)
    storage.outbox.mark_failed_attempt(digest, "refused again", None)

    assert early == []
    [delivery] = storage.outbox.deliveries()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        "failed",
        2,
        "refused again",
    )
    assert storage.outbox.retry_failed(NOW) == 1
    assert [d.id for d in storage.outbox.claim_due(NOW, PID, 60.0)] == [digest]


@pytest.mark.slow
def test_two_watchers_claiming_at_once_each_get_different_digests(postgres_url: str) -> None:
    """On one PostgreSQL, each due digest goes to exactly one of two claimers (issue 20)."""
    stores = [open_storage(postgres_url) for _ in range(2)]
    try:
        hit_articles(stores[0], 1)
        for number in range(20):
            stores[0].outbox.create(f"channel{number}", NOW, since=SINCE)
        claimed: list[list[str]] = [[], []]
        start = threading.Barrier(2)

        def claim(index: int) -> None:
            start.wait()
            for _ in range(10):
                got = stores[index].outbox.claim_due(NOW, PID + index, 600.0)
                claimed[index].extend(delivery.id for delivery in got)

        workers = [threading.Thread(target=claim, args=(index,)) for index in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=30)

        every = claimed[0] + claimed[1]
        assert len(every) == 20
        assert len(set(every)) == 20  # none claimed twice
    finally:
        for store in stores:
            store.close()


@pytest.mark.slow
def test_a_digest_held_by_a_watcher_that_ended_is_claimed_at_once_by_the_next(
    postgres_url: str,
) -> None:
    """On PostgreSQL a claim ends with its claimer's connection, not only with its lease:
    a service restarted after a SIGKILL sends at once what its predecessor held."""
    first = open_storage(postgres_url)
    hit_articles(first, 1)
    digest = first.outbox.create("desk", NOW, since=SINCE)
    assert [d.id for d in first.outbox.claim_due(NOW, PID, 600.0)] == [digest]
    first.close()  # the connection ends, as the kernel ends a killed process's
    with open_storage(postgres_url) as second:
        claimed: list[str] = []
        deadline = time.monotonic() + 10  # the server ends its side within moments
        while not claimed and time.monotonic() < deadline:
            claimed = [d.id for d in second.outbox.claim_due(NOW, OTHER, 600.0)]
            time.sleep(0.05 if not claimed else 0)

        assert claimed == [digest]
        assert second.outbox.claim_due(NOW, OTHER, 600.0) == []  # its own claim holds
