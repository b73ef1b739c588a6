"""Several `watcher run` processes sharing one PostgreSQL database (issue 20)."""

from __future__ import annotations

import itertools
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import (
    SECRET,
    Receiver,
    Site,
    channel_config,
    db_rows,
    start_service,
    stop,
    wait_for,
    webhook_channel,
    write_config,
)
from watcher.cli import cli
from watcher.config.load import load_config
from watcher.store import open_storage

pytestmark = pytest.mark.slow

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


def test_two_services_on_one_database_store_each_hit_once_and_both_show_in_status(
    fixture_site: Site, tmp_path: Path, postgres_url: str
) -> None:
    config = write_config(
        tmp_path,
        [
            ("Coastline Daily", f"{fixture_site.base}/news.rss"),
            ("Harbour Wire", f"{fixture_site.base}/briefs.json"),
            ("Eastern Ledger", f"{fixture_site.base}/world.atom"),
        ],
        interval="2s",
        storage=postgres_url,
    )
    with open_storage(postgres_url) as store:  # migrated once, before both start
        store.feeds.sync([])

    def hits() -> int:
        with open_storage(postgres_url) as store:
            return store.count("hits")

    processes = [start_service(config), start_service(config)]
    try:
        stored = wait_for(lambda: hits() == 5, timeout=40)
        result = CliRunner().invoke(
            cli, ["--config", str(config), "status"], catch_exceptions=False
        )
        polled_again = wait_for(lambda: ("/briefs.json", 304) in fixture_site.requests(), 20)
    finally:
        outputs = [stop(process)[1] for process in processes]

    assert stored, outputs
    assert polled_again, outputs
    assert hits() == 5  # the fixture site's five hits, each stored once
    assert "processes: 2" in result.output, result.output
    with open_storage(postgres_url) as store:
        assert store.count("articles") == 9
        polls = store.db.execute(  # type: ignore[attr-defined]
            "SELECT feed, started_at, finished_at FROM polls ORDER BY feed, started_at"
        ).fetchall()
    # A feed is in one process's hands at a time: its polls never overlap.
    for before, after in itertools.pairwise(polls):
        if before[0] == after[0]:
            assert after[1] >= before[2], (before, after)
    assert len({feed for feed, _, _ in polls}) == 3
    assert all("Traceback" not in output for output in outputs), outputs


@pytest.mark.parametrize("polled_at", ["postgres"], indirect=True)  # one watcher on SQLite
def test_a_digest_another_watcher_wrote_and_never_sent_is_sent_by_a_watcher_left_idle(
    tmp_path: Path, polled_at: str, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its writer died between writing and sending it: nothing wakes this watcher's sender,
    which still looks now and then (every [delivery] lease here)."""
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", SECRET)
    config = channel_config(
        tmp_path,
        polled_at,
        webhook_channel(receiver, schedule='"59 23 * * *"'),
        'retry_base = "1s"\nretry_max = "2s"\nlease = "4s"',
    )
    config.write_text(config.read_text().replace('timeout = "10s"', 'timeout = "2s"'))
    service = start_service(config)
    try:
        idle = wait_for(lambda: db_rows(polled_at, "SELECT 1 FROM processes"), timeout=30)
        time.sleep(2)  # the sender has looked and found nothing: it sleeps
        with open_storage(polled_at) as store:  # another watcher's digest, never sent
            digest = store.outbox.create(
                "hook", datetime.now(UTC), since=datetime(2000, 1, 1, tzinfo=UTC)
            )
        sent = wait_for(lambda: receiver.posts, timeout=20)
    finally:
        code, output = stop(service)

    assert idle, output
    assert sent, output
    assert json.loads(receiver.posts[0].body)["data"]["id"] == digest
    assert code == 0, output


def rss_of(title: str) -> str:
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Slow</title>'
        f"<item><title>{title}</title><guid>{title}</guid><description>Port news."
        "</description></item></channel></rss>"
    )


def test_a_watcher_claims_no_more_feeds_than_it_polls_at_once_and_leaves_the_rest(
    site: Site, tmp_path: Path, postgres_url: str
) -> None:
    """Eight slow feeds fall due together before two watchers that each poll two at a time
    (one connection): neither claims feeds it cannot start while the other sits idle."""
    feeds = [(f"Slow {number}", f"{site.base}/slow-{number}.rss") for number in range(8)]
    for name, url in feeds:
        site.put(url.removeprefix(site.base), rss_of(name), delay=2.0)
    config = write_config(tmp_path, feeds, interval="1h", storage=postgres_url)
    config.write_text(config.read_text().replace("[fetch]\n", "[fetch]\nconcurrency = 1\n", 1))
    with open_storage(postgres_url) as store:  # every feed due at one moment, soon
        store.feeds.sync(load_config(config).feeds)
    due = (datetime.now(UTC) + timedelta(seconds=8)).isoformat(timespec="microseconds")
    db_rows(postgres_url, "UPDATE feeds SET next_due_at = ?", due)
    holders: list[list[str]] = []

    def sample() -> bool:
        rows = db_rows(postgres_url, "SELECT claimed_by FROM feeds WHERE claimed_by IS NOT NULL")
        holders.append([row[0] for row in rows])
        return bool(db_rows(postgres_url, "SELECT COUNT(DISTINCT feed) FROM polls")[0][0] == 8)

    processes = [start_service(config), start_service(config)]
    try:
        all_polled = wait_for(sample, timeout=60)
    finally:
        outputs = [stop(process)[1] for process in processes]

    assert all_polled, outputs
    # Each polls two feeds at once with one connection (FEEDS_PER_CONNECTION): no more.
    assert max(held.count(owner) for held in holders for owner in held) <= 2, holders
    assert len({owner for held in holders for owner in held}) == 2, outputs  # both worked
