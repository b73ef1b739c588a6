"""One article from feed to stored hit: real loopback server, the real CLI, a real database
(the tests of `site_config` run on SQLite and on PostgreSQL)."""

from __future__ import annotations

import email.utils
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import Site, write_config
from watcher.cli import cli
from watcher.config.load import load_config
from watcher.store import Store, open_storage

pytestmark = pytest.mark.slow

JWG = "JWG on critical minerals"
AI = "India–Japan AI Dialogue"
UNICORN = "UNICORN antenna"
HSR = "Ahmedabad–Mumbai HSR"

# (term, article path, text the snippet must show, source of the text)
EXPECTED = {
    (JWG, "/articles/a1.html", "New Delhi and Tokyo", "page"),  # the pairing comes first
    (HSR, "/articles/a2.html", "NHSRCL", "page"),
    (UNICORN, "/articles/a4.html", "Unified Complex Radio Antenna", "page"),
    (AI, "/articles/a7.html", "India-Japan AI Dialogue", "page"),
    (HSR, "/articles/a8.html", "NHSRCL", "summary"),
}


@pytest.fixture
def site_config(site_config: Path, storage_at: str) -> Path:
    """conftest's config of the fixture site, its database on each backend in turn."""
    if "://" in storage_at:
        text = site_config.read_text()
        path_line = next(line for line in text.splitlines() if line.startswith("path = "))
        site_config.write_text(text.replace(path_line, f'url = "{storage_at}"', 1))
    return site_config


def run(config: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def hits_json(config: Path) -> list[dict[str, object]]:
    return json.loads(run(config, "hits", "--format", "json"))


def as_expected(hits: list[dict[str, object]], base: str) -> set[tuple[str, str, str, str]]:
    """Each hit as (term, path, the expected text if its snippet shows it, source)."""
    found = set()
    for hit in hits:
        path = str(hit["url"]).removeprefix(base)
        wanted = {text for term, p, text, _ in EXPECTED if term == hit["term"] and p == path}
        shown = next((text for text in wanted if text in str(hit["snippet"])), "<snippet missing>")
        found.add((str(hit["term"]), path, shown, str(hit["source"])))
    return found


def test_poll_once_stores_exactly_the_expected_hits(site_config: Path, fixture_site: Site) -> None:
    output = run(site_config, "poll", "--once")

    assert "polled 3 feeds: 3 ok" in output
    hits = hits_json(site_config)
    assert as_expected(hits, fixture_site.base) == EXPECTED
    assert len(hits) == len(EXPECTED)
    for hit in hits:
        assert set(hit) >= {"term", "url", "title", "published", "feed", "snippet", "score"}
        assert hit["found_at"]


def test_boilerplate_around_an_article_is_not_matched(site_config: Path) -> None:
    run(site_config, "poll", "--once")

    urls = {str(hit["url"]) for hit in hits_json(site_config)}
    # a10's sidebar and comments name two watch-terms; its article text names none.
    assert not any(url.endswith("/articles/a10.html") for url in urls)


def test_second_poll_is_served_by_304_and_adds_nothing(
    site_config: Path, fixture_site: Site
) -> None:
    run(site_config, "poll", "--once")
    before = hits_json(site_config)
    fixture_site.clear_log()

    output = run(site_config, "poll", "--once")

    assert "3 ok (3 unchanged)" in output
    assert "0 new articles" in output
    assert sorted(fixture_site.requests()) == [
        ("/briefs.json", 304),
        ("/news.rss", 304),
        ("/world.atom", 304),
    ]
    assert hits_json(site_config) == before


def test_article_in_two_feeds_is_one_article_with_one_hit(
    site_config: Path, fixture_site: Site
) -> None:
    run(site_config, "poll", "--once")

    a2 = [h for h in hits_json(site_config) if str(h["url"]).endswith("/articles/a2.html")]
    assert [(h["term"], h["outlets"]) for h in a2] == [(HSR, 2)]
    # a2 (RSS) and a5 (Atom, with utm_* parameters) are one page: fetched once.
    page_fetches = [path for path, _ in fixture_site.requests("/articles/a2.html")]
    assert len(page_fetches) == 1
    with open_storage(load_config(site_config).database) as store:
        assert store.count("articles") == 9  # ten entries, one of them a duplicate
        carried = store.db.execute(
            "SELECT af.feed FROM article_feeds af JOIN articles a ON a.id = af.article_id"
            " WHERE a.url LIKE '%/articles/a2.html' ORDER BY af.feed"
        ).fetchall()
    assert [row[0] for row in carried] == ["Coastline Daily", "Eastern Ledger"]


def test_updated_article_is_rematched_without_repeating_hits(
    site_config: Path, fixture_site: Site
) -> None:
    run(site_config, "poll", "--once")
    # The publisher rewrites a1: the page now also names the AI Dialogue, the feed item changes.
    page = fixture_site.pages["/articles/a1.html"].body.decode()
    page = page.replace(
        "</article>",
        "<p>Officials said the India–Japan AI Dialogue meets in spring.</p></article>",
    )
    fixture_site.put("/articles/a1.html", page)
    feed = fixture_site.pages["/news.rss"].body.decode()
    feed = feed.replace("Tue, 03 Nov 2026 09:15:00 +0530", "Tue, 03 Nov 2026 18:30:00 +0530", 1)
    feed = feed.replace("<title>India and Japan map out", "<title>Updated: India and Japan map out")
    fixture_site.put("/news.rss", feed)

    output = run(site_config, "poll", "--once")

    assert "1 updated" in output
    a1 = sorted(
        str(h["term"]) for h in hits_json(site_config) if str(h["url"]).endswith("/a1.html")
    )
    assert a1 == sorted([JWG, AI])


def test_hits_filters_by_term_and_feed(site_config: Path) -> None:
    run(site_config, "poll", "--once")

    by_term = json.loads(run(site_config, "hits", "--term", HSR, "--format", "json"))
    by_feed = json.loads(run(site_config, "hits", "--feed", "Harbour Wire", "--format", "json"))
    limited = json.loads(run(site_config, "hits", "--limit", "2", "--format", "json"))

    assert sorted(str(h["url"]).rsplit("/", 1)[1] for h in by_term) == ["a2.html", "a8.html"]
    assert sorted(str(h["url"]).rsplit("/", 1)[1] for h in by_feed) == ["a7.html", "a8.html"]
    assert len(limited) == 2


def test_hits_since_excludes_older_hits(site_config: Path) -> None:
    run(site_config, "poll", "--once")

    assert len(json.loads(run(site_config, "hits", "--since", "1h", "--format", "json"))) == 5
    assert json.loads(run(site_config, "hits", "--since", "2999-01-01", "--format", "json")) == []


def test_feeds_list_shows_health_and_counts(site_config: Path, tmp_path: Path) -> None:
    run(site_config, "poll", "--once")

    feeds = json.loads(run(site_config, "feeds", "list", "--format", "json"))

    assert [(f["name"], f["articles"], f["hits"], f["consecutive_errors"]) for f in feeds] == [
        ("Coastline Daily", 4, 2, 0),
        ("Eastern Ledger", 3, 2, 0),
        ("Harbour Wire", 3, 2, 0),
    ]


def test_feed_listing_one_article_twice_stores_it_once(site: Site, tmp_path: Path) -> None:
    page = "<html><body><article><h1>Depot</h1><p>" + "NHSRCL opened a depot. " * 20
    site.put("/story.html", page + "</p></article></body></html>")
    items = "".join(
        f"<item><title>Depot opens</title><guid isPermaLink='false'>{guid}</guid>"
        f"<link>{site.base}/story.html{query}</link></item>"
        for guid, query in (("one", ""), ("two", "?utm_source=rss&amp;utm_medium=feed"))
    )
    site.put("/twice.rss", f"<rss version='2.0'><channel><title>T</title>{items}</channel></rss>")
    config = write_config(tmp_path, [("Twice", f"{site.base}/twice.rss")])

    run(config, "poll", "--once")

    assert [h["term"] for h in hits_json(config)] == [HSR]
    assert len(site.requests("/story.html")) == 1


def test_feed_answering_429_is_next_polled_after_its_retry_after(
    site: Site, tmp_path: Path
) -> None:
    site.put("/busy.rss", "slow down", "text/plain", status=429, headers={"Retry-After": "7200"})
    config = write_config(tmp_path, [("Busy", f"{site.base}/busy.rss")])

    before = datetime.now(UTC)
    CliRunner().invoke(cli, ["--config", str(config), "poll", "--once"], catch_exceptions=False)

    with Store.open(tmp_path / "watcher.db") as store:
        state = store.feeds.state("Busy")
    assert state.consecutive_errors == 1
    assert state.next_due is not None
    wait = datetime.fromisoformat(state.next_due) - before
    assert timedelta(hours=2) <= wait <= timedelta(hours=2, minutes=2)


def test_a_busy_feed_is_polled_more_often_and_a_quiet_one_still_at_its_interval(
    site: Site, tmp_path: Path, storage_at: str
) -> None:
    """Adaptive polling may shorten a feed's interval, never lengthen it (issue 15, item 1)."""
    now = datetime.now(UTC)

    def feed(every: timedelta) -> str:
        items = "".join(
            f"<item><title>Item {i}</title><guid isPermaLink='false'>{every}-{i}</guid>"
            f"<pubDate>{email.utils.format_datetime(now - every * i)}</pubDate></item>"
            for i in range(8)
        )
        return f"<rss version='2.0'><channel><title>T</title>{items}</channel></rss>"

    site.put("/wire.rss", feed(timedelta(minutes=3)))
    site.put("/ministry.rss", feed(timedelta(days=2)))
    config = write_config(
        tmp_path,
        [("Wire", f"{site.base}/wire.rss"), ("Ministry", f"{site.base}/ministry.rss")],
        storage=storage_at,
    )  # every 15m
    config.write_text(config.read_text().replace("adaptive = false", "adaptive = true"))

    run(config, "poll", "--once")

    with open_storage(storage_at) as store:
        wire, ministry = store.feeds.statuses(load_config(config).feeds)
    assert (wire.wait, wire.reason) == (300.0, "adaptive")  # min_interval
    assert (ministry.wait, ministry.reason) == (900.0, "interval")  # not 6h
    assert wire.next_due is not None and ministry.next_due is not None
    assert datetime.fromisoformat(wire.next_due) - now < timedelta(minutes=6)
    assert datetime.fromisoformat(ministry.next_due) - now < timedelta(minutes=17)
    listed = run(config, "feeds", "list")
    assert "5m adaptive" in listed and "15m interval" in listed
