"""What the rest of watcher needs of a store, whichever database holds it.

`Storage` is the whole store, made of one part per job: `FeedStore` (feeds,
polls, the schedule), `ArticleStore` (articles and hits as polls store them),
`ServiceStore` (the running service), `OutboxStore` (digests), `ArchiveStore`
(reading hits and articles), `SearchIndex` (full-text search) and
`RetentionStore` (housekeeping). SQLite's `watcher.store.Store` implements
them (mypy checks it: see the end of store/database.py); a second backend
implements them too.

The edge: every method may raise `StoreError` (one line naming the database
and what to do) when the database fails; database work from async code goes
through `Storage.call`, one piece of work at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import ParamSpec, Protocol, TypeVar

from watcher.models import Entry, Hit, PollResult
from watcher.store.records import (
    ArticleToStore,
    Candidate,
    Delivery,
    FeedListing,
    FeedState,
    FeedStatus,
    HitQuery,
    Named,
    Pruned,
    StoredArticle,
    StoredEntry,
    StoryRule,
    TermCount,
)

P = ParamSpec("P")
T = TypeVar("T")


class FeedStore(Protocol):
    """Feeds, their polls and their schedule."""

    def sync(self, feeds: Iterable[FeedListing]) -> None: ...
    def state(self, name: str) -> FeedState: ...
    def record_poll(self, record: PollResult, quorum: int = ...) -> None: ...
    def network_down(self, quorum: int) -> str | None: ...
    def due_times(self) -> dict[str, str | None]: ...
    def schedule_rows(self) -> dict[str, tuple[str | None, str | None, str | None, int]]: ...
    def set_due(self, name: str, when: datetime) -> None: ...
    def statuses(self, feeds: Sequence[FeedListing]) -> list[FeedStatus]: ...


class ArticleStore(Protocol):
    """Articles and hits, as a poll finds and saves them."""

    def lookup(self, feed: str, entry: Entry) -> StoredEntry | None: ...
    def link_feed(self, article_id: int, feed: str, fingerprint: str, now: datetime) -> None: ...
    def save(
        self, feed: str, articles: Sequence[ArticleToStore], now: datetime, stories: StoryRule
    ) -> list[int | None]: ...


class ServiceStore(Protocol):
    """The running service: its process, heartbeat and housekeeping runs."""

    def started(self, pid: int, now: datetime) -> None: ...
    def beat(self, now: datetime, stopped: bool = ...) -> None: ...
    def housekept(self, now: datetime) -> None: ...
    def last_housekeeping(self) -> str | None: ...
    def state(self) -> tuple[int, str, str, str | None] | None: ...


class OutboxStore(Protocol):
    """Channels and their digests, from written to sent or failed."""

    def sync_channels(self, names: Sequence[str], now: datetime) -> None: ...
    def first_seen(self, channel: str) -> str | None: ...
    def last_run(self, channel: str) -> str | None: ...
    def mark_run(self, channel: str, now: datetime) -> None: ...
    def undelivered(
        self,
        channel: str,
        *,
        terms: Sequence[str] = ...,
        min_score: float = ...,
        since: datetime,
    ) -> list[int]: ...
    def create(
        self,
        channel: str,
        now: datetime,
        *,
        terms: Sequence[str] = ...,
        min_score: float = ...,
        since: datetime,
        empty: bool = ...,
    ) -> str | None: ...
    def claim_due(
        self, now: datetime, pid: int, lease: float, channels: Sequence[str] = ...
    ) -> list[Delivery]: ...
    def mark_sent(self, digest_id: str, now: datetime) -> None: ...
    def mark_failed_attempt(
        self, digest_id: str, error: str, retry_at: datetime | None
    ) -> None: ...
    def retry_failed(self, now: datetime, channels: Sequence[str] = ...) -> int: ...
    def due_now(self, now: datetime, channels: Sequence[str] = ...) -> int: ...
    def next_attempt(self) -> str | None: ...
    def deliveries(
        self,
        *,
        ids: Sequence[str] | None = ...,
        status: str | None = ...,
        channels: Sequence[str] = ...,
        limit: int | None = ...,
    ) -> list[Delivery]: ...
    def counts(self) -> dict[str, int]: ...


class ArchiveStore(Protocol):
    """Stored hits and articles, read for people and for digests."""

    def hits(
        self,
        query: HitQuery = ...,
        *,
        ids: Sequence[int] | None = ...,
        digest: str | None = ...,
    ) -> list[Hit]: ...
    def iter_hits(
        self,
        query: HitQuery = ...,
        *,
        ids: Sequence[int] | None = ...,
        digest: str | None = ...,
        with_text: bool = ...,
    ) -> Iterator[Hit]: ...
    def article_of_hit(self, hit_id: int) -> StoredArticle | None: ...
    def article(self, article_id: int) -> StoredArticle | None: ...
    def articles(self, ids: Sequence[int]) -> list[StoredArticle]: ...
    def stats(
        self,
        *,
        since: datetime | None = ...,
        until: datetime | None = ...,
        terms: Sequence[str] = ...,
        by: str = ...,
    ) -> list[TermCount]: ...
    def stored_terms(self) -> list[str]: ...
    def stored_feeds(self) -> list[str]: ...


class SearchIndex(Protocol):
    """The full-text index of the stored articles."""

    def ranked(
        self,
        expression: str,
        *,
        since: datetime | None = ...,
        until: datetime | None = ...,
        feeds: Sequence[str] = ...,
        offset: int = ...,
        limit: int = ...,
    ) -> list[Candidate]: ...
    def rebuild(self, progress: Callable[[int, int], None] | None = ...) -> int: ...
    def check(self) -> None: ...


class RetentionStore(Protocol):
    """Deleting what the retention settings no longer keep."""

    def count(
        self, *, articles_before: datetime | None, polls_before: datetime | None
    ) -> Pruned: ...
    def prune(
        self,
        *,
        articles_before: datetime | None,
        polls_before: datetime | None,
        progress: Callable[[int], None] | None = ...,
        batch: int = ...,
    ) -> Pruned: ...


class Storage(Protocol):
    """The whole store: its parts, its one line of work for async callers, its totals."""

    @property
    def location(self) -> str: ...  # where the database is, for people (a path, a URL)
    @property
    def feeds(self) -> FeedStore: ...
    @property
    def articles(self) -> ArticleStore: ...
    @property
    def heartbeat(self) -> ServiceStore: ...
    @property
    def outbox(self) -> OutboxStore: ...
    @property
    def archive(self) -> ArchiveStore: ...
    @property
    def fulltext(self) -> SearchIndex: ...
    @property
    def retention(self) -> RetentionStore: ...

    async def call(self, work: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T: ...
    def close(self) -> None: ...
    def translated(self) -> AbstractContextManager[None]: ...
    def sync(
        self, feeds: Iterable[FeedListing], channels: Iterable[Named], now: datetime
    ) -> None: ...
    def hits_since(self, moment: datetime) -> int: ...
    def count(self, table: str) -> int: ...
    def check(self, now: datetime) -> list[str]: ...
    def last_check(self) -> tuple[str, str | None] | None: ...
    def ensure_sound(self, now: datetime) -> None: ...
    def schema_version(self) -> list[str]: ...
