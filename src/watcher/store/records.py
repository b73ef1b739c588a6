"""The store's own values: what it is given to write and what it hands back.

The values that cross the stages (Entry, Article, Match, Hit) are in
`watcher.models`; these are the store's vocabulary for its callers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
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
