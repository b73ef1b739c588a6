"""The store's own values: what it is given to write, and what it hands back to read.

The values that cross the stages (Entry, Article, Match, Hit, PollResult) are
in `watcher.models`; these are the store's vocabulary for its callers: feeds
(`FeedState`, `FeedStatus`), articles being stored (`StoredEntry`,
`ArticleToStore`, `StoryRule`), the archive (`HitQuery`, `StoredArticle`,
`TermCount`), the search index (`Candidate`), the outbox (`Delivery`) and
housekeeping (`Pruned`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from watcher.models import Article, Entry, Hit, Match


class Named(Protocol):
    """Anything with a name: a configured channel, as `Store.sync` needs it."""

    @property
    def name(self) -> str: ...


class FeedListing(Protocol):
    """A configured feed as the store needs it (`watcher.config.FeedConfig` is one)."""

    @property
    def name(self) -> str: ...

    @property
    def url(self) -> str: ...

    @property
    def enabled(self) -> bool: ...


@dataclass(frozen=True)
class FeedState:
    """What the next conditional GET of a feed sends."""

    etag: str | None = None
    last_modified: str | None = None
    consecutive_errors: int = 0
    next_due: str | None = None  # ISO 8601, UTC
    interval: float | None = None  # seconds, as adapted to the publishing rate


@dataclass(frozen=True)
class StoredEntry:
    """The stored article a feed's entry turned out to be (same key or canonical URL).

    `fingerprint` is how this feed last described the entry (`app.poll.fingerprint`):
    None when this feed never carried it (another feed brought the article).
    """

    article_id: int
    fingerprint: str | None


@dataclass(frozen=True)
class ArticleToStore:
    """One entry ready to be stored: its article as read from its page (or its feed), how
    the feed describes the entry, and the terms the article matched."""

    entry: Entry
    article: Article
    fingerprint: str  # how the feed describes the entry (see `app.poll.fingerprint`)
    matches: Sequence[Match]
    # Lookup keys of `article.simhash` (`watcher.match.cluster.bands`): a new article is
    # offered the recent articles sharing one as copies of its story. (): none offered.
    bands: tuple[int, ...] = ()


@dataclass(frozen=True)
class StoryRule:
    """How a new article finds its story cluster (`watcher.match.cluster` decides; the
    poll passes the rule): copies first seen within `window` that share one of its
    bands are offered to `closest` as (SimHash, cluster) pairs, which names the
    cluster it joins, or None for a cluster of its own."""

    window: timedelta
    closest: Callable[[int, Sequence[tuple[int, int]]], int | None]


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
class TermCount:
    """Hits of one term found in one day or week (`watcher stats`)."""

    period: str  # the day, or the Monday of the week, as YYYY-MM-DD (UTC)
    term: str
    hits: int


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
class Candidate:
    """An article the index ranks for a search, before the query is checked on its words."""

    article_id: int
    rank: float  # bm25: lower is better


@dataclass(frozen=True)
class Pruned:
    """What one housekeeping run deleted (or, dry, would delete)."""

    articles: int
    polls: int


@dataclass(frozen=True)
class MutedStory:
    """A story muted now: its later copies are stored but sent to no channel."""

    cluster: int
    since: str  # ISO 8601, UTC
    until: str | None  # None: for ever
    title: str  # the headline of its newest copy ("" when none is stored any more)


@dataclass(frozen=True)
class SnoozedTerm:
    """A term snoozed now: its hits are stored but sent to no channel until `until`."""

    term: str
    since: str  # ISO 8601, UTC
    until: str


@dataclass(frozen=True)
class JudgedCount:
    """How many (article, term) pairs of one term were judged one way, hit or missed."""

    term: str
    verdict: str  # "relevant", "not_relevant" or "important"
    hit: bool  # the term hit the article (False: a miss, found by search and judged)
    count: int


@dataclass(frozen=True)
class ProcessBeat:
    """One watcher process sharing the database, as its last beat left it."""

    host: str
    pid: int
    started_at: str  # ISO 8601, UTC
    beat_at: str
    stopped_at: str | None
    feeds: int  # polls in hand at its last beat
