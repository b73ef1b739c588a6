"""`watcher run` killed with SIGKILL mid-delivery, then restarted: every hit arrives, none twice.

The last test kills it at random moments, WATCHER_KILLS times (default 20) on
SQLite and a quarter as many on PostgreSQL. Every test runs on both backends.

The crash points are real: the receiver kills the service while it waits for
the answer to its POST (sent, not yet marked), or the service is killed while
a poll has stored some hits and still waits for a slow page (hits stored, no
digest yet).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from conftest import (
    SECRET,
    Receiver,
    Site,
    channel_config,
    db_rows,
    hit_count,
    stop,
    wait_for,
    webhook_channel,
    write_config,
)

pytestmark = pytest.mark.slow


def config_with_hook(
    tmp_path: Path, site: Site, receiver: Receiver, feeds: list[str], storage: str | None = None
) -> Path:
    config = write_config(
        tmp_path,
        [(name, f"{site.base}/{path}") for name, path in _FEEDS if name in feeds],
        storage=storage,
    )
    with config.open("a") as file:
        file.write("\n" + webhook_channel(receiver, schedule='"immediate"'))
    return config


_FEEDS = [
    ("Coastline Daily", "news.rss"),
    ("Eastern Ledger", "world.atom"),
    ("Harbour Wire", "briefs.json"),
]


def start(config: Path, log: Path) -> subprocess.Popen[str]:
    """The service in a process group of its own, as systemd runs it in a cgroup."""
    return subprocess.Popen(
        [sys.executable, "-m", "watcher", "--config", str(config), "-v", "run"],
        stdout=log.open("a"),
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def kill(process: subprocess.Popen[str]) -> None:
    """SIGKILL to the service and its extraction workers at once, like systemd's KillMode."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def rows(where: Path | str, sql: str) -> list[tuple[object, ...]]:
    """The rows of `sql` on the database at `where`; [] while it has no tables yet."""
    try:
        return db_rows(where, sql)
    except (sqlite3.Error, psycopg.Error):
        return []


def all_delivered(db: Path | str) -> bool:
    """Every hit is in a sent digest of the channel, and nothing is pending."""
    hits = rows(db, "SELECT COUNT(*) FROM hits")
    sent = rows(
        db,
        "SELECT COUNT(*) FROM digest_hits dh JOIN digests d ON d.id = dh.digest_id"
        " WHERE d.status = 'sent'",
    )
    pending = rows(db, "SELECT COUNT(*) FROM digests WHERE status != 'sent'")
    return bool(hits and hits[0][0] and hits == sent and pending == [(0,)])


def delivered_hits(receiver: Receiver) -> Counter[int]:
    """How often each hit id reached the receiver, counting a repeated digest once."""
    seen: dict[str, list[int]] = {}
    for post in receiver.posts:
        data = json.loads(post.body)["data"]
        ids = [
            hit["id"]
            for group in data["terms"]
            for story in group["stories"]
            for hit in story["hits"]
        ]
        assert seen.setdefault(post.headers["webhook-id"], ids) == ids  # a repeat is identical
    return Counter(hit for ids in seen.values() for hit in ids)


def test_killed_between_sending_and_marking_the_digest_is_repeated_with_its_id(
    fixture_site: Site,
    tmp_path: Path,
    storage_at: str,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", SECRET)
    db = storage_at
    feeds = [name for name, _ in _FEEDS]
    config = config_with_hook(tmp_path, fixture_site, receiver, feeds, storage_at)
    log = tmp_path / "service.log"
    process = start(config, log)
    receiver.on_post = lambda: kill(process)
    try:
        posted = wait_for(lambda: process.poll() is not None, timeout=60)
    finally:
        kill(process)
    assert posted and process.returncode == -signal.SIGKILL, log.read_text()
    assert rows(db, "SELECT status FROM digests") == [("pending",)]
    receiver.on_post = None

    process = start(config, log)
    try:
        finished = wait_for(lambda: hit_count(db) == 5 and all_delivered(db), timeout=60)
    finally:
        code, _ = stop(process)

    assert finished and code == 0, log.read_text()
    ids = [post.headers["webhook-id"] for post in receiver.posts]
    assert ids[0] == ids[1]  # the in-flight digest again, with the same id
    assert len(set(ids)) == len(ids) - 1  # and no other repeat
    assert delivered_hits(receiver) == Counter(
        hit_id for (hit_id,) in rows(db, "SELECT id FROM hits")
    )


def test_killed_between_storing_hits_and_building_the_digest_nothing_is_lost(
    fixture_site: Site,
    tmp_path: Path,
    storage_at: str,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Hits stored and no digest built for them, as a kill between the two leaves them.

    A feed's articles and hits are stored in one transaction and an immediate
    digest is built right after it, too soon to kill in between; so the first
    run's channel has a digest that is not due, and the service is killed
    with the hits stored. The next start, with the channel immediate, builds
    and delivers their digest once.
    """
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", SECRET)
    db = storage_at
    config = config_with_hook(tmp_path, fixture_site, receiver, ["Coastline Daily"], storage_at)
    immediate = config.read_text(encoding="utf-8")
    config.write_text(immediate.replace('"immediate"', '"0 7 1 1 *"'), encoding="utf-8")
    log = tmp_path / "service.log"
    process = start(config, log)
    try:
        stored = wait_for(lambda: hit_count(db) == 2, timeout=60)
    finally:
        kill(process)
    assert stored, log.read_text()
    assert rows(db, "SELECT COUNT(*) FROM digests") == [(0,)]
    assert receiver.posts == []
    config.write_text(immediate, encoding="utf-8")

    process = start(config, log)
    try:
        finished = wait_for(lambda: all_delivered(db), timeout=60)
    finally:
        code, _ = stop(process)

    assert finished and code == 0, log.read_text()
    assert delivered_hits(receiver) == Counter(
        hit_id for (hit_id,) in rows(db, "SELECT id FROM hits")
    )
    assert len(receiver.posts) == len({post.headers["webhook-id"] for post in receiver.posts})


def test_a_scheduled_digest_that_fell_due_while_stopped_is_sent_at_start(
    tmp_path: Path, polled_at: str, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", SECRET)
    channel = webhook_channel(receiver, schedule='"0 7 * * *"')
    config = channel_config(tmp_path, polled_at, channel)
    db = polled_at
    two_days_ago = (datetime.now(UTC) - timedelta(days=2)).isoformat(timespec="seconds")
    db_rows(
        db,
        "INSERT INTO channels (name, first_seen_at, last_run_at) VALUES ('hook', ?, ?)",
        two_days_ago,
        two_days_ago,
    )
    log = tmp_path / "service.log"
    process = start(config, log)
    try:
        sent = wait_for(lambda: all_delivered(db), timeout=30)
    finally:
        code, _ = stop(process)

    assert sent and code == 0, log.read_text()
    [post] = receiver.posts
    assert json.loads(post.body)["data"]["hit_count"] == 5
    assert "fell due at" in log.read_text()


KILLS = int(os.environ.get("WATCHER_KILLS", "20"))


def busy_feed(site: Site, entries: int) -> set[str]:
    """A feed of `entries` items, every third about the UNICORN mast; the URLs that are hits."""
    items, hits = [], set()
    for number in range(entries):
        about_mast = number % 3 == 0
        summary = (
            f"Item {number}: the Indian Navy fitted the UNICORN mast on frigate {number}."
            if about_mast
            else f"Item {number}: the port authority dredged berth {number} overnight."
        )
        site.put(
            f"/items/{number}.html",
            f"<html><body><article><h1>Report {number}</h1>"
            + f"<p>{summary}</p>" * 4
            + "</article></body></html>",
            delay=0.1,
        )
        items.append(
            f"<item><title>Report {number}</title><link>{site.base}/items/{number}.html</link>"
            f"<guid>item-{number}</guid><description>{summary}</description></item>"
        )
        if about_mast:
            hits.add(f"{site.base}/items/{number}.html")
    site.put(
        "/busy.rss",
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Busy Desk</title>'
        f"<link>{site.base}/</link><description>d</description>{''.join(items)}</channel></rss>",
    )
    return hits


def test_killed_at_random_points_again_and_again_nothing_is_lost_or_doubled(
    site: Site,
    tmp_path: Path,
    storage_at: str,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each round the feed gains three items (one a hit) and the service is killed at a random
    moment: starting, polling, extracting, storing, building or sending the digest.

    On PostgreSQL a quarter of the rounds: its claims and transactions are the server's,
    and SQLite's file, which a kill can leave damaged, has the full count."""
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", SECRET)
    sqlite = "://" not in storage_at
    kills = KILLS if sqlite else max(1, KILLS // 4)
    feeds = [("Busy Desk", f"{site.base}/busy.rss")]
    config = write_config(tmp_path, feeds, interval="2s", storage=storage_at)
    with config.open("a") as file:
        file.write("\n" + webhook_channel(receiver, schedule='"immediate"'))
    db = storage_at
    log = tmp_path / "service.log"
    chance = random.Random(20261123)
    expected: set[str] = set()

    for round_ in range(kills):
        expected = busy_feed(site, 3 * (round_ + 1))
        process = start(config, log)
        time.sleep(chance.uniform(0.5, 3.5))
        kill(process)
        if sqlite:
            integrity = rows(db, "PRAGMA integrity_check")
            assert integrity in ([("ok",)], []), log.read_text()[-3000:]

    process = start(config, log)
    try:
        running = wait_for(lambda: rows(db, "SELECT pid FROM service") == [(process.pid,)], 30)
        finished = wait_for(
            lambda: hit_count(db) == len(expected) and all_delivered(db), timeout=60
        )
    finally:
        code, _ = stop(process)

    assert running and finished and code == 0, log.read_text()[-3000:]
    assert not sqlite or rows(db, "PRAGMA integrity_check") == [("ok",)]
    assert rows(db, "SELECT COUNT(*), COUNT(DISTINCT key) FROM articles") == [(3 * kills,) * 2]
    stored = rows(db, "SELECT a.url FROM hits h JOIN articles a ON a.id = h.article_id")
    assert {url for (url,) in stored} == expected
    assert delivered_hits(receiver) == Counter(
        hit_id for (hit_id,) in rows(db, "SELECT id FROM hits")
    )
