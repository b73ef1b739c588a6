"""The store's own values: what it is given to write and what it hands back.

The values that cross the stages (Entry, Article, Match, Hit) are in
`watcher.models`; these are the store's vocabulary for its callers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from watcher.models import Article, Entry, Match


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
class PollRecord:
    """The outcome of one poll of one feed, as the `polls` table keeps it."""

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
    # judged by what the next answer from any feed says (see `record_poll`).
    unreachable: bool = False
    wait: float | None = None  # seconds from this poll to the next, without jitter
    reason: str | None = None  # why that long (`watcher.app.schedule`: interval, backoff, ...)

    @property
    def failed(self) -> bool:
        return self.status == "failed"
