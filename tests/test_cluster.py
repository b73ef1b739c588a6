"""Story clusters: copies of one wire story share a cluster, other stories do not."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from watcher.app.poll import STORIES, to_store
from watcher.match.cluster import MAX_DISTANCE, closest, distance, simhash
from watcher.models import Article, Entry
from watcher.store import Storage, open_storage

WIRE = (
    "Engineers working on the high-speed line in Gujarat completed the last river bridge "
    "on the northern section this week, the project company said on Monday. The bridge "
    "carries two tracks across a wide river bed that floods every monsoon, and its piers "
    "were sunk through soft clay with a technique borrowed from Japanese builders. Work "
    "crews now move to the stations, where platforms, roofs and ticket halls are still "
    "unfinished. Trial runs with the first trainsets are planned once signalling and power "
    "systems are installed, a process expected to take at least eighteen months. Officials "
    "said the schedule depends on land still being acquired near the coastal terminal, "
    "where several court cases remain open. Passenger services on the first stretch could "
    "begin before the full line opens, they added, if safety approvals arrive in time."
)
COPY = (
    WIRE.replace("said on Monday", "told reporters on Monday")
    .replace("Officials said", "Railway officials said")
    .removesuffix(" they added, if safety approvals arrive in time.")
    + " they added. Reporting by the regional desk."
)
OTHER = (
    "Prices of the metals used in electric motors climbed for a third week as buyers in "
    "Europe rushed to secure supplies before new export rules take effect. Traders said "
    "magnet makers had booked most of the spot cargoes available for the quarter, and "
    "several carmakers were negotiating long contracts with mines in Africa and South "
    "America. Analysts expect prices to stay high until new refineries come online, which "
    "could take years because permits and financing are slow. Governments are studying "
    "stockpiles and recycling schemes to soften the shock, while researchers test motor "
    "designs that need fewer of the scarce elements. Shares of mining companies rose on "
    "the news, and several exploration projects announced new funding rounds this week."
)
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def test_edited_copy_of_a_story_is_within_the_cluster_distance() -> None:
    assert distance(simhash(WIRE) or 0, simhash(COPY) or 0) <= MAX_DISTANCE


def test_different_stories_are_far_apart() -> None:
    assert distance(simhash(WIRE) or 0, simhash(OTHER) or 0) > 2 * MAX_DISTANCE


def test_headline_only_text_has_no_fingerprint() -> None:
    assert simhash("Last river bridge completed on the high-speed line") is None


def test_a_new_article_joins_the_cluster_of_its_nearest_copy_within_the_distance() -> None:
    far = (1 << (MAX_DISTANCE + 1)) - 1  # MAX_DISTANCE + 1 bits set: too far
    assert closest(0, [(0b111, 5), (0b1, 9), (far, 2)]) == 9
    assert closest(0, [(far, 2)]) is None
    assert closest(0, []) is None


def save(store: Storage, feed: str, url: str, text: str, when: datetime = NOW) -> None:
    entry = Entry(
        key=url, url=url, link=url, title="Bridge done", summary="", published=None, updated=None
    )
    article = Article(url=url, title="Bridge done", text=text, source="page", published=None)
    store.articles.save(feed, [to_store(entry, article, "x", ())], when, STORIES)


def clusters(store: Any) -> dict[str, int]:
    # A query without parameters reads the same through SQLite's and psycopg's connections.
    rows = store.db.execute("SELECT url, cluster_id FROM articles ORDER BY id").fetchall()
    return {url.rsplit("/", 1)[1]: cluster for url, cluster in rows}


def test_copies_from_two_outlets_share_a_cluster_and_others_do_not(storage: Storage) -> None:
    save(storage, "Wire A", "https://a.example/wire", WIRE)
    save(storage, "Outlet B", "https://b.example/copy", COPY)
    save(storage, "Outlet B", "https://b.example/other", OTHER)

    found = clusters(storage)

    assert found["wire"] == found["copy"]
    assert found["other"] != found["wire"]


def test_a_copy_weeks_later_starts_a_new_cluster(storage: Storage) -> None:
    save(storage, "Wire A", "https://a.example/wire", WIRE)
    save(storage, "Outlet B", "https://b.example/copy", COPY, when=NOW + timedelta(days=30))

    found = clusters(storage)

    assert found["wire"] != found["copy"]


@pytest.mark.slow
def test_copies_stored_at_once_by_two_processes_share_a_cluster(postgres_url: str) -> None:
    """Two watchers on one PostgreSQL store copies of a story at the same moment: each
    chooses its cluster seeing the other's copy, whichever commits first (issue 20)."""
    stores = [open_storage(postgres_url) for _ in range(2)]

    def store_copy(start: threading.Barrier, index: int, text: str) -> None:
        start.wait()
        save(stores[index], f"Outlet {index}", f"https://{index}.example/copy{index}", text)

    try:
        for round_ in range(8):
            stores[0].db.execute("DELETE FROM articles")  # each round starts from nothing
            start = threading.Barrier(2)
            workers = [
                threading.Thread(target=store_copy, args=(start, index, text))
                for index, text in enumerate((WIRE, COPY))
            ]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join(timeout=30)
            found = clusters(stores[0])
            assert len(found) == 2
            assert len(set(found.values())) == 1, f"round {round_}: clusters {found}"
    finally:
        for store in stores:
            store.close()
