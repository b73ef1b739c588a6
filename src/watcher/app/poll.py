"""One poll of one feed, end to end: fetch, parse, find new entries, extract, match, store.

Failures stay inside the poll of their feed: a feed that cannot be fetched or
parsed is one failed `PollResult`; a page that cannot be fetched or extracted
falls back to the feed's own text for that entry.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from watcher.app.schedule import (
    adaptive_interval,
    effective_interval,
    network_quorum,
    plan_next,
)
from watcher.config.load import Config, FeedConfig
from watcher.errors import FeedError, FetchError, QueryCostError, StoreError
from watcher.match import Matcher
from watcher.match.cluster import WINDOW, bands, closest, simhash
from watcher.models import Article, Entry, Match, PollResult
from watcher.sources.extract import Extractor
from watcher.sources.http import Fetcher
from watcher.sources.page import PageGate, read_article
from watcher.store import ArticleToStore, StoryRule
from watcher.store.protocols import Storage

log = logging.getLogger(__name__)

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9,"
    " application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5"
)
FUTURE_SLACK = timedelta(hours=2)  # entry dates this far ahead pass (clocks and zones differ)
STORE_RETRY = 60.0  # seconds until a poll whose outcome the database refused is tried again
# Feeds being polled at once, per connection allowed: enough for every connection to have
# a host whose turn it is; more only holds their entries and tasks in memory.
FEEDS_PER_CONNECTION = 2
# How a new article joins the story of a recent copy: `watcher.match.cluster` decides.
STORIES = StoryRule(WINDOW, closest)


@dataclass
class StoredCounts:
    """What storing a feed's entries did, counted: new hits, articles stored new or
    updated, entries skipped (added up over the entries of one poll)."""

    hits: int = 0
    new: int = 0
    updated: int = 0
    skipped: int = 0  # entries a fault kept out: the next poll tries them again

    def __iadd__(self, other: StoredCounts) -> StoredCounts:
        self.hits += other.hits
        self.new += other.new
        self.updated += other.updated
        self.skipped += other.skipped
        return self


def _dated_sanely(entry: Entry, now: datetime, feed: FeedConfig) -> Entry:
    """The entry without dates later than now (plus a little slack for clocks).

    A wrong clock or time zone, or a date typed by hand, would otherwise put the
    story at the top of every digest for years. Dropped rather than set to now,
    so the entry's fingerprint stays the same from one poll to the next.
    """
    latest = now + FUTURE_SLACK
    published = entry.published if entry.published is None or entry.published <= latest else None
    updated = entry.updated if entry.updated is None or entry.updated <= latest else None
    if (published, updated) == (entry.published, entry.updated):
        return entry
    log.info("feed %r: entry %s is dated in the future; date ignored", feed.name,
             entry.link or entry.key)  # fmt: skip
    return replace(entry, published=published, updated=updated)


def _claim(entry: Entry) -> str:
    """What two feeds carrying one story have in common: its canonical URL, else its key."""
    return entry.url or entry.key


def fingerprint(entry: Entry) -> str:
    """How a feed describes an entry; when it changes, the publisher updated the article."""
    stamp = entry.updated.isoformat() if entry.updated else ""
    text = "\x1f".join((entry.title, entry.summary, stamp))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def to_store(entry: Entry, article: Article, mark: str, matches: Sequence[Match]) -> ArticleToStore:
    """An entry's article ready for the store, with the band keys of its story fingerprint
    (`match.cluster.simhash`, computed here when the extraction worker did not)."""
    if article.simhash is None:
        article = replace(article, simhash=simhash(f"{article.title}\n{article.text}"))
    keys = () if article.simhash is None else tuple(bands(article.simhash))
    return ArticleToStore(entry, article, mark, matches, keys)


class Poller:
    """Polls feeds into the store, sharing one fetcher, extractor and clock."""

    def __init__(
        self,
        config: Config,
        store: Storage,
        fetcher: Fetcher,
        extractor: Extractor,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        owner: str | None = None,
    ) -> None:
        self.config = config
        # Who claims the feeds this poller polls ("host:pid", issue 20): a poll's record
        # ends that claim only. None: one-off polls, which claim nothing.
        self.owner = owner
        self.store = store
        self.fetcher = fetcher
        self.extractor = extractor
        self.clock = clock
        self.matcher = Matcher(config.terms)
        # Articles being processed right now, so two feeds carrying one story fetch it once.
        self._in_flight: dict[str, asyncio.Event] = {}
        # Enough pages in hand to keep every connection and every worker busy.
        self._pages = PageGate(
            config.fetch.concurrency + 4 * extractor.workers, config.fetch.per_host
        )
        self._feeds = asyncio.Semaphore(FEEDS_PER_CONNECTION * config.fetch.concurrency)

    def use(self, config: Config) -> None:
        """Poll with a reloaded config from now on (new terms, intervals, backoff)."""
        self.config = config
        self.matcher = Matcher(config.terms)

    async def poll_all(
        self,
        feeds: Iterable[FeedConfig],
        on_done: Callable[[PollResult], None] | None = None,
    ) -> list[PollResult]:
        """Poll feeds concurrently (the fetcher bounds how many requests are in flight)."""

        async def one(feed: FeedConfig) -> PollResult:
            result = await self.poll(feed)
            if on_done is not None:
                on_done(result)
            return result

        return list(await asyncio.gather(*(one(feed) for feed in feeds)))

    async def poll(self, feed: FeedConfig) -> PollResult:
        """Poll one feed; never raises, so its next poll is always planned.

        A fault of the database (locked past the busy timeout, read-only, full)
        fails the poll; when even the failure cannot be recorded, the poll is
        tried again `STORE_RETRY` seconds later. Polls beyond the feeds polled at
        once wait their turn here.
        """
        async with self._feeds:
            return await self._poll_now(feed)

    async def _poll_now(self, feed: FeedConfig) -> PollResult:
        started = self.clock()
        try:
            return await self._poll(feed, started)
        except StoreError as exc:
            log.error("feed %r: the database failed: %s", feed.name, exc)
            error = f"database: {exc}"
        except Exception as exc:  # a bug must cost one poll, not the service
            log.exception("feed %r: unexpected error", feed.name)
            error = f"{feed.url}: internal error: {type(exc).__name__}: {exc}"
        try:
            failed = PollResult(feed.name, started, self.clock(), "failed", error=error)
            return await self.store.call(self._finish, feed, failed)
        except StoreError as exc:
            log.error("feed %r: cannot record the poll (%s); next try in %gs", feed.name, exc,
                      STORE_RETRY)  # fmt: skip
            retry = self.clock() + timedelta(seconds=STORE_RETRY)
            error = f"database: {exc}"
            return PollResult(
                feed.name, started, self.clock(), "failed", error=error, next_due=retry,
                recorded=False,
            )  # fmt: skip

    async def _poll(self, feed: FeedConfig, started: datetime) -> PollResult:
        state = await self.store.call(self.store.feeds.state, feed.name)
        try:
            response = await self.fetcher.get(
                feed.url, etag=state.etag, last_modified=state.last_modified, accept=FEED_ACCEPT
            )
            if response.status == 304:
                unchanged = PollResult(feed.name, started, self.clock(), "not_modified", 304)
                return await self.store.call(
                    self._finish, feed, unchanged, floor=response.max_age or 0.0
                )
            # In a worker: CPU work on a stranger's text must not stall the other feeds.
            parsed = await self.extractor.parse(
                response.content, response.url, response.content_type
            )
        except (FetchError, FeedError) as exc:
            error = str(exc) if isinstance(exc, FetchError) else f"{feed.url}: {exc}"
            wait = exc.retry_after if isinstance(exc, FetchError) else None
            unreachable = isinstance(exc, FetchError) and exc.network
            record = PollResult(
                feed.name, started, self.clock(), "failed", error=error, unreachable=unreachable
            )
            return await self.store.call(self._finish, feed, record, floor=wait or 0.0)
        parsed = replace(
            parsed, entries=tuple(_dated_sanely(entry, started, feed) for entry in parsed.entries)
        )
        if parsed.warning:
            log.info(
                "feed %r: %s: salvaged a malformed feed: %s", feed.name, feed.url, parsed.warning
            )
        for reason in parsed.dropped:
            log.warning("feed %r: %s: left out %s", feed.name, feed.url, reason)

        todo = await self.store.call(self._triage, feed, parsed.entries)
        stored = await self._store_entries(feed, todo)
        if stored.skipped:
            # Keep the old validators, so the next poll gets the whole feed (not a 304)
            # and stores the skipped entries then.
            response = replace(response, etag=None, last_modified=None)
        return await self.store.call(
            self._finish,
            feed,
            PollResult(
                feed=feed.name,
                started_at=started,
                finished_at=self.clock(),
                status="ok",
                http_status=response.status,
                entries=len(parsed.entries),
                new_articles=stored.new,
                updated_articles=stored.updated,
                hits=stored.hits,
                error=f"{stored.skipped} entries skipped, retried next poll"
                if stored.skipped
                else None,
                etag=response.etag,
                last_modified=response.last_modified,
                title=parsed.title or None,
            ),
            floor=max(response.max_age or 0.0, parsed.ttl or 0.0),
            entries=parsed.entries,
        )

    def _triage(self, feed: FeedConfig, entries: Sequence[Entry]) -> list[tuple[Entry, str, bool]]:
        """The entries to read: (entry, fingerprint, whether it updates a stored article).

        Runs on the store's thread (`Store.call`).
        """
        todo: list[tuple[Entry, str, bool]] = []
        seen: set[str] = set()
        for entry in entries:
            if entry.key in seen or entry.url in seen:
                continue  # a feed that lists one item twice
            seen.update(filter(None, (entry.key, entry.url)))
            mark = fingerprint(entry)
            known = self.store.articles.lookup(feed.name, entry)
            if known is None:
                todo.append((entry, mark, False))
            elif known.fingerprint is None:
                # Another feed brought this article already: one article, one hit per term.
                self.store.articles.link_feed(known.article_id, feed.name, mark, self.clock())
            elif known.fingerprint != mark:
                todo.append((entry, mark, True))
        return todo

    def _finish(
        self,
        feed: FeedConfig,
        record: PollResult,
        floor: float = 0.0,
        entries: Sequence[Entry] = (),
    ) -> PollResult:
        """Store the outcome with the feed's next due time: its interval (shortened for a
        feed that publishes often, never lengthened), backing off after failures, no
        sooner than the publisher asked (`floor` seconds). Runs on the store's thread.

        An unreachable feed is not backed off: whether it failed is known only once
        another feed answers (`Feeds.record_poll`).
        """
        state = self.store.feeds.state(feed.name)
        errors = state.consecutive_errors
        if record.failed and not record.unreachable:
            errors += 1
        elif not record.failed:
            errors = 0
        suggested = None
        if self.config.adaptive:
            suggested = state.interval
            if entries:
                suggested = adaptive_interval(
                    (entry.published or entry.updated for entry in entries),
                    feed.interval,
                    self.config.min_interval,
                    self.config.max_interval,
                )
                record = replace(record, interval=suggested)
        interval, why = effective_interval(feed.interval, suggested)
        plan = plan_next(
            record.finished_at, interval, errors, self.config.max_backoff, floor=floor, reason=why
        )
        record = replace(record, next_due=plan.due, wait=plan.wait, reason=plan.reason)
        enabled = sum(1 for configured in self.config.feeds if configured.enabled)
        self.store.feeds.record_poll(record, network_quorum(enabled), owner=self.owner)
        if record.status == "failed":
            log.warning(
                "feed %r failed: %s", record.feed, record.error, extra={"feed": record.feed}
            )
        else:
            log.info(
                "feed %r: %s, %d entries, %d new, %d updated, %d hits",
                record.feed,
                record.status,
                record.entries,
                record.new_articles,
                record.updated_articles,
                record.hits,
                extra={"feed": record.feed},
            )
        return record

    async def _store_entries(
        self, feed: FeedConfig, todo: Sequence[tuple[Entry, str, bool]]
    ) -> StoredCounts:
        """Read a feed's new and updated entries and store them in one transaction.

        `todo` holds (entry, fingerprint, whether it updates a stored article).
        An entry that another feed is reading right now (one story in two
        feeds) is fetched once: it is linked to that feed's article once
        stored. Claims are released only after the commit, and other feeds'
        claims waited for only after it, so no two feeds wait for each other.
        """
        mine: list[tuple[Entry, str, bool]] = []
        theirs: list[tuple[Entry, str, bool]] = []
        claims: dict[str, asyncio.Event] = {}
        for item in todo:
            claim = _claim(item[0])
            if claim in self._in_flight:
                theirs.append(item)
            else:
                mine.append(item)
                claims[claim] = self._in_flight[claim] = asyncio.Event()
        stored = StoredCounts()
        try:
            outcomes = await asyncio.gather(
                *(self._read(entry) for entry, _, _ in mine), return_exceptions=True
            )
            readings, updates = [], []
            for (entry, mark, updated), outcome in zip(mine, outcomes, strict=True):
                if isinstance(outcome, BaseException):
                    stored.skipped += 1
                    log.error("feed %r: entry %s skipped: %s", feed.name, entry.link or entry.key,
                              outcome, exc_info=outcome)  # fmt: skip
                else:
                    readings.append((entry, outcome[0], mark, outcome[1]))
                    updates.append(updated)
            if readings:
                try:
                    saved = await self.store.call(self._save, feed.name, readings, self.clock())
                    for hits, updated in zip(saved, updates, strict=True):
                        if hits is None:  # refused by the database: logged, retried next poll
                            stored.skipped += 1
                        else:
                            stored.hits += hits
                            stored.updated += updated
                            stored.new += not updated
                except StoreError as exc:
                    stored.skipped += len(readings)
                    log.error("feed %r: %d entries skipped: the database failed: %s", feed.name,
                              len(readings), exc)  # fmt: skip
        finally:
            for claim, done in claims.items():
                del self._in_flight[claim]
                done.set()
        for entry, mark, updated in theirs:
            stored += await self._link_or_store(feed, entry, mark, updated)
        return stored

    def _save(
        self,
        feed: str,
        readings: Sequence[tuple[Entry, Article, str, list[Match]]],
        now: datetime,
    ) -> list[int | None]:
        """Store a feed's read entries (on the store's thread, as fingerprinting a long
        text must not hold up the event loop); the new hits of each, None if refused."""
        items = [to_store(*reading) for reading in readings]
        return self.store.articles.save(feed, items, now, STORIES)

    async def _link_or_store(
        self, feed: FeedConfig, entry: Entry, mark: str, updated: bool
    ) -> StoredCounts:
        """An entry another feed was reading: link it to the stored article, or (if that
        feed could not store it) read and store it for this feed."""
        claim = _claim(entry)
        while claim in self._in_flight:
            await self._in_flight[claim].wait()
        try:
            if await self.store.call(self._link, feed, entry, mark):
                return StoredCounts()
        except StoreError as exc:
            log.error("feed %r: entry %s skipped: the database failed: %s", feed.name,
                      entry.link or entry.key, exc)  # fmt: skip
            return StoredCounts(skipped=1)
        return await self._store_entries(feed, [(entry, mark, updated)])

    def _link(self, feed: FeedConfig, entry: Entry, mark: str) -> bool:
        """Link the entry to its stored article, if stored; whether it was (store's thread)."""
        known = self.store.articles.lookup(feed.name, entry)
        if known is not None:
            self.store.articles.link_feed(known.article_id, feed.name, mark, self.clock())
        return known is not None

    async def _read(self, entry: Entry) -> tuple[Article, list[Match]]:
        """The entry's article and the terms it matches."""
        article = await read_article(entry, self.fetcher, self.extractor, self._pages)
        # In a thread: a long crafted page took 17-21 s to match (issue 17), and in the
        # event loop every other feed's poll waited that long.
        matches = await asyncio.to_thread(self._match, article)
        return article, matches

    def _match(self, article: Article) -> list[Match]:
        """The terms the article matches; a term over its work budget is skipped and logged."""
        try:
            return self.matcher.match(article.title, article.text)
        except QueryCostError as exc:  # the article and its other terms' hits still count
            log.warning("%s: %s; that term is skipped for this article", article.url, exc)
            return list(exc.matches)
