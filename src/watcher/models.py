"""The plain values that flow between the stages of one poll.

feed bytes -> `FetchResult` -> `ParsedFeed` of `Entry`s -> (page: `Extracted`)
-> `Article` -> `Match` per term -> `PollResult`, and the stored `Hit` that
digests are built from. Values only one package hands out live beside it: the
store's in `store/records.py`, a digest in `delivery/digest.py`, a search
result in `app/search.py`, the service's status in `app/status.py`.
"""

from __future__ import annotations

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
class PollResult:
    """What one poll of one feed did: the poll returns it, the store keeps it (a row of
    `polls`, the feed's health and schedule), `watcher poll` sums it up."""

    feed: str
    started_at: datetime
    finished_at: datetime
    status: str
    http_status: int | None = None
    entries: int = 0
    new_articles: int = 0
    updated_articles: int = 0
    hits: int = 0
    error: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    title: str | None = None
    next_due: datetime | None = None
    interval: float | None = None  # adapted to the publishing rate, on successful polls
    # The host could not be resolved or connected to: the feed's fault or the network's,
    # judged by what the next answer from any feed says (`store.feeds.Feeds.record_poll`).
    unreachable: bool = False
    wait: float | None = None  # seconds from this poll to the next, without jitter
    reason: str | None = None  # why that long (`watcher.app.schedule`: interval, backoff, ...)
    # False: the database refused this outcome; `next_due` is a retry, stored nowhere.
    recorded: bool = True

    @property
    def failed(self) -> bool:
        return self.status == "failed"


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
