"""Failover, proven (issue 20): three `watcher run` processes share one PostgreSQL database
while a loopback farm keeps publishing; one of them is SIGKILLed mid-poll, several times
at random moments, and restarted. Nothing is lost or doubled: every entry is stored once,
every hit once, every hit delivered in one digest (a digest sent again keeps its id), and
the feeds the killed process held are polled again within lease + interval.

The seed is printed (and named in every failure); FAILOVER_SEED=<seed> replays its choices
(the moments themselves depend on the machine's load).
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from pathlib import Path

import psycopg
import pytest

from conftest import (
    SECRET,
    Receiver,
    Site,
    channel_config,
    db_rows,
    wait_for,
    webhook_channel,
    write_config,
)
from watcher.config.load import Config, load_config
from watcher.delivery.dispatch import Dispatcher, Outcome, deliver_now
from watcher.sources.http import Fetcher
from watcher.store import open_storage

pytestmark = pytest.mark.slow

FEEDS = 6
FIRST_ENTRIES = 3  # each feed's entries before the processes start; more come while they run
KILLS = 4
LEASE = 4.0  # [poll] and [delivery] lease: at least twice the fetch timeout
TIMEOUT = 2.0
INTERVAL = 2.0
# On top of lease + interval for a killed process's feeds to be polled again: a survivor's
# planner is busy with its own polls on two cores that five other sessions share.
SLACK = 6.0
PAGE_DELAY = 0.2  # each article page answers this late, so kills find polls in flight
SETTLE = 45.0  # seconds for everything published to be stored and delivered after the kills
HOST = socket.gethostname()

# Written for this test: each sentence is caught by the seeded term it is filed under.
PLANTS = {
    "JWG on critical minerals": "India and Japan said their joint working group on critical"
    " minerals would meet again in Tokyo to compare stockpiles of rare earths.",
    "India–Japan AI Dialogue": "Officials from India and Japan opened the second round of the"
    " India–Japan AI Dialogue in New Delhi, with model testing on the agenda.",
    "UNICORN antenna": "Shipwrights in Yokosuka fitted the Unified Complex Radio Antenna to a"
    " new frigate before its sea trials with the Navy.",
    "Ahmedabad–Mumbai HSR": "Crews finished another river bridge on the MAHSR corridor, the"
    " engineers in charge of the viaduct said on Monday.",
}
# ... and these are caught by none.
FILLER = [
    "The harbour master reported calm water and a light westerly breeze through the morning.",
    "Fishing boats returned early with a modest catch of sardines, and the market opened on time.",
    "At the town hall, the council discussed the repair of a footbridge and the price of"
    " parking permits.",
    "A school choir rehearsed for the winter concert while volunteers painted the lighthouse"
    " railings.",
    "The ferry timetable changes next week, with an extra crossing on Saturday evenings.",
    "Bakers on the high street said flour prices had steadied after a difficult summer.",
    "The library will stay open late on Thursdays to make room for a chess club.",
    "Road works near the station are expected to finish before the end of the month.",
]
HEADLINES = ["Notes from the port", "Around the bay", "Town and harbour", "The week ashore"]


@dataclass(frozen=True)
class Item:
    url: str
    title: str
    published: datetime


class Farm:
    """Feeds on the loopback `Site` that keep publishing, and the hit each entry carries."""

    def __init__(self, site: Site, rng: random.Random) -> None:
        self.site = site
        self.rng = rng
        self.items: list[list[Item]] = [[] for _ in range(FEEDS)]
        self.expected: dict[str, str | None] = {}  # article URL -> the term its page hits
        self.listed: set[tuple[str, str]] = set()  # (article URL, feed name)
        self.lock = threading.Lock()

    def feed_url(self, feed: int) -> str:
        return f"{self.site.base}/f{feed}.rss"

    def publish(self, feed: int) -> None:
        """One more entry on `feed` (one in four on a second feed too, the same story at
        the same URL, which two processes may store at once): its page first, then the
        feeds that link it."""
        with self.lock:
            number = len(self.expected)
            path = f"/a/{feed}/{number}.html"
            term = self.rng.choice([*PLANTS, None, None, None, None])
            title = f"{self.rng.choice(HEADLINES)}: day {number} on feed {feed}"
            paragraphs = self.rng.sample(FILLER, 5)
            if term is not None:
                paragraphs.insert(self.rng.randrange(1, 5), PLANTS[term])
            feeds = [feed]
            if self.rng.random() < 0.25:
                feeds.append(self.rng.choice([other for other in range(FEEDS) if other != feed]))
            # A story on two feeds answers slowly: two processes are likelier to read it at once.
            delay = PAGE_DELAY * (5 if len(feeds) > 1 else 1)
            self.site.put(path, page(title, paragraphs), delay=delay)
            published = datetime(2026, 12, 1, 8, tzinfo=UTC) + timedelta(minutes=number)
            item = Item(self.site.base + path, title, published)
            self.expected[item.url] = term
            for listing in feeds:
                self.items[listing].append(item)
                self.site.put(f"/f{listing}.rss", rss(listing, self.items[listing]))
                self.listed.add((item.url, f"Farm {listing}"))

    def hits(self) -> set[tuple[str, str]]:
        with self.lock:
            return {(url, term) for url, term in self.expected.items() if term is not None}


def page(title: str, paragraphs: list[str]) -> str:
    body = "\n".join(f"<p>{escape(text)} {escape(text)}</p>" for text in paragraphs)
    return (
        f"<!doctype html><html><head><title>{escape(title)}</title></head><body>"
        f"<nav><a href='/'>Home</a></nav><article><h1>{escape(title)}</h1>\n{body}\n"
        "</article><footer>The Farm Gazette</footer></body></html>"
    )


def rss(feed: int, items: list[Item]) -> str:
    entries = "".join(
        f"<item><title>{escape(item.title)}</title><link>{item.url}</link>"
        f"<guid>{item.url}</guid><pubDate>{format_datetime(item.published)}</pubDate>"
        "<description>News from the coast.</description></item>"
        for item in reversed(items)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Farm {feed}</title>'
        f"<link>http://farm.test/{feed}</link>{entries}</channel></rss>"
    )


class Watchers:
    """The three `watcher run` processes, each logging to a file of its own per start."""

    def __init__(self, config: Path, folder: Path) -> None:
        self.config = config
        self.folder = folder
        self.running: dict[int, subprocess.Popen[bytes]] = {}
        self.logs: list[Path] = []

    def start(self, slot: int) -> None:
        log = self.folder / f"watcher-{slot}-{len(self.logs)}.log"
        self.logs.append(log)
        with log.open("wb") as out:
            self.running[slot] = subprocess.Popen(
                [sys.executable, "-m", "watcher", "--config", str(self.config), "-v", "run"],
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def joined(self, url: str) -> bool:
        """Whether every running process has joined the others in the database (its signal
        handlers set: a SIGTERM before them ends it at once, exit status -15)."""
        rows = query(url, "SELECT pid FROM processes WHERE host = %s", (HOST,))
        pids = {int(str(row[0])) for row in rows}
        return all(process.pid in pids for process in self.running.values())

    def owners(self) -> dict[str, int]:
        """Slot of each running process, by its name in the database ("host:pid")."""
        return {f"{HOST}:{process.pid}": slot for slot, process in self.running.items()}

    def kill(self, slot: int) -> None:
        process = self.running.pop(slot)
        process.send_signal(signal.SIGKILL)
        process.wait()

    def stop_all(self) -> list[int]:
        for process in self.running.values():
            process.send_signal(signal.SIGTERM)
        codes = []
        for process in self.running.values():
            try:
                codes.append(process.wait(timeout=30))
            except subprocess.TimeoutExpired:
                process.kill()
                codes.append(process.wait())
        self.running.clear()
        return codes

    def output(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')}" for log in self.logs)


def query(url: str, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        return list(conn.execute(sql, params).fetchall())  # type: ignore[arg-type]


def delivered(receiver: Receiver) -> dict[str, list[set[tuple[str, str]]]]:
    """The (url, term) hits of each delivery, by digest id (a digest sent again: twice)."""
    found: dict[str, list[set[tuple[str, str]]]] = collections.defaultdict(list)
    for post in list(receiver.posts):
        data = json.loads(post.body)["data"]
        hits = {
            (hit["url"], group["term"])
            for group in data["terms"]
            for story in group["stories"]
            for hit in story["hits"]
        }
        assert post.headers["webhook-id"] == data["id"]
        found[data["id"]].append(hits)
    return found


def holders(url: str, watchers: Watchers) -> dict[str, list[str]]:
    """The feeds each running process holds now, by its name ("host:pid")."""
    held: dict[str, list[str]] = {}
    running = watchers.owners()
    for owner, name in query(url, "SELECT claimed_by, name FROM feeds ORDER BY name"):
        if owner in running:
            held.setdefault(str(owner), []).append(str(name))
    return held


def failover(url: str, feeds: list[str], killed_at: datetime) -> list[tuple[str, float]]:
    """Seconds from the kill to the next poll of each of `feeds` (by another process), waiting
    a while past lease + interval + slack for them."""

    def polled_again(feed: str) -> datetime | None:
        rows = query(
            url,
            "SELECT MIN(started_at) FROM polls WHERE feed = %s AND started_at >= %s",
            (feed, killed_at.isoformat()),
        )
        return datetime.fromisoformat(str(rows[0][0])) if rows[0][0] else None

    wait_for(lambda: all(polled_again(feed) for feed in feeds), LEASE + INTERVAL + SLACK + 5)
    found = []
    for feed in feeds:
        again = polled_again(feed)
        found.append((feed, (again - killed_at).total_seconds() if again else float("inf")))
    return found


def test_three_watchers_lose_and_double_nothing_while_one_is_killed_again_and_again(
    tmp_path: Path,
    postgres_url: str,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed = int(os.environ.get("FAILOVER_SEED", random.SystemRandom().randrange(2**32)))
    print(f"failover seed: {seed} (FAILOVER_SEED={seed} replays it)")
    rng, publishing = random.Random(seed), random.Random(seed + 1)
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", SECRET)
    site = Site()
    farm = Farm(site, publishing)
    for feed in range(FEEDS):
        for _ in range(FIRST_ENTRIES):
            farm.publish(feed)
    config = write_config(
        tmp_path,
        [(f"Farm {feed}", farm.feed_url(feed)) for feed in range(FEEDS)],
        interval=f"{INTERVAL:g}s",
        extra=f'lease = "{LEASE:g}s"\nmax_backoff = "{INTERVAL:g}s"\n'
        '[delivery]\nretry_base = "1s"\nretry_max = "2s"\n'
        f'lease = "{LEASE:g}s"\n',
        storage=postgres_url,
    )
    text = config.read_text().replace('timeout = "10s"', f'timeout = "{TIMEOUT:g}s"')
    config.write_text(text + "\n" + webhook_channel(receiver, schedule='"immediate"'))
    with open_storage(postgres_url) as store:  # migrated once, before the three start
        store.feeds.sync([])

    watchers = Watchers(config, tmp_path)
    stop_publishing = threading.Event()

    def keep_publishing() -> None:
        while not stop_publishing.wait(publishing.uniform(0.2, 0.6)):
            farm.publish(publishing.randrange(FEEDS))

    publisher = threading.Thread(target=keep_publishing, daemon=True)
    failovers: list[tuple[str, float]] = []  # (feed, seconds from the kill to its next poll)
    started = time.monotonic()
    try:
        for slot in range(3):
            watchers.start(slot)
        assert wait_for(lambda: query(postgres_url, "SELECT 1 FROM polls LIMIT 1"), 30), (
            f"seed {seed}: no poll within 30s\n{watchers.output()}"
        )
        publisher.start()
        for _ in range(KILLS):
            time.sleep(rng.uniform(0.3, 1.5))
            # Mid-cycle: one of the processes that hold feeds right now (claimed, not recorded).
            assert wait_for(lambda: holders(postgres_url, watchers), 20), (
                f"seed {seed}: no process held a feed for 20s\n{watchers.output()}"
            )
            held = holders(postgres_url, watchers)
            victim = rng.choice(sorted(held))
            slot = watchers.owners()[victim]
            killed_at = datetime.now(UTC).replace(microsecond=0)  # polls are stamped to the second
            watchers.kill(slot)
            print(f"killed {victim} (slot {slot}) holding {held[victim]}")
            failovers.extend(failover(postgres_url, held[victim], killed_at))
            # After its feeds went to the others (the lease gave them back), it comes back.
            watchers.start(slot)
        stop_publishing.set()
        publisher.join()
        expected_hits = farm.hits()

        def missing() -> tuple[set[str], set[tuple[str, str]]]:
            """The farm's articles not stored yet, and its hits not delivered yet."""
            stored = {str(row[0]) for row in query(postgres_url, "SELECT url FROM articles")}
            sent = set().union(*(hits[0] for hits in delivered(receiver).values()))
            return set(farm.expected) - stored, expected_hits - sent

        everything = wait_for(lambda: missing() == (set(), set()), SETTLE)
        assert wait_for(lambda: watchers.joined(postgres_url), 30), watchers.output()
        left = missing()
    finally:
        stop_publishing.set()
        codes = watchers.stop_all()
        site.close()
    took = time.monotonic() - started
    output = watchers.output()
    print(f"took {took:.1f}s; failovers (feed, seconds): {failovers}")
    where = f"seed {seed}\n{output}"

    digests_left = query(
        postgres_url,
        "SELECT id, status, claimed_by, claimed_until, last_error FROM digests"
        " WHERE status != 'sent'",
    )
    assert everything, (left, digests_left, where)
    assert codes == [0, 0, 0], where
    assert "Traceback" not in output, where
    # Every farm entry stored, once.
    urls = collections.Counter(
        str(row[0]) for row in query(postgres_url, "SELECT url FROM articles")
    )
    assert set(urls) == set(farm.expected), where
    assert max(urls.values()) == 1, where
    # Every expected hit stored, once, and no other.
    hits = collections.Counter(
        (str(url), str(term))
        for url, term in query(
            postgres_url, "SELECT a.url, h.term FROM hits h JOIN articles a ON a.id = h.article_id"
        )
    )
    assert set(hits) == expected_hits, where
    assert max(hits.values()) == 1, where
    # Every hit delivered in one digest; a digest sent twice carries its id and its hits again.
    digests = delivered(receiver)
    for copies in digests.values():
        assert all(copy == copies[0] for copy in copies), where
    sent = collections.Counter(hit for copies in digests.values() for hit in copies[0])
    assert set(sent) == expected_hits, where
    assert max(sent.values()) == 1, where
    statuses = query(postgres_url, "SELECT status, COUNT(*) FROM digests GROUP BY status")
    assert dict(statuses) == {"sent": len(digests)}, where
    # Each article linked to every feed that listed it, once.
    links = collections.Counter(
        (str(url), str(feed))
        for url, feed in query(
            postgres_url,
            "SELECT a.url, af.feed FROM article_feeds af JOIN articles a ON a.id = af.article_id",
        )
    )
    assert set(links) == farm.listed, where
    assert max(links.values()) == 1, where
    # No poll failed on the database (a unique key two processes hit at once, say).
    failed = query(postgres_url, "SELECT feed, error FROM polls WHERE error LIKE 'database%%'")
    assert failed == [], where
    # Nor was an entry refused (" ERROR " is the log's level: no database error, no entry
    # "not stored" because another process stored it at that moment, no digest unwritten).
    assert " ERROR " not in output, where
    # A feed is in one process's hands at a time: its recorded polls overlap only when the
    # earlier one outlasted its lease (a killed process's poll is never recorded).
    polls = query(
        postgres_url, "SELECT feed, started_at, finished_at FROM polls ORDER BY feed, started_at"
    )
    for (feed, start, end), (other, next_start, _) in itertools.pairwise(polls):
        if feed == other and str(next_start) < str(end):
            outlasted = datetime.fromisoformat(str(start)) + timedelta(seconds=LEASE)
            assert datetime.fromisoformat(str(next_start)) >= outlasted - timedelta(seconds=1), (
                (feed, start, end, next_start),
                where,
            )
    again = sum(len(copies) - 1 for copies in digests.values())
    print(f"counted: {len(urls)} articles, {len(links)} feed links, {len(hits)} hits,"
          f" {len(digests)} digests ({again} sent again), {len(polls)} polls")  # fmt: skip
    # The feeds a killed process held went to the others within lease + interval.
    assert len(failovers) >= KILLS, where
    assert all(late <= LEASE + INTERVAL + SLACK for _, late in failovers), (failovers, where)


def noting_claims(tmp_path: Path, polled_at: str, receiver: Receiver) -> tuple[Config, list[str]]:
    """A config with a one-minute [delivery] lease, and the claims' ends the receiver notes
    as each digest is posted to it."""
    config = load_config(
        channel_config(
            tmp_path,
            polled_at,
            webhook_channel(receiver),
            'retry_base = "1s"\nretry_max = "2s"\nlease = "1m"',
        )
    )
    held: list[str] = []

    def note_claim() -> None:
        held.extend(row[0] for row in db_rows(polled_at, "SELECT claimed_until FROM digests"))

    receiver.on_post = note_claim
    return config, held


def test_a_digest_being_sent_is_held_for_the_configured_lease(
    tmp_path: Path, polled_at: str, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a digest is posted, its claim runs `[delivery] lease` from the claim: a sender
    killed there leaves it to the others that much later (on PostgreSQL, where the lease
    decides when the server still thinks the sender connected)."""
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", SECRET)
    config, held = noting_claims(tmp_path, polled_at, receiver)
    before = datetime.now(UTC)
    outcomes = asyncio.run(deliver_now(config, config.channels))
    after = datetime.now(UTC)

    assert [outcome.status for outcome in outcomes] == ["sent"]
    assert len(held) == 1
    until = datetime.fromisoformat(held[0])
    assert before + timedelta(seconds=59) <= until <= after + timedelta(seconds=61)


def test_a_digests_lease_runs_from_its_claim_not_from_before_the_store_was_free(
    tmp_path: Path, polled_at: str, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sender asks the store to claim the due digests; with the store's thread busy (a
    poll's transaction) the claim runs seconds later, and a lease timed before was short
    by as much (another process could send the digest too)."""
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", SECRET)
    config, held = noting_claims(tmp_path, polled_at, receiver)

    async def send_while_busy() -> list[Outcome]:
        with open_storage(config.database) as store:
            async with Fetcher(config.fetch) as fetcher:
                dispatcher = Dispatcher(config, store, fetcher)
                await store.call(dispatcher.prepare, config.channels[0])
                busy = asyncio.ensure_future(store.call(time.sleep, 3.0))
                await asyncio.sleep(0.1)  # the store's thread is busy for 3 s from now
                outcomes = await dispatcher.deliver_due()
                await busy
                return outcomes

    before = datetime.now(UTC)
    outcomes = asyncio.run(send_while_busy())

    assert [outcome.status for outcome in outcomes] == ["sent"]
    assert datetime.fromisoformat(held[0]) >= before + timedelta(seconds=2.5 + 59)
