"""The web desk over HTTP (Starlette's test client) on a database a real poll filled.

The farm (tests/web_farm.py) is the fixture site (tests/fixtures/site/EXPECTED.md:
hits on a1 T1, a2 T4 also carried as a5, a4 T3, a7 T2, a8 T4) plus a second
outlet's copy of a1 (a11, same story) and an entry full of markup (a T1 hit).
Every test over the farm runs on SQLite and on PostgreSQL (issue 20).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from conftest import ROOT, Mailbox, Site
from test_hostile import hostile_digest
from watcher.app import tune
from watcher.cli import cli
from watcher.config.load import load_config
from watcher.errors import ConfigError
from watcher.models import Hit
from watcher.store import Storage, open_storage
from watcher.store.backends import is_url
from watcher.store.records import JudgedCount
from watcher.web.app import Desk, create_app
from watcher.web.security import hash_password, password_ok
from watcher.web.server import with_listen
from web_farm import desk_config, fill, postgres_template

pytestmark = pytest.mark.slow  # the database comes from a real poll of a loopback farm

T1, T2, T3, T4 = (
    "JWG on critical minerals",
    "India–Japan AI Dialogue",
    "UNICORN antenna",
    "Ahmedabad–Mumbai HSR",
)
LOCAL = "http://127.0.0.1:8580"
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="session")
def farm_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _, database = fill(tmp_path_factory.mktemp("web-farm"))
    return database


@pytest.fixture(scope="session")
def farm_template(farm_file: Path, postgres_server: Any) -> str:
    """The farm copied once into a PostgreSQL database that each test clones."""
    return postgres_template(postgres_server, farm_file)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.slow)])
def farm(request: pytest.FixtureRequest, farm_file: Path) -> Iterator[Path | str]:
    """The farm on each backend in turn: the SQLite file (`desk_config` copies it), or the
    URL of the test's own PostgreSQL clone of it (the same rows and ids)."""
    if request.param == "sqlite":
        yield farm_file
        return
    server = request.getfixturevalue("postgres_server")
    url, name = server.create_database(template=request.getfixturevalue("farm_template"))
    yield url
    server.drop_database(name)


class Opened:
    """A desk app over a config file, and what its reload was asked to do."""

    def __init__(self, config_path: Path) -> None:
        self.path = config_path
        self.config = load_config(config_path)
        self.store = open_storage(self.config.database)
        self.reloads = 0
        self.woken = 0

        async def reload() -> str:
            self.reloads += 1
            self.config = load_config(config_path)
            return "reloaded"

        async def wake() -> None:
            self.woken += 1

        self.desk = Desk(self.store, lambda: self.config, reload, wake)
        self.app = create_app(self.desk, session_key="a test session key")

    def client(self, base_url: str = LOCAL) -> TestClient:
        return TestClient(self.app, base_url=base_url)


@pytest.fixture
def opened(tmp_path: Path, farm: Path | str) -> Iterator[Opened]:
    desk = Opened(desk_config(tmp_path, farm))
    assert desk.store.location.startswith("postgresql://") == isinstance(farm, str)
    yield desk
    desk.store.close()


def opened_with(tmp_path: Path, farm: Path | str, web: str) -> Opened:
    return Opened(desk_config(tmp_path, farm, "[web]\n" + web))


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def titles(html: str) -> list[str]:
    return re.findall(r'<h2><a href="/hits/\d+">([^<]*)</a></h2>', html)


def stored(opened: Opened) -> Storage:
    """The desk's database, opened afresh: what any reader of it sees."""
    return open_storage(opened.config.database)


def hits(opened: Opened) -> list[Hit]:
    with stored(opened) as store:
        return store.archive.hits()


# -- the desk ------------------------------------------------------------------------


def test_desk_lists_stories_newest_first_with_outlets_snippets_and_clauses(
    opened: Opened,
) -> None:
    page = opened.client().get("/")

    assert page.status_code == 200
    shown = titles(page.text)
    assert "Viaduct work races ahead on Mumbai–Ahmedabad bullet train" in " ".join(shown)
    assert "reported by 2 outlets: Coastline Daily and Eastern Ledger" in page.text  # a2 and a5
    assert "<mark>" in page.text and "matched: <code>" in page.text
    # a1 and its copy a11 from another outlet are one story: its title shows once
    assert shown.count("India and Japan map out rare earth supply links at Tokyo talks") == 1
    assert "1 more hit in this story" in page.text


def test_desk_filters_by_term_and_feed(opened: Opened) -> None:
    client = opened.client()

    by_term = titles(client.get("/", params={"term": T3}).text)
    by_feed = client.get("/", params={"feed": "Harbour Wire"}).text

    assert len(by_term) == 1 and "Unified Complex Radio Antenna" not in by_term[0]
    assert all(T3 in line for line in re.findall(r'class="term">([^<]*)<', client.get(
        "/", params={"term": T3}).text))  # fmt: skip
    assert re.findall(r'class="term">([^<]*)<', by_feed) and all(
        term in (T2, T4) for term in re.findall(r'class="term">([^<]*)<', by_feed)
    )


def test_desk_filter_with_a_bad_date_is_a_one_line_error(opened: Opened) -> None:
    page = opened.client().get("/", params={"since": "last tuesday"})

    assert page.status_code == 400
    assert "since 'last tuesday' is neither a duration (7d, 36h) nor a date" in unescape(page.text)
    assert "Traceback" not in page.text


def test_desk_filter_at_the_end_of_time_is_a_one_line_error(opened: Opened) -> None:
    page = opened.client().get("/", params={"until": "9999-12-31"})

    assert page.status_code == 400 and "until '9999-12-31' is out of range" in unescape(page.text)


def test_desk_filter_by_date_and_score_leaves_out_older_and_weaker_hits(opened: Opened) -> None:
    client = opened.client()

    assert "No hits match" in client.get("/", params={"until": "2000-01-01"}).text
    assert "No hits match" in client.get("/", params={"min_score": "1000"}).text
    assert titles(client.get("/", params={"since": "1d"}).text)


def test_hit_page_shows_the_article_in_full_with_every_match_marked(opened: Opened) -> None:
    (viaduct,) = [found for found in hits(opened) if found.title.startswith("Viaduct work")]
    hit = viaduct.id

    page = opened.client().get(f"/hits/{hit}")

    assert page.status_code == 200
    assert "<mark>Mumbai–Ahmedabad bullet train</mark>" in page.text  # in the title
    assert "<mark>NHSRCL</mark>" in page.text  # deep in the text
    assert f'action="/stories/{viaduct.cluster}/mute"' in page.text  # its story, muted here too
    feeds = re.search(r"feed: ([^·]*) ·", page.text)
    assert feeds and sorted(feeds.group(1).split(", ")) == ["Coastline Daily", "Eastern Ledger"]


def test_unknown_hit_is_404(opened: Opened) -> None:
    client = opened.client()
    assert client.get("/hits/999999").status_code == 404
    assert client.get("/hits/abc").status_code == 404
    assert client.get("/hits/99999999999999999999999").status_code == 404


def test_a_story_or_article_number_past_any_database_id_is_404(opened: Opened) -> None:
    """Ids are 64-bit on both backends: a larger number is no such thing, not a 500 (SQLite
    cannot even take it as a parameter)."""
    client = opened.client()
    token = csrf(client.get("/").text)
    huge = 2**63

    for path in (f"/articles/{huge}/judge", f"/stories/{huge}/mute", f"/stories/{huge}/unmute"):
        answer = client.post(path, data={"csrf": token, "term": T3, "verdict": "relevant"})
        assert answer.status_code == 404 and "no such" in answer.text, path


def test_search_page_finds_articles_in_the_query_language(opened: Opened) -> None:
    page = opened.client().get("/search", params={"q": "unicorn AND Bengaluru"})

    assert page.status_code == 200
    assert "Bengaluru logistics software firm becomes newest unicorn" in page.text
    assert "<mark>" in page.text


def test_search_with_a_broken_query_says_what_is_wrong(opened: Opened) -> None:
    page = opened.client().get("/search", params={"q": '"unclosed'})

    assert page.status_code == 400
    assert "unterminated quote" in page.text and "Traceback" not in page.text


def test_digest_page_previews_each_channel(opened: Opened) -> None:
    page = opened.client().get("/digest")

    assert page.status_code == 200
    assert 'data-channel="desk"' in page.text
    hits = re.search(r'class="digest-hits">(\d+)<', page.text)
    assert hits and int(hits.group(1)) >= 5


def test_health_page_lists_each_watcher_sharing_the_database_and_one_that_stopped_beating(
    opened: Opened,
) -> None:
    """Several `watcher run` share one PostgreSQL database: the desk shows each, as `watcher
    status` does, and marks one that stopped beating (killed: its feeds return later)."""
    now = datetime.now(UTC)
    with stored(opened) as store:
        store.heartbeat.joined("desk-a.example", 4101, now - timedelta(minutes=10))
        store.heartbeat.joined("desk-b.example", 4102, now)
        store.heartbeat.beat_process("desk-b.example", 4102, now, 3)

    page = unescape(opened.client().get("/health").text)

    assert "desk-a.example pid 4101: STOPPED BEATING at" in page
    assert "desk-b.example pid 4102: beat at" in page and "3 feeds in hand" in page


@pytest.mark.parametrize("farm", ["postgres"], indirect=True)
def test_a_dropped_postgresql_connection_costs_the_desk_one_page(opened: Opened) -> None:
    """The server restarted or the network dropped: that page is a 503 naming the database,
    the next one is read on a new connection."""
    import psycopg

    client = opened.client()
    assert client.get("/").status_code == 200
    with psycopg.connect(str(opened.config.database), autocommit=True) as admin:
        pid = opened.store.db.info.backend_pid  # type: ignore[attr-defined]
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])

    lost = client.get("/")
    again = client.get("/")

    assert lost.status_code == 503 and "database error" in lost.text
    assert "Traceback" not in lost.text
    assert again.status_code == 200 and titles(again.text) == titles(client.get("/").text) != []


def test_health_page_shows_each_feed_and_the_outbox(opened: Opened) -> None:
    page = opened.client().get("/health")

    assert page.status_code == 200
    for name in ("Coastline Daily", "Eastern Ledger", "Harbour Wire", "Bay Courier"):
        assert f"<td>{name}</td>" in page.text
    assert "0 pending · 0 sent · 0 failed" in page.text


def test_retry_button_gives_a_failed_digest_a_new_round_and_wakes_the_sender(
    opened: Opened,
) -> None:
    now = datetime.now(UTC)
    with stored(opened) as store:
        digest = store.outbox.create("desk", now, since=datetime(2000, 1, 1, tzinfo=UTC))
        assert digest is not None
        store.outbox.mark_failed_attempt(digest, "550 mailbox unavailable", None)
    client = opened.client()
    page = client.get("/health")
    assert "550 mailbox unavailable" in page.text and "1 failed" in page.text

    done = client.post("/health/retry", data={"csrf": csrf(page.text)})

    assert done.status_code == 200  # followed to the health page
    assert "1 pending · 0 sent · 0 failed" in done.text
    assert opened.woken == 1


# -- triage ------------------------------------------------------------------------


def hit_titled(opened: Opened, start: str) -> Hit:
    (found,) = [hit for hit in hits(opened) if hit.title.startswith(start)]
    return found


def test_marking_a_hit_read_from_the_desk_hides_it_from_unread(opened: Opened) -> None:
    client = opened.client()
    target = hit_titled(opened, "Japan agrees")
    desk = client.get("/", params={"read": "unread"})

    done = client.post(
        f"/hits/{target.id}/read",
        data={"csrf": csrf(desk.text), "back": "/?read=unread", "read": "1"},
    )

    assert done.status_code == 200 and done.url.path == "/" and done.url.query == b"read=unread"
    assert "Japan agrees" not in " ".join(titles(done.text))
    assert "Japan agrees" in " ".join(titles(client.get("/", params={"read": "read"}).text))
    assert hit_titled(opened, "Japan agrees").read


def test_judging_a_hit_not_relevant_shows_on_the_desk_and_in_the_term_editor(
    opened: Opened,
) -> None:
    client = opened.client()
    target = hit_titled(opened, "Japan agrees")
    token = csrf(client.get("/").text)

    client.post(f"/hits/{target.id}/judge", data={"csrf": token, "verdict": "not_relevant"})

    judged = client.get("/", params={"verdict": "not_relevant"}).text
    assert titles(judged) == [target.title] and "not relevant</span>" in judged
    editor = counts(client.get("/tune", params={"term": T3}).text)
    assert editor["not-relevant"] == "1"  # the saved query still catches it
    assert (
        counts(client.get("/tune/preview", params={"term": T3, "query": "Bengaluru"}).text)[
            "not-relevant"
        ]
        == "0"
    )


def test_muting_a_story_and_snoozing_a_term_from_the_desk(opened: Opened) -> None:
    client = opened.client()
    story = hit_titled(opened, "Viaduct work")
    token = csrf(client.get("/").text)

    client.post(f"/stories/{story.cluster}/mute", data={"csrf": token})
    client.post("/terms/snooze", data={"csrf": token, "term": T2, "for": "7d"})

    page = client.get("/").text
    assert "muted for good" in page and "story muted" in page
    assert f"term {T2} snoozed until" in page
    client.post(f"/stories/{story.cluster}/unmute", data={"csrf": token})
    client.post("/terms/wake", data={"csrf": token, "term": T2})
    page = client.get("/").text
    assert "muted for good" not in page and "snoozed until" not in page


def test_a_triage_error_is_a_one_line_message(opened: Opened) -> None:
    client = opened.client()
    token = csrf(client.get("/").text)

    wrong = client.post("/terms/snooze", data={"csrf": token, "term": T2, "for": "soon"})

    assert wrong.status_code == 400 and "snooze for" in wrong.text
    assert "Traceback" not in wrong.text
    hit = hit_titled(opened, "Japan agrees")
    odd = client.post(f"/hits/{hit.id}/judge", data={"csrf": token, "verdict": "meh"})
    assert odd.status_code == 400 and "unknown verdict" in unescape(odd.text)
    assert hit_titled(opened, "Japan agrees").verdict is None


def test_triage_never_redirects_off_the_site(opened: Opened) -> None:
    client = opened.client()
    target = hit_titled(opened, "Japan agrees")
    token = csrf(client.get("/").text)

    for back in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        done = client.post(
            f"/hits/{target.id}/read",
            data={"csrf": token, "back": back},
            follow_redirects=False,
        )
        assert done.headers["location"] == f"/hits/{target.id}", back


def test_a_search_result_judged_relevant_for_a_term_that_missed_it_is_kept(
    opened: Opened,
) -> None:
    client = opened.client()
    page = client.get("/search", params={"q": "unicorn AND Bengaluru"})
    (article,) = re.findall(r'action="/articles/(\d+)/judge"', page.text)

    done = client.post(
        f"/articles/{article}/judge",
        data={"csrf": csrf(page.text), "term": T3, "verdict": "relevant", "back": "/search"},
    )

    assert done.status_code == 200
    with stored(opened) as store:
        assert store.marks.verdict(int(article), T3) == "relevant"
        assert store.marks.judged_counts() == [JudgedCount(T3, "relevant", False, 1)]


def test_judged_page_turns_the_desks_marks_into_precision_and_recall(opened: Opened) -> None:
    client = opened.client()
    assert "Nothing judged yet" in client.get("/judged").text
    mast = hit_titled(opened, "Japan agrees")
    search = client.get("/search", params={"q": "unicorn AND Bengaluru"})
    (startup,) = re.findall(r'action="/articles/(\d+)/judge"', search.text)
    token = csrf(search.text)

    client.post(f"/hits/{mast.id}/judge", data={"csrf": token, "verdict": "relevant"})
    client.post(
        f"/articles/{startup}/judge", data={"csrf": token, "term": T3, "verdict": "relevant"}
    )  # say the startup story counted: a miss
    page = client.get("/judged").text

    row = re.search(rf'<tr data-term="{T3}">(.*?)</tr>', page, flags=re.S)
    assert row, page
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", row.group(1))
    assert cells[:9] == [T3, "1", "1", "0", "0", "1.00", "1", "0", "0.50"]


def test_the_desk_shows_the_same_hits_and_articles_on_sqlite_and_postgresql(
    tmp_path: Path, farm_file: Path, farm_template: str, postgres_server: Any
) -> None:
    """The farm on both backends, triaged alike: every filter lists the same hits in the
    same order, searches find the same articles (ranked by each index: bm25 on SQLite,
    newest first on PostgreSQL) and the term editor counts the same."""
    url, name = postgres_server.create_database(template=farm_template)
    desks = []
    for backend, where in (("sqlite", farm_file), ("postgres", url)):
        (tmp_path / backend).mkdir()
        desks.append(Opened(desk_config(tmp_path / backend, where)))
    try:
        clients = [desk.client() for desk in desks]
        for desk, client in zip(desks, clients, strict=True):
            token = csrf(client.get("/").text)
            read, judged = hit_titled(desk, "Japan agrees"), hit_titled(desk, "Viaduct work")
            client.post(f"/hits/{read.id}/read", data={"csrf": token, "read": "1"})
            client.post(f"/hits/{judged.id}/judge", data={"csrf": token, "verdict": "important"})
            client.post("/terms/snooze", data={"csrf": token, "term": T2, "for": "7d"})

        def seen(client: TestClient, path: str) -> tuple[list[str], list[str], dict[str, str]]:
            """The hits a page lists in order, the articles it shows, the editor's counts."""
            page = client.get(path)
            assert page.status_code == 200, path
            hits = re.findall(r'<h[23]><a href="/hits/(\d+)">', page.text)
            return hits, sorted(re.findall(r"article (\d+) ·", page.text)), counts(page.text)

        paths = [
            "/", "/?read=unread", "/?read=read", "/?verdict=important", "/?verdict=none",
            f"/?term={T4}", "/?feed=Eastern Ledger", "/?min_score=3", "/?sort=score",
            "/?sort=published", "/?since=3650d&until=2100-01-01", "/search?q=India",
            "/search?q=unicorn OR antenna", "/search?q=Japan NEAR/5 minerals",
            "/search?q=title:India -Vietnam", '/search?q="rare earth*"',
            f"/tune?term={T1}", f"/tune/preview?term={T1}&query=Tokyo OR minerals",
        ]  # fmt: skip
        for path in paths:
            on_sqlite, on_postgres = (seen(client, path) for client in clients)
            assert on_sqlite == on_postgres, path
        assert seen(clients[0], "/?verdict=important")[0] == [str(judged.id)]
        assert len(seen(clients[0], "/?read=read")[0]) == 1
        assert len(seen(clients[0], "/search?q=India")[1]) >= 3
    finally:
        for desk in desks:
            desk.store.close()
        postgres_server.drop_database(name)


# -- signed links from digests -----------------------------------------------------------


def signed(opened: Opened, hit_id: int) -> str:
    from watcher.app.links import not_relevant_url

    return not_relevant_url(opened.config, opened.store, hit_id)


def test_signed_link_shows_a_confirm_page_without_login_and_marks_only_on_post(
    guarded: Opened,
) -> None:
    target = hit_titled(guarded, "Japan agrees")
    other = hit_titled(guarded, "Viaduct work")
    link = signed(guarded, target.id)
    client = guarded.client("http://192.0.2.10:8580")

    page = client.get(link)  # as a mail scanner or the reader's browser fetches it

    assert page.status_code == 200 and "Mark this hit not relevant" in page.text
    assert hit_titled(guarded, "Japan agrees").verdict is None  # a GET marks nothing
    done = client.post(link, data={"csrf": csrf(page.text)})
    assert done.status_code == 200 and "Marked not relevant" in done.text
    assert hit_titled(guarded, "Japan agrees").verdict == "not_relevant"
    assert hit_titled(guarded, "Viaduct work").verdict is None
    assert other.id != target.id
    assert client.get("/", follow_redirects=False).status_code == 303  # still no login


def test_the_not_relevant_link_of_an_emailed_digest_works_on_the_desk(
    tmp_path: Path, farm: Path | str, mailbox: Mailbox
) -> None:
    config = desk_config(tmp_path, farm, f'[web]\nurl = "{LOCAL}"\n')
    text = config.read_text(encoding="utf-8").replace("port = 9\n", f"port = {mailbox.port}\n")
    config.write_text(text, encoding="utf-8")
    sent = CliRunner().invoke(cli, ["--config", str(config), "digest", "send"])
    assert sent.exit_code == 0, sent.output
    message = email.message_from_bytes(mailbox.messages[0].data, policy=email.policy.default)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    links = re.findall(r"not relevant: (\S+/hits/(\d+)/not-relevant\?sig=\w+)", body.get_content())
    assert len(links) >= 5
    link, number = links[0]
    desk = Opened(config)
    client = desk.client()

    page = client.get(link)
    done = client.post(link, data={"csrf": csrf(page.text)})

    assert done.status_code == 200 and "Marked not relevant" in done.text
    verdicts = {hit.id: hit.verdict for hit in hits(desk)}
    assert verdicts.pop(int(number)) == "not_relevant"
    assert set(verdicts.values()) == {None}
    desk.store.close()


def test_signed_link_for_one_hit_does_not_mark_another(guarded: Opened) -> None:
    target = hit_titled(guarded, "Japan agrees")
    other = hit_titled(guarded, "Viaduct work")
    link = signed(guarded, target.id).replace(f"/hits/{target.id}/", f"/hits/{other.id}/")
    client = guarded.client("http://192.0.2.10:8580")

    assert client.get(link).status_code == 403
    token = csrf(client.get(signed(guarded, target.id)).text)
    assert client.post(link, data={"csrf": token}).status_code == 403
    assert client.get(link.split("?")[0] + "?sig=forged").status_code == 403
    assert client.get(link.split("?")[0]).status_code == 403
    assert hit_titled(guarded, "Viaduct work").verdict is None


def test_signed_link_on_a_read_only_desk_marks_nothing(tmp_path: Path, farm: Path | str) -> None:
    desk = opened_with(tmp_path, farm, "read_only = true\n")
    target = hit_titled(desk, "Japan agrees")
    client = desk.client()
    page = client.get(signed(desk, target.id))

    assert "read-only" in page.text and "<button>Not relevant" not in page.text
    assert client.post(signed(desk, target.id), data={"csrf": "x"}).status_code == 403
    assert hit_titled(desk, "Japan agrees").verdict is None


# -- the term editor ------------------------------------------------------------------


def counts(html: str) -> dict[str, str]:
    return dict(re.findall(r'id="count-([a-z-]+)">([0-9+]+)<', html))


def test_term_editor_preview_counts_new_and_lost_articles(opened: Opened) -> None:
    client = opened.client()

    saved = counts(client.get("/tune", params={"term": T3}).text)

    def preview(query: str) -> dict[str, str]:
        return counts(client.get("/tune/preview", params={"term": T3, "query": query}).text)

    widened = preview('"Unified Complex Radio Antenna" OR unicorn')
    swapped = preview("unicorn AND startup")

    assert saved == {"caught": "1", "new": "0", "lost": "0", "not-relevant": "0"}
    assert widened["caught"] == "2" and widened["new"] == "1" and widened["lost"] == "0"
    assert swapped["new"] == "1" and swapped["lost"] == "1"  # the startup in, the mast out


def test_term_editor_explains_why_a_pasted_text_misses(opened: Opened) -> None:
    page = opened.client().get(
        "/tune",
        params={"term": T3, "text": "The unicorn startup raised money for its antenna business."},
    )

    assert page.status_code == 200
    assert "does not match:" in page.text and "not found" in page.text


def test_term_editor_explains_a_page_fetched_by_its_address(
    opened: Opened, fixture_site: Site
) -> None:
    client = opened.client()

    hit = client.get("/tune", params={"term": T3, "url": f"{fixture_site.base}/articles/a4.html"})
    miss = client.get("/tune", params={"term": T3, "url": f"{fixture_site.base}/articles/a3.html"})
    gone = client.get("/tune", params={"term": T3, "url": f"{fixture_site.base}/articles/a8.html"})

    assert "matches, score" in hit.text and "<mark>Unified Complex Radio Antenna</mark>" in hit.text
    assert "does not match:" in miss.text
    assert gone.status_code == 502 and "a8.html" in gone.text and "Traceback" not in gone.text


def test_term_editor_with_a_broken_query_shows_the_error_not_a_trace(opened: Opened) -> None:
    page = opened.client().get("/tune/preview", params={"term": T3, "query": "(unicorn"})

    assert page.status_code == 200
    assert 'class="error"' in page.text and "Traceback" not in page.text


def test_saving_a_term_rewrites_its_query_keeps_comments_and_reloads(opened: Opened) -> None:
    before = opened.path.read_text(encoding="utf-8")
    comments = [line for line in before.splitlines() if line.startswith("#")]
    client = opened.client()
    page = client.get("/tune", params={"term": T3})

    done = client.post(
        "/tune/save", data={"csrf": csrf(page.text), "term": T3, "query": '"radio mast" OR NORA'}
    )

    assert done.status_code == 200 and "Saved. reloaded" in done.text
    assert opened.reloads == 1
    after = opened.path.read_text(encoding="utf-8")
    assert [line for line in after.splitlines() if line.startswith("#")] == comments
    assert load_config(opened.path).select_terms([T3])[0].query == '"radio mast" OR NORA'


def test_saving_a_broken_query_leaves_the_config_alone(opened: Opened) -> None:
    before = opened.path.read_bytes()
    client = opened.client()
    page = client.get("/tune", params={"term": T3})

    done = client.post(
        "/tune/save", data={"csrf": csrf(page.text), "term": T3, "query": "(unclosed"}
    )

    assert done.status_code == 400 and "UNICORN antenna" in done.text
    assert opened.path.read_bytes() == before and opened.reloads == 0


def test_saving_where_the_config_cannot_be_written_says_so(opened: Opened) -> None:
    """A read-only config folder (systemd's ProtectSystem=strict) is a message, not a 500."""
    (opened.path.parent / f".{opened.path.name}.edit").mkdir()  # unwritable, even for root
    before = opened.path.read_bytes()
    client = opened.client()
    page = client.get("/tune", params={"term": T3})

    done = client.post("/tune/save", data={"csrf": csrf(page.text), "term": T3, "query": "unicorn"})

    assert done.status_code == 400 and "cannot write the config" in done.text
    assert opened.path.read_bytes() == before and opened.reloads == 0


def test_a_saved_term_reloads_each_service_on_this_host_and_none_on_another(
    opened: Opened,
) -> None:
    """A database several hosts share (PostgreSQL) notes processes elsewhere, whose pids
    mean nothing here: the desk signals (SIGHUP) only the services running on its host,
    every one of them. Stand-ins: `sleep`, which SIGHUP ends."""
    here = [subprocess.Popen(["sleep", "60"]) for _ in range(2)]
    elsewhere = subprocess.Popen(["sleep", "60"])  # the pid a service has on another host
    now = datetime.now(UTC)
    try:
        with stored(opened) as store:
            for process in here:
                store.heartbeat.started(process.pid, now)
                store.heartbeat.joined(socket.gethostname(), process.pid, now)
            store.heartbeat.started(elsewhere.pid, now)  # the service started last
            store.heartbeat.joined("another-host.example", elsewhere.pid, now)

        told = tune.reload_service(opened.store)

        assert sorted(told) == sorted(process.pid for process in here)
        assert [process.wait(timeout=10) for process in here] == [-signal.SIGHUP] * 2
        assert elsewhere.poll() is None
    finally:
        for process in [*here, elsewhere]:
            process.kill()
            process.wait()


def test_a_query_over_several_lines_is_saved_as_one_multiline_string(opened: Opened) -> None:
    client = opened.client()
    page = client.get("/tune", params={"term": T3})
    query = '"Unified Complex Radio Antenna"\r\nOR "stealth mast"'

    client.post("/tune/save", data={"csrf": csrf(page.text), "term": T3, "query": query})

    written = opened.path.read_text(encoding="utf-8")
    assert 'query = """' not in written
    assert "query = '''\"Unified Complex Radio Antenna\"\nOR \"stealth mast\"'''" in written
    assert load_config(opened.path).select_terms([T3])[0].query == query.replace("\r", "")


# -- security ----------------------------------------------------------------------


def post_routes(opened: Opened) -> list[str]:
    """Every path a form posts to (but the login), with a real hit's and story's id."""
    hit = next(found for found in hits(opened) if found.cluster is not None)
    paths = sorted(
        route.path.replace("{hit}", str(hit.id))
        .replace("{cluster}", str(hit.cluster))
        .replace("{article}", "1")
        for route in opened.app.routes
        if "POST" in (getattr(route, "methods", None) or ()) and route.path != "/login"
    )
    link = signed(opened, hit.id)  # the signed link's own authority, valid
    return [link if path.endswith("/not-relevant") else path for path in paths]


def test_every_form_post_without_its_csrf_token_is_refused(opened: Opened) -> None:
    client = opened.client()
    token = csrf(client.get("/tune", params={"term": T3}).text)
    routes = post_routes(opened)

    assert {"/tune/save", "/health/retry", "/terms/snooze", "/terms/wake"} <= set(routes)
    assert any("/not-relevant?sig=" in path for path in routes)
    assert len(routes) == 11
    for path in routes:
        form = {"term": T3, "query": "x", "verdict": "not_relevant", "for": "1d"}
        assert client.post(path, data=form).status_code == 403, path
        assert client.post(path, data={**form, "csrf": token + "x"}).status_code == 403, path
    assert opened.reloads == 0
    assert all(not (hit.read or hit.verdict or hit.muted or hit.snoozed) for hit in hits(opened))


def test_a_form_posted_from_another_browser_session_is_refused(opened: Opened) -> None:
    token = csrf(opened.client().get("/tune", params={"term": T3}).text)
    stranger = opened.client()  # no cookie of the session the token belongs to

    assert stranger.post("/health/retry", data={"csrf": token}).status_code == 403


def test_session_cookie_is_httponly_lax_and_secure_behind_https(
    tmp_path: Path, farm: Path | str
) -> None:
    local = opened_with(tmp_path / "a", farm, "") if (tmp_path / "a").mkdir() is None else None
    assert local is not None
    cookie = local.client().get("/").headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    (tmp_path / "b").mkdir()
    proxied = opened_with(tmp_path / "b", farm, 'url = "https://desk.example.org"\n')
    cookie = proxied.client().get("/").headers["set-cookie"].lower()
    assert "secure" in cookie and "httponly" in cookie


def test_a_page_reached_by_another_host_name_is_refused_on_loopback(opened: Opened) -> None:
    """DNS rebinding: evil.example resolved to 127.0.0.1 reads nothing."""
    assert opened.client("http://evil.example:8580").get("/").status_code == 400


def test_pages_carry_a_script_policy_and_no_framing(opened: Opened) -> None:
    headers = opened.client().get("/").headers

    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"


@pytest.fixture
def guarded(tmp_path: Path, farm: Path | str) -> Iterator[Opened]:
    desk = opened_with(
        tmp_path, farm, f'listen = "0.0.0.0:8580"\npassword_hash = "{hash_password(PASSWORD)}"\n'
    )
    yield desk
    desk.store.close()


def test_off_loopback_every_page_asks_for_the_login_first(guarded: Opened) -> None:
    client = guarded.client("http://192.0.2.10:8580")

    for path in ("/", "/health", "/tune", "/search", "/digest", "/hits/1"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/login", path
    assert client.post("/health/retry", data={}).status_code == 403
    assert client.post("/tune/save", data={"term": T3, "query": "x"}).status_code == 403


def test_off_loopback_a_wrong_password_is_refused_and_the_right_one_lets_in(
    guarded: Opened,
) -> None:
    client = guarded.client("http://192.0.2.10:8580")
    form = client.get("/login").text

    wrong = client.post("/login", data={"csrf": csrf(form), "password": "guess"})
    assert wrong.status_code == 403 and "Wrong password" in wrong.text
    assert client.get("/", follow_redirects=False).status_code == 303

    right = client.post("/login", data={"csrf": csrf(wrong.text), "password": PASSWORD})
    assert right.status_code == 200 and titles(right.text)
    assert client.get("/health").status_code == 200


def test_a_login_without_the_csrf_token_is_refused(guarded: Opened) -> None:
    client = guarded.client("http://192.0.2.10:8580")
    client.get("/login")

    assert client.post("/login", data={"password": PASSWORD}).status_code == 403


def test_listening_off_loopback_without_a_password_is_refused() -> None:
    from watcher.config.web import WebConfig

    with pytest.raises(ConfigError, match=r"--listen '0\.0\.0\.0:8580' is reachable from other"):
        with_listen(WebConfig(), "0.0.0.0:8580")
    assert with_listen(WebConfig(), "127.0.0.1:9000").url == "http://127.0.0.1:9000"


def test_read_only_desk_hides_and_refuses_every_write(tmp_path: Path, farm: Path | str) -> None:
    desk = opened_with(tmp_path, farm, "read_only = true\n")
    client = desk.client()
    before = desk.path.read_bytes()
    editor = client.get("/tune", params={"term": T3}).text
    page = client.get("/").text

    assert "read-only" in editor and 'action="/tune/save"' not in editor
    assert 'name="csrf"' not in page  # no form to post
    form = {"term": T3, "query": "x", "verdict": "not_relevant", "for": "1d"}
    for path in post_routes(desk):
        if path == "/logout":  # not a write: a shared screen may still log out
            continue
        refused = client.post(path, data=form)
        assert refused.status_code == 403 and "this desk is read-only" in refused.text, path
    assert desk.path.read_bytes() == before and desk.reloads == 0
    assert "Mark read" not in client.get("/").text
    assert all(not (hit.read or hit.verdict or hit.muted or hit.snoozed) for hit in hits(desk))


def overwrite(opened: Opened, sql: str, values: list[Any]) -> None:
    """Change stored rows as no store call would (a test's own damage), on either backend:
    `sql` has SQLite's `?` placeholders. PostgreSQL's text cannot hold NUL: its store keeps
    U+FFFD instead (store/postgres/articles.py), and so does this."""
    with stored(opened) as store:
        if is_url(opened.config.database):
            sql = sql.replace("?", "%s")
            values = [v.replace("\x00", "\ufffd") if isinstance(v, str) else v for v in values]
        store.db.execute(sql, values)  # type: ignore[attr-defined]


def test_hostile_feed_text_renders_inert(opened: Opened) -> None:
    """The digest's hostile hit (tests/test_hostile.py), written over a stored one: markup,
    a template, a javascript: link and control characters show as text on every page."""
    bad = hostile_digest().groups[0].stories[0].hits[0]
    (victim,) = [hit for hit in hits(opened) if hit.title.startswith("Japan agrees")]
    overwrite(
        opened,
        "UPDATE articles SET title = ?, url = ?, text = ? WHERE id ="
        " (SELECT article_id FROM hits WHERE id = ?)",
        [bad.title, bad.url, bad.snippet + " The UNICORN mast.", victim.id],
    )
    overwrite(opened, "UPDATE hits SET snippet = ? WHERE id = ?", [bad.snippet, victim.id])
    client = opened.client()

    pages = [
        client.get("/").text,
        client.get(f"/hits/{victim.id}").text,
        client.get("/search", params={"q": "UNICORN"}).text,
    ]

    for page in pages:
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "{{ 7*7 }}" in page  # shown, never run as a template
        assert not re.search(r"""(href|src)\s*=\s*["']?javascript:""", page)
        assert "\x00" not in page and "\x1b" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in pages[1]


# -- the commands ----------------------------------------------------------------------


def test_web_help_explains_the_reverse_proxy_and_systemd() -> None:
    result = CliRunner().invoke(cli, ["web", "--help"], catch_exceptions=False)

    words = " ".join(result.output.split())
    assert result.exit_code == 0
    assert "reverse proxy" in words and "systemd service" in words
    assert "watcher web hash-password" in words


def test_hash_password_prints_an_argon2_hash_that_verifies() -> None:
    result = CliRunner().invoke(
        cli, ["web", "hash-password", "--password-stdin"], input=PASSWORD + "\n"
    )

    assert result.exit_code == 0
    hashed = result.output.strip()
    assert hashed.startswith("$argon2id$")
    assert password_ok(hashed, PASSWORD) and not password_ok(hashed, "guess")


def test_hash_password_asks_twice_when_typed() -> None:
    result = CliRunner().invoke(cli, ["web", "hash-password"], input=f"{PASSWORD}\n{PASSWORD}\n")

    assert result.exit_code == 0
    assert password_ok(result.output.strip().splitlines()[-1], PASSWORD)


def test_the_commands_of_docs_web_md_work_as_written(tmp_path: Path) -> None:
    """Each ```sh line of docs/web.md: the servers run in test_web_browser.py, the rest here."""
    doc = (ROOT / "docs" / "web.md").read_text(encoding="utf-8")
    lines = [
        line.strip()
        for block in re.findall(r"^```sh\n(.*?)^```", doc, flags=re.S | re.M)
        for line in block.splitlines()
        if line.strip()
    ]
    assert lines[:2] == ["watcher web", "watcher web --listen 127.0.0.1:9000"]
    assert lines[2] == "watcher web hash-password"  # typed: test_hash_password_asks_twice
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    for line in lines[3:]:
        done = subprocess.run(
            ["bash", "-c", line], capture_output=True, text=True, env=env, cwd=tmp_path
        )
        assert done.returncode == 0, (line, done.stderr)
        assert done.stdout.startswith("$argon2id$v=19$m=65536,")


def test_the_desk_works_from_a_plain_event_loop(opened: Opened) -> None:
    """The app's store calls run on the store's thread, whoever runs the loop."""

    async def probe() -> int:
        found = await opened.desk.run(opened.store.archive.stored_feeds)
        return len(found)

    assert asyncio.run(probe()) == 4
