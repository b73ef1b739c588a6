"""What the web desk reads: hits grouped by story, one article with every match marked,
and the health of the feeds and the outbox.

Plain functions of a `Storage` (and the config), like `search`: the desk calls
them through `Store.call`, the CLI could call them as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from watcher.app.status import ServiceStatus, service_status
from watcher.config.load import Config
from watcher.match import Matcher
from watcher.models import Hit
from watcher.store import Storage
from watcher.store.records import Delivery, FeedStatus, HitQuery, StoredArticle

OUTBOX_SHOWN = 50  # the newest digests on the health page


@dataclass(frozen=True)
class DeskStory:
    """Copies of one story on the desk, newest first, whatever terms hit them."""

    cluster: int | None
    hits: tuple[Hit, ...]
    outlets: int  # feeds that carried a copy ("reported by 3 outlets")
    outlet_names: tuple[str, ...]

    @property
    def lead(self) -> Hit:
        return self.hits[0]

    @property
    def terms(self) -> list[str]:
        return sorted({hit.term for hit in self.hits})


def stories(hits: Sequence[Hit]) -> list[DeskStory]:
    """Hits grouped by story cluster, in the order of each story's first hit in `hits`."""
    grouped: dict[object, list[Hit]] = {}
    for hit in hits:
        key = hit.cluster if hit.cluster is not None else ("hit", hit.id)
        grouped.setdefault(key, []).append(hit)
    return [
        DeskStory(
            cluster=copies[0].cluster,
            hits=tuple(copies),
            outlets=max(hit.outlets for hit in copies),
            outlet_names=tuple(sorted({name for hit in copies for name in hit.outlet_names})),
        )
        for copies in grouped.values()
    ]


def desk(store: Storage, query: HitQuery) -> list[DeskStory]:
    """The hits `query` selects, grouped by story."""
    return stories(store.archive.hits(query))


@dataclass(frozen=True)
class MarkedArticle:
    """A stored article in full with where its terms match (`watcher show`)."""

    article: StoredArticle
    title_spans: list[tuple[int, int]]
    text_spans: list[tuple[int, int]]


def marked_article(
    store: Storage, config: Config, *, hit: int | None = None, article: int | None = None
) -> MarkedArticle | None:
    """The article of a hit (or by its own id) with every match of its hits' terms marked."""
    stored = store.archive.article_of_hit(hit) if hit is not None else None
    if article is not None:
        stored = store.archive.article(article)
    if stored is None:
        return None
    names = {found.term for found in stored.hits}
    title, text = Matcher(term for term in config.terms if term.name in names).locate(
        stored.title, stored.text
    )
    return MarkedArticle(stored, title, text)


@dataclass(frozen=True)
class Health:
    """The health page: the service, each feed, the outbox."""

    service: ServiceStatus
    feeds: list[FeedStatus]
    deliveries: list[Delivery]
    counts: dict[str, int]


def health(store: Storage, config: Config, now: datetime) -> Health:
    feeds = store.feeds.statuses(config.feeds)
    return Health(
        service=service_status(store, feeds, now),
        feeds=feeds,
        deliveries=store.outbox.deliveries(limit=OUTBOX_SHOWN),
        counts=store.outbox.counts(),
    )


def retry_failed(store: Storage, now: datetime, channel: str | None = None) -> int:
    """Give failed digests (of one channel, or all) a new round of attempts; how many."""
    return store.outbox.retry_failed(now, [channel] if channel else [])
