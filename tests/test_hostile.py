"""Hostile feed and page bytes: each ends as a clear error or a clean result, never a crash.

The fuzz tests run WATCHER_HYPOTHESIS_EXAMPLES examples (default 200; CI uses
the default, a longer hunt sets more).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
import tracemalloc
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import Site, write_config
from watcher.app.oneshot import poll_once
from watcher.app.poll import fingerprint
from watcher.cli.render import render_hits
from watcher.config.channels import EmailSettings
from watcher.config.load import FeedConfig, load_config
from watcher.delivery.digest import Digest, Story, TermGroup, render, to_json
from watcher.delivery.email import message
from watcher.errors import ExtractError, FeedError, QueryCostError
from watcher.match.terms import Matcher, compile_term
from watcher.models import Hit, PollResult
from watcher.sources.extract import Extractor
from watcher.sources.feed import parse_feed, plain_text
from watcher.store import Store, open_storage
from watcher.store.articles import MAX_TITLE_CHARS
from watcher.store.protocols import Storage

EXAMPLES = int(os.environ.get("WATCHER_HYPOTHESIS_EXAMPLES", "200"))
URL = "https://wire.example/feed.xml"
# What a terminal obeys: C0 and C1 controls, DEL, bidi overrides and isolates.
TERMINAL_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

RSS_ITEM = """<item><title>{title}</title><link>https://wire.example/{slug}</link>
<guid>{slug}</guid><description>Port news.</description>{extra}</item>"""


def rss(*items: str, head: str = "", declaration: str = '<?xml version="1.0"?>') -> str:
    return (
        f'{declaration}{head}<rss version="2.0"><channel><title>Wire</title>'
        f"<link>https://wire.example/</link><description>d</description>{''.join(items)}"
        "</channel></rss>"
    )


def item(title: str = "Dredging resumes", slug: str = "a1", extra: str = "") -> str:
    return RSS_ITEM.format(title=title, slug=slug, extra=extra)


def test_an_external_entity_reads_no_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    head = f'<!DOCTYPE rss [<!ENTITY leak SYSTEM "file://{secret}">]>'
    content = rss(item(title="Port &leak; news"), head=head).encode()

    try:
        parsed = parse_feed(content, URL)
    except FeedError:
        return  # refusing the document is as good
    assert all("TOP-SECRET" not in entry.title + entry.summary for entry in parsed.entries)


def test_a_billion_laughs_document_neither_hangs_nor_eats_memory() -> None:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">'
        for n in range(1, 10)
    )
    content = rss(item(title="&lol9;"), head=f"<!DOCTYPE rss [{entities}]>").encode()

    tracemalloc.start()
    # CPU time, not wall time: on a loaded machine the wall clock runs several times
    # faster than this test's work, and a real expansion would take minutes of CPU.
    started = time.process_time()
    try:
        parsed = parse_feed(content, URL)
        titles = [entry.title for entry in parsed.entries]
    except FeedError:
        titles = []
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

    assert time.process_time() - started < 10
    assert peak < 200_000_000  # a billion "lol"s would be 3 GB
    assert all(len(title) < 1_000_000 for title in titles)


def test_a_utf16_feed_with_a_byte_order_mark_is_read() -> None:
    text = rss(
        item(title="港湾の浚渫が再開"), declaration='<?xml version="1.0" encoding="utf-16"?>'
    )

    parsed = parse_feed(text.encode("utf-16"), URL)

    assert [entry.title for entry in parsed.entries] == ["港湾の浚渫が再開"]


def test_a_string_is_never_taken_for_a_path() -> None:
    with pytest.raises(TypeError, match="takes the fetched bytes, not str"):
        parse_feed("/etc/passwd", URL)  # type: ignore[arg-type]


def test_entries_without_links_or_dates_and_repeated_guids_are_parsed() -> None:
    content = rss(
        "<item><title>No link, no date</title><description>Text only.</description></item>",
        item(slug="same"),
        item(title="Same guid again", slug="same"),
    ).encode()

    parsed = parse_feed(content, URL)

    first = parsed.entries[0]
    assert (first.title, first.link, first.published) == (
        "No link, no date",
        None,
        None,
    )
    assert parsed.entries[1].key == parsed.entries[2].key


@pytest.mark.slow
def test_an_entry_dated_in_the_future_is_stored_without_that_date(
    site: Site, tmp_path: Path
) -> None:
    future = "<pubDate>Fri, 01 Jan 2100 09:00:00 GMT</pubDate>"
    today = f"<pubDate>{datetime.now(UTC):%a, %d %b %Y %H:%M:%S} GMT</pubDate>"
    site.put("/wire.rss", rss(item(slug="later", extra=future), item(slug="now", extra=today)))
    site.fallback = None
    config = load_config(write_config(tmp_path, [("Wire", f"{site.base}/wire.rss")]))

    asyncio.run(poll_once(config, config.feeds, workers=0))

    with Store.open(config.db_path) as store:
        rows = store.db.execute("SELECT key, published FROM articles ORDER BY key").fetchall()
    assert [(key.rsplit("/", 1)[1], published is None) for key, published in rows] == [
        ("later", True),  # 2100 is dropped
        ("now", False),
    ]


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(max_size=2000),
        st.text(max_size=500).map(lambda body: rss(item(title=body)).encode()),
        st.text(max_size=500).map(lambda body: ('{"version": "x", "items": [' + body).encode()),
    )
)
@example(b"<item<title</BODY<")  # feedparser gave the summary None: a TypeError
def test_any_feed_bytes_parse_or_raise_feed_error(content: bytes) -> None:
    try:
        parsed = parse_feed(content, URL)
    except FeedError as exc:
        assert str(exc)
        return
    assert all(isinstance(entry.title, str) for entry in parsed.entries)


@settings(max_examples=EXAMPLES // 4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(max_size=3000),
        st.text(max_size=1000).map(
            lambda body: f"<html><body><p>{body}</p></body></html>".encode()
        ),
    )
)
def test_any_page_bytes_extract_or_raise_extract_error(page: bytes) -> None:
    async def extract() -> None:
        with Extractor(0) as extractor:
            try:
                found = await extractor.extract(page, "https://wire.example/story")
            except ExtractError as exc:
                assert "wire.example/story" in str(exc)
                return
            assert found is None or found.text.strip()

    asyncio.run(extract())


def test_a_query_built_to_be_slow_is_bounded_by_the_text() -> None:
    text = "alpha beta gamma " * 5000  # 85 kB, every word a match of both sides
    matcher = Matcher([compile_term("slow", "(alpha OR beta) NEAR/100 (alpha OR beta)")])

    started = time.monotonic()
    [found] = matcher.match("Alpha", text)

    assert time.monotonic() - started < 10  # ~1.2 s here; before NEAR was capped, minutes
    assert found.count == 10_000  # every alpha and every beta


@pytest.mark.slow
def test_a_feed_title_of_a_megabyte_is_stored_cut(site: Site, tmp_path: Path) -> None:
    site.put("/wire.rss", rss(item(title="Port " * 200_000 + "UNICORN mast")))
    site.fallback = None
    config = load_config(write_config(tmp_path, [("Wire", f"{site.base}/wire.rss")]))

    asyncio.run(poll_once(config, config.feeds, workers=0))

    with Store.open(config.db_path) as store:
        [(title,)] = store.db.execute("SELECT title FROM articles").fetchall()
    assert len(title) == MAX_TITLE_CHARS
    assert title.startswith("Port Port ") and title.endswith("…")


# Huge titles: a short run of any characters (controls, bidi, wide, combining) repeated.
huge_titles = st.tuples(st.text(min_size=1, max_size=12), st.integers(20_000, 150_000)).map(
    lambda run: (run[0] * (run[1] // len(run[0]) + 1))[: run[1]]
)


@settings(max_examples=EXAMPLES // 10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(huge_titles)
def test_a_huge_title_renders_in_every_format_without_controls_or_overflow(title: str) -> None:
    hit = hostile_digest().groups[0].stories[0].hits[0]
    hits = [replace(hit, title=title, url="https://wire.example/a", feed="Wire")]

    started = time.monotonic()
    table = render_hits(hits, "table", width=100)
    as_csv, as_json = render_hits(hits, "csv"), render_hits(hits, "json")

    assert time.monotonic() - started < 10  # one linear pass; trimming a char at a time: hours
    assert max(map(len, table.splitlines())) <= 100  # a wide character takes 1 of len, 2 columns
    assert not any(TERMINAL_CONTROLS.search(line) for line in table.splitlines())
    assert not TERMINAL_CONTROLS.search(as_csv.replace("\n", "").replace("\t", ""))
    assert not TERMINAL_CONTROLS.search(as_json.replace("\n", ""))
    assert json.loads(as_json)[0]["title"] == title


def hostile_digest() -> Digest:
    bad = Hit(
        id=7, term="Ports", url="javascript:alert(document.cookie)",
        title="{{ 7*7 }} {% raw %}<script>alert(1)</script>\x00\r\nBcc: all@example.org",
        published=None, feed="Wire\x1b[2J", snippet="{{ config }} <img src=x onerror=alert(1)>",
        score=1.0, found_at="2026-11-23T10:00:00+00:00", source="summary",
    )  # fmt: skip
    story = Story(cluster=None, outlets=1, hits=(bad,))
    return Digest(
        id="msg_1", channel="desk", created_at="2026-11-23T10:00:00+00:00",
        groups=(TermGroup(term="Ports", stories=(story,)),),
    )  # fmt: skip


def test_feed_text_is_data_in_every_digest_format() -> None:
    rendered = render(hostile_digest())
    body = json.loads(json.dumps(to_json(hostile_digest())))

    assert "{{ 7*7 }}" in rendered.text and "49" not in rendered.text  # never a template
    assert "{{ 7*7 }}" in rendered.html and "{{ config }}" in rendered.html
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html
    assert "<img" not in rendered.html
    assert not re.search(r"""(href|src)\s*=\s*["']?javascript:""", rendered.html)  # text only
    assert "\x00" not in rendered.html + rendered.text and "\x1b" not in rendered.html
    assert "\n" not in rendered.subject and "\x00" not in rendered.subject
    [hit] = body["data"]["terms"][0]["stories"][0]["hits"]
    assert hit["title"].startswith("{{ 7*7 }} {% raw %}<script>")  # JSON carries it as data
    assert hit["url"] is None


# --- issue 17: inputs that stalled the poller or blinded a feed ---------------------------

FEED_FORMATS = ("rss", "atom", "json")


def feed_document(
    form: str, titles: list[str], links: list[str] | None = None, cdata: bool = False
) -> bytes:
    """A feed of the given format whose entries have `titles` (raw text, escaped here, or
    in CDATA sections: then the XML parser hands the text over in one piece)."""
    links = links or [f"https://wire.example/s{n}" for n in range(len(titles))]
    if form == "json":
        items = [
            {"id": f"s{n}", "url": link, "title": title, "content_html": title}
            for n, (title, link) in enumerate(zip(titles, links, strict=True))
        ]
        document = {"version": "https://jsonfeed.org/version/1.1", "title": "W", "items": items}
        return json.dumps(document).encode()
    escaped = [f"<![CDATA[{title}]]>" if cdata else html_escape(title) for title in titles]
    if form == "rss":
        return rss(
            *(
                f"<item><title>{title}</title><link>{html_escape(link)}</link><guid>s{n}</guid>"
                f"<description>{title}</description></item>"
                for n, (title, link) in enumerate(zip(escaped, links, strict=True))
            )
        ).encode()
    entries = "".join(
        f'<entry><title type="html">{title}</title><id>https://wire.example/id/s{n}</id>'
        f'<link href="{html_escape(link)}"/><updated>2026-11-23T10:00:00Z</updated>'
        f'<content type="html">{title}</content></entry>'
        for n, (title, link) in enumerate(zip(escaped, links, strict=True))
    )
    return (
        '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>W</title>'
        f"<id>https://wire.example/</id><updated>2026-11-23T10:00:00Z</updated>{entries}</feed>"
    ).encode()


def html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# Long runs of `<`: `<[^>]*>` took 11.6 s on 200,000 of them in a JSON Feed title.
long_lt_runs = st.tuples(
    st.sampled_from(["<", "<a ", "<<b", "< "]),
    st.integers(25_000, 40_000),
    st.text(max_size=20).filter(lambda text: "]]>" not in text),
)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(form=st.sampled_from(FEED_FORMATS), run=long_lt_runs)
def test_long_runs_of_lt_in_any_feed_format_are_read_in_linear_time(
    form: str, run: tuple[str, int, str]
) -> None:
    unit, count, tail = run

    def fastest(times: int) -> float:  # the best of two: load from elsewhere only adds
        content = feed_document(form, [unit * count * times + tail, "Dredging resumes"], cdata=True)
        took = []
        for _ in range(2):
            started = time.perf_counter()
            parsed = parse_feed(content, URL)
            took.append(time.perf_counter() - started)
        assert parsed.entries[1].title == "Dredging resumes"
        return min(took)

    # Four times the run takes about four times as long (a time limit alone flaked on a
    # loaded machine); before, it took sixteen times as long: 11-16 s at 200,000.
    once, four_times = fastest(1), fastest(4)
    assert four_times < 8 * once + 0.2, (once, four_times)


def test_a_title_of_200000_lt_is_stripped_in_one_pass() -> None:
    started = time.monotonic()
    text = plain_text("<" * 200_000 + "b>harbour")
    took = time.monotonic() - started

    assert text == "harbour"  # the one tag: from the first `<` to the `>`
    assert took < 5  # 11.6 s before; one pass is a fraction of a second


# Lone surrogates: "\ud800" in JSON, &#xD800; in XML (feedparser raised for the whole feed).
lone_surrogates = st.lists(st.integers(0xD800, 0xDFFF).map(chr), min_size=1, max_size=3).map(
    "".join
)


@settings(max_examples=EXAMPLES // 4, deadline=None)
@given(
    form=st.sampled_from(FEED_FORMATS),
    surrogates=lone_surrogates,
    before=st.text(max_size=20),
    as_decimal=st.booleans(),
)
def test_a_lone_surrogate_costs_at_most_its_entry_never_the_feed(
    form: str, surrogates: str, before: str, as_decimal: bool
) -> None:
    if form == "json":
        content = feed_document(form, [before + surrogates, "Dredging resumes"])
    else:
        refs = "".join(
            f"&#{ord(char)};" if as_decimal else f"&#x{ord(char):X};" for char in surrogates
        )
        content = feed_document(form, ["BAD", "Dredging resumes"]).replace(
            b"BAD", html_escape(before).encode() + refs.encode()
        )

    parsed = parse_feed(content, URL)

    assert [entry.title for entry in parsed.entries][-1] == "Dredging resumes"
    for entry in parsed.entries:
        fingerprint(entry)  # raised UnicodeEncodeError on "\ud800"
        (entry.key + entry.title + entry.summary + (entry.link or "")).encode("utf-8")


# Huge titles and links: a link over 64 kB made httpx raise InvalidURL, uncaught.
huge_texts = st.tuples(
    st.sampled_from(["a", "é", "港", "<p>", "&amp;"]), st.integers(70_000, 300_000)
)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(form=st.sampled_from(FEED_FORMATS), title=huge_texts, link=huge_texts)
def test_huge_titles_and_links_parse_and_leave_the_other_entries_whole(
    form: str, title: tuple[str, int], link: tuple[str, int]
) -> None:
    long_title = title[0] * title[1]
    long_link = "https://wire.example/" + link[0] * link[1]
    content = feed_document(
        form, [long_title, "Dredging resumes"], [long_link, "https://wire.example/good"]
    )

    started = time.monotonic()
    parsed = parse_feed(content, URL)

    assert time.monotonic() - started < 20  # feedparser reads 300,000 entities in 1-2 s
    huge, good = parsed.entries
    assert huge.url is None  # too long to be an identity: the entry is kept by its guid
    assert (good.title, good.url) == ("Dredging resumes", "https://wire.example/good")


class LoopWatch:
    """How long the event loop went without running a task (its longest stall), while it runs."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> LoopWatch:
        self._task = asyncio.create_task(self._tick())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._task is not None
        self._task.cancel()

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(0.02)
            self.longest = max(self.longest, loop.time() - before - 0.02)


def healthy_feed(site: Site) -> None:
    """A feed that answers after a second: while the hostile feed is being parsed."""
    site.put("/healthy.rss", rss(item(title="Harbour dredging resumes", slug="h1")), delay=1.0)


def timed_poll(config_path: Path, names: set[str]) -> tuple[dict[str, float], float]:
    """Poll the named feeds once with two workers: seconds until each was done, longest stall."""
    config = load_config(config_path)
    done: dict[str, float] = {}

    async def run() -> float:
        started = time.monotonic()
        async with LoopWatch() as watch:
            await poll_once(
                config,
                [feed for feed in config.feeds if feed.name in names],
                on_done=lambda result: done.setdefault(result.feed, time.monotonic() - started),
                workers=2,
            )
        return watch.longest

    longest = asyncio.run(run())
    return done, longest


@pytest.mark.slow
def test_a_hostile_feed_never_delays_a_healthy_one_nor_loses_its_good_entries(
    site: Site, tmp_path: Path
) -> None:
    # 8 MB of `&lt;` (feedparser spends seconds on it) and lone surrogates, next to good entries.
    runs = "&lt;" * 2_000_000
    site.put(
        "/hostile.rss",
        rss(
            item(title=runs, slug="x1"),
            item(title="Bad &#xD800; entry", slug="x2"),
            item(title="Quay wall finished", slug="x3"),
        ),
    )
    healthy_feed(site)
    site.fallback = None  # no article pages: the entries keep the feed's text
    path = write_config(
        tmp_path, [("Hostile", f"{site.base}/hostile.rss"), ("Healthy", f"{site.base}/healthy.rss")]
    )
    alone, _ = timed_poll(path, {"Healthy"})
    (tmp_path / "watcher.db").unlink()

    together, longest_stall = timed_poll(path, {"Hostile", "Healthy"})

    # Margins a loaded 2-core machine keeps; before, the healthy feed waited the 5.4 s stall.
    assert together["Healthy"] - alone["Healthy"] < 2.5
    # Before: the loop stood still 5.4 s while feedparser read 8 MB. What is left (0.3-0.7 s)
    # is storing the 2-million-character title, on the loop until the store leaves it.
    assert longest_stall < 2.5
    with Store.open(tmp_path / "watcher.db") as store:
        titles = {row[0] for row in store.db.execute("SELECT title FROM articles")}
    assert {"Quay wall finished", "Bad \ufffd entry", "Harbour dredging resumes"} <= titles


@pytest.mark.slow
def test_an_article_link_over_64_kb_is_kept_with_the_feed_text_and_the_feed_stays_cached(
    site: Site, tmp_path: Path
) -> None:
    long_link = f"{site.base}/story?q=" + "a" * 70_000
    site.put(
        "/wire.rss",
        rss(
            f"<item><title>Long link</title><link>{long_link}</link><guid>long</guid>"
            "<description>Port news from the long link.</description></item>",
            item(slug="a2"),
        ),
    )
    site.fallback = None
    config = load_config(write_config(tmp_path, [("Wire", f"{site.base}/wire.rss")]))

    first = asyncio.run(poll_once(config, config.feeds, workers=0))
    second = asyncio.run(poll_once(config, config.feeds, workers=0))

    assert [(result.status, result.error) for result in first] == [("ok", None)]
    assert [result.status for result in second] == ["not_modified"]  # ETag kept
    with Store.open(config.db_path) as store:
        [(text, note)] = store.db.execute(
            "SELECT text, note FROM articles WHERE title = 'Long link'"
        ).fetchall()
    assert text == "Port news from the long link."
    assert "URL longer than 8192 characters" in note


@pytest.mark.slow
def test_matching_a_costly_text_never_stalls_the_event_loop(site: Site, tmp_path: Path) -> None:
    text = "alpha beta gamma " * 20_000  # 340 kB, every word a match of both sides
    site.put("/wire.rss", rss(item(title="Alpha", slug="m1").replace("Port news.", text)))
    site.fallback = None
    terms = '[[terms]]\nname = "slow"\nquery = "(alpha OR beta) NEAR/100 (alpha OR beta)"\n'
    config = load_config(write_config(tmp_path, [("Wire", f"{site.base}/wire.rss")], terms=terms))

    async def run() -> float:
        async with LoopWatch() as watch:
            await poll_once(config, config.feeds, workers=0)
        return watch.longest

    started = time.monotonic()
    longest = asyncio.run(run())

    assert time.monotonic() - started > 1  # the match itself took its time
    assert longest < 0.5  # in the event loop, every other feed waited that long


@pytest.mark.slow
def test_a_term_too_costly_for_an_article_is_skipped_and_the_other_terms_still_hit(
    site: Site, tmp_path: Path
) -> None:
    text = "the cell and UNICORN cell of a cell. " * 2300  # 85 kB: the chain costs too much
    site.put("/wire.rss", rss(item(title="Cells", slug="c1").replace("Port news.", text)))
    site.fallback = None
    chain = " NEAR/100 ".join(["(cell OR UNICORN)"] * 40)
    terms = (
        f'[[terms]]\nname = "costly"\nquery = "{chain}"\n\n'
        '[[terms]]\nname = "plain"\nquery = "UNICORN"\n'
    )
    config = load_config(write_config(tmp_path, [("Wire", f"{site.base}/wire.rss")], terms=terms))

    [result] = asyncio.run(poll_once(config, config.feeds, workers=0))

    assert (result.status, result.new_articles, result.hits) == ("ok", 1, 1), result.error
    with Store.open(config.db_path) as store:
        assert [hit.term for hit in store.archive.hits()] == ["plain"]


def test_bidi_overrides_and_isolates_never_reach_the_email_subject() -> None:
    digest = hostile_digest()
    [group] = digest.groups
    [story] = group.stories
    [hit] = story.hits
    tricky = replace(hit, title="Port \u202eevil\u202c deal \u2066rtl\u2069 signed")
    digest = replace(
        digest,
        groups=(replace(group, stories=(replace(story, hits=(tricky,)),)),),
    )
    settings = EmailSettings("127.0.0.1", 25, "none", "w@example.org", ("d@example.org",))

    mail = message(digest, render(digest), settings)

    assert mail["Subject"] == "watcher: Ports: Port evil deal rtl signed"


def test_every_test_docs_security_names_exists() -> None:
    """docs/security.md backs each claim with tests: every one it names must be there."""
    text = (Path(__file__).resolve().parent.parent / "docs" / "security.md").read_text()
    named: list[tuple[str, str]] = []
    for row in text.splitlines():
        current = None
        for file, name in re.findall(r"`(test_\w+\.py)?::(test_\w+)`", row):
            current = file or current
            assert current, f"{name} names no file: {row}"
            named.append((current, name))
    assert len(named) > 60
    for file, name in named:
        source = (Path(__file__).resolve().parent / file).read_text()
        assert re.search(rf"^(async )?def {name}\(", source, re.MULTILINE), f"{file}::{name}"


# Costly queries: groups of the words the text is made of, chained by NEAR/100, ANDed
# wildcards and phrases with room for inserted words, on a text where every word is one
# of them (issue 17, item 8: a chain of 40 NEAR/100 groups took 67 s on 85 kB).
COSTLY_WORDS = ("cell", "unicorn", "mast", "india")
COSTLY_PART = st.one_of(
    st.sampled_from([f"({a} OR {b})" for a in COSTLY_WORDS for b in COSTLY_WORDS]),
    st.sampled_from([f"{word[:3]}*" for word in COSTLY_WORDS]),
    st.sampled_from([f'"{a} {b}"~{n}' for a in COSTLY_WORDS for b in COSTLY_WORDS for n in (3, 9)]),
)
COSTLY_QUERY = st.builds(
    lambda parts, joint: joint.join(parts),
    st.lists(COSTLY_PART, min_size=10, max_size=60),
    st.sampled_from([" NEAR/100 ", " ", " ONEAR/100 ", " /p ", " NEAR/50 "]),
)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(COSTLY_QUERY)
def test_a_costly_query_ends_within_seconds_matched_or_too_costly(query: str) -> None:
    text = "cell unicorn mast india cell. " * 2000  # 60 kB, every word a place of every part
    matcher = Matcher([compile_term("costly", query)])
    started = time.perf_counter()

    try:
        matcher.match("", text)
    except QueryCostError as exc:
        assert exc.term == "costly"

    assert time.perf_counter() - started < 30  # generous: about 2 s at most on 2 cores


def test_a_chain_of_paragraph_scopes_over_one_long_paragraph_ends_within_seconds() -> None:
    """Found by the test above: each left place re-added every right place of its paragraph,
    10,000 times 10,000 on this text (165 s; 0.3 s now)."""
    query = '(cell OR unicorn) /p mas* /p (india OR mast) /p "india mast"~3 /p cell'
    matcher = Matcher([compile_term("scoped", query)])
    started = time.perf_counter()

    matches = matcher.match("", "cell unicorn mast india cell " * 2000)

    assert time.perf_counter() - started < 30
    assert [match.term for match in matches] == ["scoped"]


# PostgreSQL's text holds no NUL character, SQLite's does: one in a feed or a page made
# the whole feed's batch fail on PostgreSQL at every poll, its clean entries with it.
@pytest.mark.slow
def test_a_nul_character_in_a_feed_or_a_page_costs_nothing_on_either_backend(
    site: Site, tmp_path: Path, storage_at: str
) -> None:
    entries = [
        ("n1", "UNICORN\x00 antenna goes to sea", "A stealth mast\x00 for the Indian Navy."),
        ("n2", "A second UNICORN antenna report", "Tokyo ships the UNICORN antenna to India."),
    ]
    items = [
        {"id": slug, "url": f"{site.base}/{slug}.html", "title": title, "content_text": text}
        for slug, title, text in entries
    ]
    site.put(
        "/nul.json",
        json.dumps(
            {"version": "https://jsonfeed.org/version/1.1", "title": "Nul\x00", "items": items}
        ),
        "application/feed+json",
    )
    body = "The UNICORN\x00 antenna, a Japanese stealth mast, will ride Indian Navy ships. " * 12
    for slug, title, _ in entries:
        site.put(
            f"/{slug}.html",
            f"<html><head><title>{title}</title></head><body><article>"
            f"<p>{body}</p></article></body></html>",
            "text/html",
        )
    config = load_config(
        write_config(tmp_path, [("Nul Wire", f"{site.base}/nul.json")], storage=storage_at)
    )

    results = asyncio.run(poll_once(config, config.feeds))

    assert [result.error for result in results] == [None]
    with open_storage(config.database) as store:
        hits = store.archive.hits()
    assert sorted(hit.title for hit in hits) == [
        "A second UNICORN antenna report",
        "UNICORN antenna goes to sea",
    ]
    assert all("\x00" not in hit.snippet for hit in hits)


def test_a_nul_character_in_any_text_the_store_is_given_costs_nothing(storage: Storage) -> None:
    feed = FeedConfig("Nul News", "https://news.example/feed", 900.0)  # config refuses NUL
    storage.feeds.sync([feed])
    at = datetime(2026, 12, 1, tzinfo=UTC)
    storage.feeds.record_poll(PollResult(feed.name, at, at, "failed", error="bad\x00 byte"))

    [status] = storage.feeds.statuses([feed])

    assert status.consecutive_errors == 1
    assert status.last_error in ("bad\ufffd byte", "bad\x00 byte")  # SQLite keeps what it is given
