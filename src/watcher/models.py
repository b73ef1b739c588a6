"""The plain values that flow between the stages of one poll.

feed bytes -> `Entry` -> (page) -> `Article` -> `Match` per term -> stored `Hit`
-> `Digest` per channel -> `Delivery` (the outbox row that tracks sending it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Entry:
    """One item of a feed, as the publisher described it."""

    key: str  # guid scoped to the publisher, or the canonical URL when there is no guid
    url: str | None  # canonical article URL (tracking parameters stripped)
    link: str | None  # the link as given, for fetching
    title: str
    summary: str  # plain text of the feed's summary/content, the fallback for matching
    published: datetime | None
    updated: datetime | None
    author: str | None = None


@dataclass(frozen=True)
class ParsedFeed:
    """A feed document: its own title and its entries, plus what was wrong with it."""

    title: str
    entries: tuple[Entry, ...]
    warning: str | None = None  # a recoverable problem (e.g. malformed XML salvaged)
    ttl: float | None = None  # seconds the publisher says the feed stays fresh
    dropped: tuple[str, ...] = ()  # why entries that could not be read were left out


@dataclass(frozen=True)
class Extracted:
    """What the article page yielded: main text and metadata."""

    text: str
    title: str | None = None
    author: str | None = None
    published: str | None = None  # ISO date as found on the page
    language: str | None = None
    simhash: int | None = None  # `cluster.simhash` of the article's title and this text


@dataclass(frozen=True)
class Article:
    """The text we match terms against, and where it came from."""

    url: str | None
    title: str
    text: str
    source: str  # "page" when extracted from the article page, "summary" for the feed's text
    published: datetime | None
    author: str | None = None
    language: str | None = None
    note: str | None = None  # why the page was not used, when source == "summary"
    # `cluster.simhash` of title and text when the extraction worker computed it already;
    # None: the store computes it.
    simhash: int | None = None


@dataclass(frozen=True)
class Match:
    """One watch-term's evidence in one article."""

    term: str
    phrase: str  # the first match, as written in the article
    snippet: str  # text around the first match
    score: float
    count: int  # number of matches in title and text
    in_title: bool
    clauses: tuple[str, ...] = ()  # the query's words and phrases that matched
    highlights: tuple[tuple[int, int], ...] = ()  # matched spans, as offsets into `snippet`


@dataclass(frozen=True)
class FetchResult:
    """An HTTP response we accepted: 200 with a body, or 304 without one."""

    url: str  # the final URL after redirects
    status: int
    content: bytes
    etag: str | None
    last_modified: str | None
    content_type: str | None
    max_age: float | None = None  # Cache-Control max-age, seconds


@dataclass(frozen=True)
class Hit:
    """A stored match, as `watcher hits` shows it."""

    id: int
    term: str
    url: str | None
    title: str
    published: str | None  # ISO 8601, UTC
    feed: str
    snippet: str
    score: float
    found_at: str  # ISO 8601, UTC
    source: str  # "page" or "summary"
    cluster: int | None = None  # articles that are copies of one story share it
    outlets: int = 1  # feeds that carried a copy of the story
    clauses: list[str] = field(default_factory=list)  # the query parts that matched
    highlights: list[list[int]] = field(default_factory=list)  # [start, end] in `snippet`
    text: str | None = None  # the article's whole text, when asked for (`watcher export`)
    outlet_names: tuple[str, ...] = ()  # the feeds of `outlets`, by name
    # Triage marks (store/marks.py): read, the verdict on its (article, term), and
    # whether it was found while its story was muted or its term snoozed.
    read: bool = False
    verdict: str | None = None  # "relevant", "not_relevant", "important" or None
    muted: bool = False
    snoozed: bool = False


SORTS = ("found", "published", "score")


@dataclass(frozen=True)
class HitQuery:
    """Which stored hits to list and in what order, for `watcher hits` and `watcher export`."""

    terms: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()  # any feed that carried the article
    since: datetime | None = None  # found at or after
    until: datetime | None = None  # found before
    min_score: float | None = None
    delivered: bool | None = None  # True: in a digest some channel accepted; False: in none
    read: bool | None = None  # True: only hits marked read; False: only unread ones
    judged: bool | None = None  # True: only hits with a verdict; False: only those without
    verdicts: tuple[str, ...] = ()  # only hits judged one of these
    sort: str = "found"  # one of SORTS (newest found, newest published, best score), or "oldest"
    limit: int | None = None


@dataclass(frozen=True)
class StoredArticle:
    """An article as stored, with every feed that carried it and its hits (`watcher show`)."""

    id: int
    url: str | None
    title: str
    text: str
    source: str  # "page" or "summary"
    feed: str  # the first feed that brought it
    published: str | None  # ISO 8601, UTC
    first_seen_at: str  # ISO 8601, UTC
    author: str | None = None
    language: str | None = None
    note: str | None = None  # why the page was not used, when source == "summary"
    feeds: tuple[str, ...] = ()
    hits: tuple[Hit, ...] = ()


@dataclass(frozen=True)
class SearchResult:
    """An article a full-text search found, best first, with why it matched."""

    article_id: int
    title: str
    url: str | None
    feed: str
    published: str | None  # ISO 8601, UTC
    first_seen_at: str  # ISO 8601, UTC
    rank: float  # bm25 of the search index: lower is better
    score: float  # as a watch-term's score: 3 per title match, 1 per text match, NEAR closeness
    snippet: str
    highlights: list[list[int]] = field(default_factory=list)  # [start, end] in `snippet`
    clauses: list[str] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)  # watch-terms that hit the article


@dataclass(frozen=True)
class TermCount:
    """Hits of one term found in one day or week (`watcher stats`)."""

    period: str  # the day, or the Monday of the week, as YYYY-MM-DD (UTC)
    term: str
    hits: int


@dataclass(frozen=True)
class FeedStatus:
    """A feed's fetch state and health, as `watcher feeds list` shows it."""

    name: str
    url: str
    enabled: bool
    last_polled: str | None
    last_ok: str | None
    last_status: int | None
    consecutive_errors: int
    last_error: str | None
    articles: int
    hits: int
    failing_since: str | None = None  # ISO 8601, UTC; set while the feed keeps failing
    next_due: str | None = None  # ISO 8601, UTC
    wait: float | None = None  # seconds from its last poll to the next, without jitter
    reason: str | None = None  # why: interval, adaptive, backoff, publisher, database
    # Its host could not be reached at its last poll; whether that is the feed's fault
    # or the network's is known once another feed answers.
    unreachable_since: str | None = None


@dataclass(frozen=True)
class ServiceStatus:
    """The service process and totals, as `watcher status` shows them."""

    state: str  # "running since ...", "stopped at ...", "not responding since ...", "never run"
    database: str
    feeds: int
    failing: int
    hits_today: int
    hits_total: int
    integrity: str | None = None  # the last integrity check's finding ("ok at ...")
    pid: int | None = None
    started_at: str | None = None
    heartbeat_at: str | None = None
    pending_deliveries: int = 0  # digests waiting to be sent or retried
    failed_deliveries: int = 0  # digests that ran out of attempts
    network_down_since: str | None = None  # no feed answered since then, many were unreachable


@dataclass(frozen=True)
class Delivery:
    """A digest in the outbox, as `watcher deliveries` shows it."""

    id: str  # also the webhook-id and the email's Message-ID, stable across retries
    channel: str
    status: str  # "pending", "sent" or "failed"
    hits: int
    attempts: int
    created_at: str  # ISO 8601, UTC
    next_attempt_at: str | None
    sent_at: str | None = None
    last_error: str | None = None


@dataclass(frozen=True)
class Story:
    """Copies of one story under one term, newest first ("reported by N outlets")."""

    cluster: int | None
    outlets: int
    hits: tuple[Hit, ...]
    outlet_names: tuple[str, ...] = ()  # the feeds that carried it, by name


@dataclass(frozen=True)
class TermGroup:
    term: str
    stories: tuple[Story, ...]

    @property
    def hits(self) -> int:
        return sum(len(story.hits) for story in self.stories)


@dataclass(frozen=True)
class HitLinks:
    """Where a digest's reader goes to see a hit on the web desk, or to dismiss it
    (a signed link, see delivery/links.py)."""

    page: str
    not_relevant: str


@dataclass(frozen=True)
class Digest:
    """What one message to one channel says: hits by term, then story; feeds that fail."""

    id: str
    channel: str
    created_at: str  # ISO 8601, UTC
    groups: tuple[TermGroup, ...]
    failing: tuple[FeedStatus, ...] = ()  # feeds failing for longer than the notice period
    timezone: str = "UTC"  # the channel's: the times a reader sees are in it
    links: Mapping[int, HitLinks] = field(default_factory=dict)  # by hit id

    @property
    def hits(self) -> int:
        return sum(group.hits for group in self.groups)
