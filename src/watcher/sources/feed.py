"""Feed bytes -> entries, and the canonical form of article URLs.

RSS 0.9x/1.0/2.0 and Atom go through feedparser (always handed bytes, never a
string it might treat as a path or URL). JSON Feed, which feedparser 6 does
not read, is parsed here from its small, well-specified JSON shape
(https://www.jsonfeed.org/version/1.1/).
"""

from __future__ import annotations

import codecs
import hashlib
import html
import json
import re
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import feedparser
import lxml.etree
import lxml.html
from charset_normalizer import from_bytes

from watcher.errors import FeedError
from watcher.models import Entry, ParsedFeed
from watcher.ops.text import describe

# Query parameters that only say how a reader got to the article, never which article it is.
_TRACKING_PREFIXES = ("utm_", "mc_", "pk_", "piwik_", "hmb_", "at_", "wt_", "_hs")
_TRACKING_NAMES = {
    "fbclid", "gclid", "dclid", "gclsrc", "msclkid", "yclid", "igshid", "twclid", "ocid",
    "cmpid", "cmp", "icid", "smid", "_ga", "_gl", "mkt_tok", "ref_src", "ref_url", "rss",
    "ns_mchannel", "ns_source", "ns_campaign", "ns_linkname", "ns_fee", "spm", "sr_share",
    "fromrss", "from_rss", "xtor", "soc_src", "soc_trk", "s_cid",
}  # fmt: skip
_KANA = re.compile("[\u3041-\u309f\u30a0-\u30ff]")
# A numeric character reference, in a feed's bytes: feedparser turns one naming a
# surrogate (&#xD800;) or no character (&#x110000;) into an exception for the whole feed.
_CHARACTER_REFERENCE = re.compile(rb"&#(?:[xX]0*([0-9a-fA-F]+)|0*([0-9]+));")
MAX_LINK_CHARS = 8192
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_XML_DECLARED_ENCODING = re.compile(rb"^\s*<\?xml[^>]*encoding=", re.ASCII)


def canonical_url(url: str, base: str | None = None) -> str | None:
    """The article's identity as a URL: tracking parameters, fragment and default port removed.

    Google's redirect links (google.com/url?url=...) are unwrapped to their target.
    Returns None for anything that is not an http(s) URL.
    """
    url = url.strip()
    if base:
        url = urljoin(base, url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if scheme not in ("http", "https") or not host:
        return None
    query = parse_qsl(parts.query, keep_blank_values=True)
    if (host.startswith("google.") or host.startswith("www.google.")) and parts.path == "/url":
        target = dict(query).get("url") or dict(query).get("q")
        if target and target != url:
            return canonical_url(target)
    kept = [(key, value) for key, value in query if not _is_tracking(key)]
    netloc = host if ":" not in host else f"[{host}]"
    if port and port != {"http": 80, "https": 443}[scheme]:
        netloc = f"{netloc}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", urlencode(kept, doseq=True), ""))


def _is_tracking(key: str) -> bool:
    key = key.lower()
    return key in _TRACKING_NAMES or key.startswith(_TRACKING_PREFIXES)


def plain_text(markup: str) -> str:
    """Readable text from a feed's HTML: tags dropped, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(_without_tags(markup)).split())


def _without_tags(markup: str) -> str:
    """`markup` with each `<...>` replaced by a space, in one pass over the text.

    The regular expression `<[^>]*>` does the same but rescans to the end from
    every `<` that has no `>` after it: 200,000 `<` in a title took 11.6 s
    (issue 17). Here each character is looked at once or twice.
    """
    parts: list[str] = []
    done = 0
    while (start := markup.find("<", done)) >= 0:
        end = markup.find(">", start)
        if end < 0:
            break  # no tag closes after here, so no later `<` opens one either
        parts += (markup[done:start], " ")
        done = end + 1
    parts.append(markup[done:])
    return "".join(parts)


def parse_feed(content: bytes, feed_url: str, content_type: str | None = None) -> ParsedFeed:
    """Parse a fetched feed document; raise `FeedError` when it holds no feed at all.

    Only bytes: given a string, feedparser would take it for a path or URL and open it.
    """
    if not isinstance(content, bytes):
        raise TypeError(f"parse_feed takes the fetched bytes, not {type(content).__name__}")
    if content.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return _parse_json_feed(content, feed_url)
    headers = {"content-location": feed_url}
    if content_type:
        headers["content-type"] = content_type
    if "charset=" not in (content_type or "").lower():
        content = _as_utf8(content)
    content = _CHARACTER_REFERENCE.sub(_valid_reference, content)
    try:
        parsed = feedparser.parse(
            content,
            response_headers=headers,
            resolve_relative_uris=True,
            sanitize_html=True,
        )
    except (ValueError, UnicodeError) as exc:  # what the reference check above cannot see
        raise FeedError(f"cannot be parsed: {describe(exc)}") from None
    problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if isinstance(problem, feedparser.NonXMLContentType) and not content_type:
        problem = None  # we gave no Content-Type, so its absence says nothing about the feed
    if not parsed.get("version") and not parsed.entries:
        if _is_html(content, content_type):
            raise FeedError(_html_page(content, feed_url))
        reason = describe(problem) if problem else "no RSS, Atom or JSON Feed document found"
        raise FeedError(f"not a feed: {reason}")
    entries, dropped = _each_entry(parsed.entries, lambda item: _entry(item, feed_url))
    warning = describe(problem) if problem else None
    return ParsedFeed(
        title=_text(plain_text(parsed.feed.get("title", ""))),
        entries=entries,
        warning=warning,
        ttl=_ttl(parsed.feed),
        dropped=dropped,
    )


def _valid_reference(reference: re.Match[bytes]) -> bytes:
    """A numeric character reference, or U+FFFD's when it names a surrogate or no character."""
    hexadecimal, decimal = reference.groups()
    digits = hexadecimal or decimal
    number = int(digits, 16 if hexadecimal else 10) if len(digits) <= 8 else 0x110000
    if 0xD800 <= number <= 0xDFFF or number > 0x10FFFF:
        return b"&#xFFFD;"
    return reference.group()


def _each_entry(
    items: Iterable[Any], make: Callable[[Any], Entry]
) -> tuple[tuple[Entry, ...], tuple[str, ...]]:
    """The entries made of `items`, and why any could not be: one bad entry costs only itself."""
    entries, dropped = [], []
    for number, item in enumerate(items, 1):
        try:
            entries.append(make(item))
        except Exception as exc:  # a publisher's entry must not cost the feed's others
            dropped.append(f"entry {number}: {type(exc).__name__}: {describe(exc)}"[:300])
    return tuple(entries), tuple(dropped)


def _text(value: str) -> str:
    """Text safe to hash and store on either backend: lone surrogates (from JSON's
    "\\ud800") become U+FFFD and NUL characters go (PostgreSQL's text holds none)."""
    return _LONE_SURROGATE.sub("\ufffd", value).replace("\x00", "")


def _as_utf8(content: bytes) -> bytes:
    """Transcode a feed with no declared charset that is not UTF-8 (EUC-JP, Shift_JIS, Latin-1).

    feedparser falls back to windows-1252 for such bytes, which turns Japanese
    feeds into mojibake; charset detection reads them correctly.
    """
    if _XML_DECLARED_ENCODING.match(content.lstrip(b"\xef\xbb\xbf")):
        return content
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return content  # UTF-16 or UTF-32 with a byte order mark: feedparser reads those

    try:
        content.decode("utf-8")
        return content
    except UnicodeDecodeError:
        pass
    # Japanese is a language this tool is for, and kana tell it apart for certain:
    # on short kanji-heavy texts, statistical detection takes EUC-JP for Korean cp949.
    for encoding in ("euc_jp", "shift_jis"):
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _KANA.search(text):
            return text.encode("utf-8")
    best = from_bytes(content).best()
    if best is None:
        return content
    return str(best).encode("utf-8")


_PERIODS = {
    "hourly": 3600,
    "daily": 86400,
    "weekly": 604800,
    "monthly": 2592000,
    "yearly": 31536000,
}


def _ttl(channel: Any) -> float | None:
    """How long the publisher says the feed stays fresh: RSS <ttl> (minutes) or the
    syndication module's updatePeriod / updateFrequency."""
    ttl = str(channel.get("ttl", "")).strip()
    if ttl.isdigit() and int(ttl) > 0:
        return int(ttl) * 60.0
    period = _PERIODS.get(str(channel.get("sy_updateperiod", "")).strip().lower())
    if period is None:
        return None
    frequency = str(channel.get("sy_updatefrequency", "1")).strip()
    return period / max(1, int(frequency)) if frequency.isdigit() else float(period)


def _entry(item: Any, feed_url: str) -> Entry:
    # `or ""`: from broken markup feedparser can give an element the value None.
    contents = [part.get("value") or "" for part in item.get("content", [])]
    # dict.get: FeedParserDict.get would map a missing updated_parsed to published_parsed.
    updated = _from_struct(dict.get(item, "updated_parsed"))
    return _make_entry(
        feed_url,
        guid=item.get("id"),
        link=item.get("link"),
        title=plain_text(item.get("title") or ""),
        summary=plain_text(max([*contents, item.get("summary") or ""], key=len)),
        # An Atom entry need only have <updated>: then that is its date, to the second,
        # rather than the page byline's day at midnight, or none (issue 15.6).
        published=_from_struct(item.get("published_parsed")) or updated,
        updated=updated,
        author=item.get("author") or None,
    )


def _make_entry(
    feed_url: str,
    *,
    guid: Any,
    link: Any,
    title: str,
    summary: str,
    published: datetime | None,
    updated: datetime | None,
    author: str | None,
) -> Entry:
    """An `Entry` with its link resolved against the feed and its identity worked out."""
    link = _text(link.strip()) if isinstance(link, str) and link.strip() else None
    title, summary = _text(title), _text(summary)
    # A link too long to fetch (fetch.MAX_URL_CHARS) is no identity to store either:
    # the fetcher refuses it, and the entry is kept by its guid with the feed's text.
    url = canonical_url(link, feed_url) if link and len(link) <= MAX_LINK_CHARS else None
    return Entry(
        key=_text(_key(guid, url, feed_url, title, summary)),
        url=url,
        link=urljoin(feed_url, link) if link else None,
        title=title,
        summary=summary,
        published=published,
        updated=updated,
        author=_text(author) if author else None,
    )


def _key(guid: Any, url: str | None, feed_url: str, title: str, summary: str) -> str:
    """A stable identity for an entry across polls and across feeds of one publisher.

    A guid that is a URL is canonicalised like a link; any other guid is scoped
    to the feed's host, because "1234" from two publishers is two articles.
    """
    guid = str(guid).strip() if guid else ""
    if guid:
        as_url = canonical_url(guid) if guid.startswith(("http://", "https://")) else None
        return as_url or f"{urlsplit(feed_url).hostname}|{guid}"
    if url:
        return url
    digest = hashlib.sha256(f"{title}\n{summary}".encode()).hexdigest()[:24]
    return f"{urlsplit(feed_url).hostname}|sha256:{digest}"


def _from_struct(value: time.struct_time | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime(*value[:6], tzinfo=UTC)
    except (TypeError, ValueError):
        return None


def _from_iso(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _parse_json_feed(content: bytes, feed_url: str) -> ParsedFeed:
    try:
        document = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FeedError(f"not a feed: invalid JSON: {exc}") from None
    if not isinstance(document, dict) or not str(document.get("version", "")).startswith(
        "https://jsonfeed.org/version/"
    ):
        raise FeedError("not a feed: JSON without a jsonfeed.org version")
    items = document.get("items")
    if not isinstance(items, list):
        raise FeedError("not a feed: JSON Feed without an items list")
    entries, dropped = _each_entry(
        (item for item in items if isinstance(item, dict)),
        lambda item: _json_entry(item, feed_url),
    )
    return ParsedFeed(
        title=_text(plain_text(str(document.get("title") or ""))), entries=entries, dropped=dropped
    )


def _json_entry(item: dict[str, Any], feed_url: str) -> Entry:
    texts = [str(item.get(k) or "") for k in ("content_text", "summary")]
    texts.append(plain_text(str(item.get("content_html") or "")))
    authors = item.get("authors") or ([item["author"]] if item.get("author") else [])
    return _make_entry(
        feed_url,
        guid=item.get("id"),
        link=item.get("url") or item.get("external_url"),
        title=plain_text(str(item.get("title") or "")),
        summary=" ".join(max(texts, key=len).split()),
        published=_from_iso(item.get("date_published")) or _from_iso(item.get("date_modified")),
        updated=_from_iso(item.get("date_modified")),
        author=authors[0].get("name") if authors and isinstance(authors[0], dict) else None,
    )


_FEED_TYPES = {
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/json",
    "application/rdf+xml",
}


def _is_html(content: bytes, content_type: str | None) -> bool:
    kind = (content_type or "").lower().split(";")[0].strip()
    if kind in ("text/html", "application/xhtml+xml"):
        return True
    start = content.lstrip(b"\xef\xbb\xbf \t\r\n")[:15].lower()
    return start.startswith((b"<!doctype html", b"<html"))


def _html_page(page: bytes, page_url: str) -> str:
    """Why a web page is not a feed, naming the feeds it announces: the URL to configure."""
    announced = discover(page, page_url)
    if not announced:
        return "not a feed: this is an HTML page, and it announces no feed"
    return f"not a feed: this is an HTML page; it announces these feeds: {', '.join(announced)}"


def discover(page: bytes, page_url: str) -> list[str]:
    """Feed URLs a web page announces with <link rel="alternate" type="...rss+xml" href>."""
    try:
        tree = lxml.html.fromstring(page)
    except (lxml.etree.ParserError, ValueError):
        return []
    found = []
    for link in tree.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").lower().split(";")[0].strip()
        href = link.get("href")
        if "alternate" in rel and kind in _FEED_TYPES and href:
            url = urljoin(page_url, href.strip())
            if url.startswith(("http://", "https://")) and url not in found:
                found.append(url)
    return found
