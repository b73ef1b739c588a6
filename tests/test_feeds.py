"""Feed parsing and canonical URLs, from inline documents and the shared corpus; no network."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conftest import Site, write_config
from watcher.app.oneshot import find_feed
from watcher.config.load import load_config
from watcher.errors import FeedError
from watcher.sources.feed import canonical_url, discover, parse_feed, plain_text

CORPUS_FEEDS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "feeds"
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")

FEED_URL = "https://news.example.com/feeds/india.xml"

RSS2 = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0">
<channel>
  <title>Rail &amp; Roads</title>
  <link>https://news.example.com/</link>
  <item>
    <title>Bullet train &lt;b&gt;update&lt;/b&gt;</title>
    <link>https://news.example.com/a/1?utm_source=rss&amp;id=7#top</link>
    <guid isPermaLink="false">42</guid>
    <description><![CDATA[<p>Work on the <b>MAHSR</b> line&nbsp;resumed.</p>]]></description>
    <pubDate>Fri, 16 Jan 2026 09:30:00 +0530</pubDate>
    <author>desk@news.example.com (Rail desk)</author>
  </item>
  <item>
    <title>Second story</title>
    <link>/a/2</link>
    <guid>https://news.example.com/a/2?utm_medium=feed</guid>
  </item>
  <item>
    <title>Third story</title>
    <link>https://news.example.com/a/3?fbclid=abc</link>
  </item>
</channel>
</rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>World desk</title>
  <id>urn:example:world</id>
  <updated>2026-01-16T10:00:00Z</updated>
  <entry>
    <title type="html">Japan &amp;amp; India sign pact</title>
    <id>tag:example.org,2026:1</id>
    <link rel="alternate" href="https://example.org/world/1"/>
    <published>2026-01-16T08:00:00+09:00</published>
    <updated>2026-01-16T10:00:00Z</updated>
    <summary>Short.</summary>
    <content type="html">&lt;p&gt;The longer content about the AI Dialogue.&lt;/p&gt;</content>
    <author><name>Aiko Tanaka</name></author>
  </entry>
</feed>"""

RSS1 = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://kantei.example/">
    <title>Kantei</title>
    <link>https://kantei.example/</link>
    <description>Prime Minister's news</description>
  </channel>
  <item rdf:about="https://kantei.example/news/1">
    <title>PM meets Indian counterpart</title>
    <link>https://kantei.example/news/1?utm_campaign=rdf</link>
    <description>Talks on rail and minerals.</description>
    <dc:date>2026-01-16T12:00:00+09:00</dc:date>
  </item>
</rdf:RDF>"""

JSON_FEED = json.dumps(
    {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Briefs",
        "items": [
            {
                "id": "7",
                "url": "https://briefs.example/7?utm_source=json",
                "title": "First brief",
                "content_html": "<p>Tokyo &amp; Delhi agree.</p>",
                "date_published": "2026-01-16T09:00:00+05:30",
                "authors": [{"name": "Ravi"}],
            },
            {
                "id": "https://briefs.example/8?fbclid=x",
                "external_url": "https://elsewhere.example/8",
                "title": "Second brief",
                "content_text": "Plain text body.",
            },
        ],
    }
).encode()


def rss_item_doc(guid: str) -> bytes:
    return (
        '<rss version="2.0"><channel><title>T</title><item><title>Story</title>'
        f'<guid isPermaLink="false">{guid}</guid></item></channel></rss>'
    ).encode()


# --- canonical_url ------------------------------------------------------------------


def test_canonical_url_strips_tracking_parameters_and_keeps_the_others() -> None:
    url = "https://news.example.com/a?utm_source=x&id=3&fbclid=y&gclid=z&utm_medium=rss"

    assert canonical_url(url) == "https://news.example.com/a?id=3"


def test_canonical_url_drops_the_fragment() -> None:
    assert canonical_url("https://news.example.com/a/1#comments") == "https://news.example.com/a/1"


def test_canonical_url_lower_cases_the_host_but_not_the_path() -> None:
    assert canonical_url("HTTPS://News.Example.COM/India/Story") == (
        "https://news.example.com/India/Story"
    )


def test_canonical_url_drops_the_default_port() -> None:
    assert canonical_url("https://news.example.com:443/a") == "https://news.example.com/a"
    assert canonical_url("http://news.example.com:80/a") == "http://news.example.com/a"


def test_canonical_url_keeps_a_non_default_port() -> None:
    assert canonical_url("http://news.example.com:8080/a") == "http://news.example.com:8080/a"


def test_canonical_url_unwraps_a_google_redirect() -> None:
    url = (
        "https://www.google.com/url?rct=j&sa=t"
        "&url=https://news.example.org/story%3Fid%3D1%26utm_medium%3Drss&ct=ga"
    )

    assert canonical_url(url) == "https://news.example.org/story?id=1"


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/file", "mailto:desk@example.com", "javascript:alert(1)", "news.example"],
)
def test_canonical_url_of_a_non_http_url_is_none(url: str) -> None:
    assert canonical_url(url) is None


def test_canonical_url_resolves_a_relative_url_against_the_base() -> None:
    assert canonical_url("../a/2?utm_campaign=z", "https://news.example.com/feeds/rss.xml") == (
        "https://news.example.com/a/2"
    )


def test_canonical_url_gives_a_bare_host_the_root_path() -> None:
    assert canonical_url("https://news.example.com") == "https://news.example.com/"


# --- plain_text -----------------------------------------------------------------------


def test_plain_text_drops_tags_decodes_entities_and_collapses_spaces() -> None:
    markup = "<p>Tokyo &amp; Delhi&nbsp;agree</p>\n<br/><b>rail</b>  deal &lt;3"

    assert plain_text(markup) == "Tokyo & Delhi agree rail deal <3"


# --- RSS 2.0 ----------------------------------------------------------------------------


def test_rss2_feed_title_and_entry_count() -> None:
    feed = parse_feed(RSS2, FEED_URL)

    assert feed.title == "Rail & Roads"
    assert len(feed.entries) == 3
    assert feed.warning is None


def test_rss2_entry_fields() -> None:
    entry = parse_feed(RSS2, FEED_URL).entries[0]

    assert entry.url == "https://news.example.com/a/1?id=7"
    assert entry.link == "https://news.example.com/a/1?utm_source=rss&id=7#top"
    assert entry.title == "Bullet train update"
    assert entry.summary == "Work on the MAHSR line resumed."
    assert entry.published == datetime(2026, 1, 16, 4, 0, tzinfo=UTC)
    assert entry.author == "desk@news.example.com (Rail desk)"


def test_relative_link_is_resolved_against_the_feed_url() -> None:
    entry = parse_feed(RSS2, FEED_URL).entries[1]

    assert entry.link == "https://news.example.com/a/2"


def test_non_url_guid_is_scoped_by_the_feed_host() -> None:
    assert parse_feed(RSS2, FEED_URL).entries[0].key == "news.example.com|42"


def test_same_non_url_guid_from_two_hosts_gives_two_keys() -> None:
    first = parse_feed(rss_item_doc("42"), "https://one.example/rss").entries[0]
    second = parse_feed(rss_item_doc("42"), "https://two.example/rss").entries[0]

    assert (first.key, second.key) == ("one.example|42", "two.example|42")


def test_url_guid_is_canonicalised_like_a_link() -> None:
    assert parse_feed(RSS2, FEED_URL).entries[1].key == "https://news.example.com/a/2"


def test_entry_without_guid_is_keyed_by_its_canonical_url() -> None:
    assert parse_feed(RSS2, FEED_URL).entries[2].key == "https://news.example.com/a/3"


def test_entry_without_guid_or_link_is_keyed_by_a_hash_scoped_by_the_feed_host() -> None:
    doc = b'<rss version="2.0"><channel><item><title>Only a title</title></item></channel></rss>'

    key = parse_feed(doc, "https://one.example/rss").entries[0].key

    assert re.fullmatch(r"one\.example\|sha256:[0-9a-f]{24}", key)


# --- Atom, RSS 1.0, JSON Feed -----------------------------------------------------------


def test_atom_entry_fields() -> None:
    feed = parse_feed(ATOM, "https://example.org/atom.xml")
    [entry] = feed.entries

    assert feed.title == "World desk"
    assert entry.key == "example.org|tag:example.org,2026:1"
    assert entry.url == "https://example.org/world/1"
    assert entry.title == "Japan & India sign pact"
    assert entry.summary == "The longer content about the AI Dialogue."
    assert entry.published == datetime(2026, 1, 15, 23, 0, tzinfo=UTC)
    assert entry.updated == datetime(2026, 1, 16, 10, 0, tzinfo=UTC)
    assert entry.author == "Aiko Tanaka"


def test_rss1_entry_fields() -> None:
    feed = parse_feed(RSS1, "https://kantei.example/index.rdf")
    [entry] = feed.entries

    assert feed.title == "Kantei"
    assert entry.url == "https://kantei.example/news/1"
    assert entry.title == "PM meets Indian counterpart"
    assert entry.summary == "Talks on rail and minerals."
    assert entry.updated == datetime(2026, 1, 16, 3, 0, tzinfo=UTC)


def test_json_feed_entry_fields() -> None:
    feed = parse_feed(JSON_FEED, "https://briefs.example/feed.json")
    first = feed.entries[0]

    assert feed.title == "Briefs"
    assert first.key == "briefs.example|7"
    assert first.url == "https://briefs.example/7"
    assert first.title == "First brief"
    assert first.summary == "Tokyo & Delhi agree."
    assert first.published == datetime(2026, 1, 16, 3, 30, tzinfo=UTC)
    assert first.author == "Ravi"


def test_json_feed_url_id_and_external_url() -> None:
    second = parse_feed(JSON_FEED, "https://briefs.example/feed.json").entries[1]

    assert second.key == "https://briefs.example/8"
    assert second.url == "https://elsewhere.example/8"
    assert second.summary == "Plain text body."


def test_json_feed_with_a_byte_order_mark_parses() -> None:
    feed = parse_feed(b"\xef\xbb\xbf" + JSON_FEED, "https://briefs.example/feed.json")

    assert [entry.title for entry in feed.entries] == ["First brief", "Second brief"]


# --- what is not a feed --------------------------------------------------------------------


def test_html_page_served_as_a_feed_is_a_feed_error() -> None:
    page = b"<!doctype html><html><head><title>Oops</title></head><body><p>404</p></body></html>"

    with pytest.raises(FeedError, match=r"^not a feed: "):
        parse_feed(page, FEED_URL)


def test_html_page_with_an_html_content_type_is_a_feed_error() -> None:
    page = b"<html><body><p>Please enable JavaScript</p></body></html>"

    with pytest.raises(FeedError, match=r"^not a feed: "):
        parse_feed(page, FEED_URL, "text/html; charset=utf-8")


def test_invalid_json_is_a_feed_error() -> None:
    with pytest.raises(FeedError, match=r"^not a feed: invalid JSON: "):
        parse_feed(b'{"version": "https://jsonfeed.org/version/1.1", items: []}', FEED_URL)


def test_json_without_a_jsonfeed_version_is_a_feed_error() -> None:
    with pytest.raises(FeedError, match=r"^not a feed: JSON without a jsonfeed.org version$"):
        parse_feed(b'{"items": []}', FEED_URL)


def test_empty_body_is_a_feed_error() -> None:
    with pytest.raises(FeedError, match=r"^not a feed: "):
        parse_feed(b"", FEED_URL)


# --- undeclared Japanese encodings --------------------------------------------------------

JP_TITLE = "インドと日本が高速鉄道の協力で合意"
JP_SUMMARY = "ムンバイとアーメダバードを結ぶ高速鉄道の建設について、両国の政府が協議した。"


def japanese_rss(channel_title: str, item_title: str, summary: str) -> str:
    """An RSS document with no XML declaration, so nothing names its encoding."""
    return (
        f'<rss version="2.0"><channel><title>{channel_title}</title><item>'
        f"<title>{item_title}</title><link>https://nhk.example/news/1</link>"
        f"<description>{summary}</description></item></channel></rss>"
    )


@pytest.mark.parametrize("encoding", ["euc_jp", "shift_jis"])
def test_undeclared_japanese_encoding_is_decoded(encoding: str) -> None:
    doc = japanese_rss("NHKニュース", JP_TITLE, JP_SUMMARY).encode(encoding)

    feed = parse_feed(doc, "https://nhk.example/rss.xml")

    assert feed.title == "NHKニュース"
    assert feed.entries[0].title == "インドと日本が高速鉄道の協力で合意"
    assert feed.entries[0].summary == JP_SUMMARY


def test_short_undeclared_euc_jp_feed_is_not_read_as_korean() -> None:
    doc = japanese_rss("速報", "新幹線の工事が進む", "").encode("euc_jp")

    feed = parse_feed(doc, "https://nhk.example/rss.xml")

    assert feed.entries[0].title == "新幹線の工事が進む"


# --- the shared corpus of real feeds ----------------------------------------------------------


@pytest.mark.skipif(not CORPUS_FEEDS.is_dir(), reason="shared corpus not present")
def test_every_corpus_feed_parses_or_raises_feed_error() -> None:
    files = sorted(CORPUS_FEEDS.glob("*.xml"))
    parsed = refused = 0
    for path in files:
        try:
            parse_feed(path.read_bytes(), f"https://corpus.example/{path.name}")
        except FeedError:
            refused += 1
        else:
            parsed += 1
    print(f"corpus: {parsed} of {len(files)} feeds parsed, {refused} refused")

    assert files


@pytest.mark.skipif(not CORPUS_FEEDS.is_dir(), reason="shared corpus not present")
@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("feedparser__eucjp_rss_no-encoding-decl.xml", "ゲーム三昧な正月"),
        ("feedparser__shiftjis_atom_no-encoding-decl.xml", "DrecomRSSに記事投稿が反映されない…"),
    ],
)
def test_corpus_japanese_feeds_without_declaration_give_japanese_titles(
    name: str, title: str
) -> None:
    feed = parse_feed((CORPUS_FEEDS / name).read_bytes(), "https://corpus.example/feed")

    assert [entry.title for entry in feed.entries] == [title]
    assert JAPANESE.search(feed.entries[0].summary)


def test_rss_ttl_in_minutes_becomes_seconds() -> None:
    doc = b"<rss version='2.0'><channel><title>T</title><ttl>15</ttl></channel></rss>"

    assert parse_feed(doc, "https://news.example/rss").ttl == 900.0


def test_syndication_update_period_and_frequency_give_the_ttl() -> None:
    doc = (
        b"<rss version='2.0' xmlns:sy='http://purl.org/rss/1.0/modules/syndication/'>"
        b"<channel><title>T</title><sy:updatePeriod>hourly</sy:updatePeriod>"
        b"<sy:updateFrequency>2</sy:updateFrequency></channel></rss>"
    )

    assert parse_feed(doc, "https://news.example/rss").ttl == 1800.0


def test_feed_without_freshness_hints_has_no_ttl() -> None:
    doc = b"<rss version='2.0'><channel><title>T</title></channel></rss>"

    assert parse_feed(doc, "https://news.example/rss").ttl is None


def test_site_page_announces_its_feeds() -> None:
    page = (
        b"<html><head><title>Site</title>"
        b'<link rel="alternate" type="application/rss+xml" href="/rss.xml">'
        b'<link rel="alternate" type="application/atom+xml" href="https://cdn.example/atom">'
        b'<link rel="stylesheet" href="/style.css">'
        b'<link rel="alternate" hreflang="hi" href="/hi/">'
        b"</head><body></body></html>"
    )

    assert discover(page, "https://news.example/india/") == [
        "https://news.example/rss.xml",
        "https://cdn.example/atom",
    ]


def test_page_without_feed_links_announces_nothing() -> None:
    assert discover(b"<html><body><p>no feeds</p></body></html>", "https://x.example/") == []


def test_an_html_page_is_not_a_feed_and_the_error_names_the_feeds_it_announces() -> None:
    page = (
        b"<!DOCTYPE html>\n<html><head><title>Coastline Daily</title>"
        b'<link rel="alternate" type="application/rss+xml" href="/news.rss">'
        b'<link rel="alternate" type="application/atom+xml" href="https://c.example/w.atom">'
        b"</head><body><p>Harbour news</p></body></html>"
    )

    with pytest.raises(FeedError) as caught:
        parse_feed(page, "https://c.example/", "text/html; charset=utf-8")

    assert str(caught.value) == (
        "not a feed: this is an HTML page; it announces these feeds: "
        "https://c.example/news.rss, https://c.example/w.atom"
    )


def test_an_html_page_without_feed_links_says_it_announces_none() -> None:
    page = b"<!doctype html>\n<html><body><p>Harbour news</p></body></html>"

    with pytest.raises(FeedError) as caught:
        parse_feed(page, "https://c.example/", None)

    assert str(caught.value) == "not a feed: this is an HTML page, and it announces no feed"


@pytest.mark.slow
def test_a_feed_a_page_announces_on_a_private_address_is_not_fetched(
    site: Site, tmp_path: Path
) -> None:
    site.put(
        "/index.html",
        f'<html><head><link rel="alternate" type="application/rss+xml" href="{site.base}/feed.rss">'
        "</head><body><p>News</p></body></html>",
    )
    site.put("/feed.rss", '<rss version="2.0"><channel><title>Inside</title></channel></rss>')
    config = load_config(write_config(tmp_path, []))
    config = replace(config, fetch=replace(config.fetch, allow_private_addresses=False))

    with pytest.raises(FeedError, match=r"refused: 127\.0\.0\.1 resolves to non-public address"):
        asyncio.run(find_feed(config, f"{site.base}/index.html"))

    assert site.requests("/feed.rss") == []  # the page itself is the operator's choice


def test_an_atom_entry_with_only_updated_is_dated_by_it_to_the_second() -> None:
    content = (
        b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>W</title>'
        b"<id>https://w.example/</id><updated>2026-11-23T15:00:00Z</updated><entry><title>A</title>"
        b'<id>https://w.example/1</id><link href="https://w.example/1"/>'
        b"<updated>2026-11-23T14:35:07+02:00</updated></entry></feed>"
    )

    [entry] = parse_feed(content, "https://w.example/feed.atom").entries

    assert entry.published == datetime(2026, 11, 23, 12, 35, 7, tzinfo=UTC)


def test_a_json_feed_item_with_only_date_modified_is_dated_by_it() -> None:
    content = json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "items": [{"id": "1", "title": "A", "date_modified": "2026-11-23T14:35:07Z"}],
        }
    ).encode()

    [entry] = parse_feed(content, "https://w.example/feed.json").entries

    assert entry.published == datetime(2026, 11, 23, 14, 35, 7, tzinfo=UTC)
