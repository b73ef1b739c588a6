"""One-off actions outside the service, as the CLI runs them: a poll of every feed once
(`watcher poll`), one article fetched to try terms on (`terms test --url`), a feed
found from a site's address (`feeds add`).

Each opens its own HTTP client (and extraction workers, store) and closes it after.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import httpx

from watcher.app.poll import FEED_ACCEPT, Poller
from watcher.config.load import Config, FeedConfig
from watcher.errors import FeedError, FetchError
from watcher.models import Article, Entry, PollResult
from watcher.sources.extract import Extractor
from watcher.sources.feed import canonical_url, discover, parse_feed
from watcher.sources.http import Fetcher
from watcher.sources.page import read_article
from watcher.store import open_storage

log = logging.getLogger(__name__)


async def fetch_article(config: Config, url: str) -> Article:
    """One page, fetched and extracted as a poll would (for trying terms on it)."""
    entry = Entry(
        key=url, url=canonical_url(url), link=url, title="", summary="", published=None,
        updated=None,
    )  # fmt: skip
    with Extractor(workers=0) as extractor:
        async with Fetcher(config.fetch) as fetcher:
            return await read_article(entry, fetcher, extractor)


async def poll_once(
    config: Config,
    feeds: Sequence[FeedConfig],
    on_done: Callable[[PollResult], None] | None = None,
    workers: int | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> list[PollResult]:
    """One cycle over `feeds`, with its own HTTP client, extraction workers and store."""
    with open_storage(config.database) as store, Extractor(workers) as extractor:
        store.sync(config.feeds, config.channels, datetime.now(UTC))
        async with Fetcher(config.fetch, transport) as fetcher:
            poller = Poller(config, store, fetcher, extractor)
            return await poller.poll_all(feeds, on_done)


async def find_feed(config: Config, url: str) -> tuple[str, str]:
    """(feed URL, feed title) for a feed URL, or for a site URL by its announced feeds."""
    async with Fetcher(config.fetch) as fetcher:
        page = await fetcher.get(url, accept=FEED_ACCEPT)
        try:
            return page.url, parse_feed(page.content, page.url, page.content_type).title
        except FeedError:
            pass
        candidates = discover(page.content, page.url)
        if not candidates:
            raise FeedError(f"{url}: neither a feed nor a page that links to one")
        reasons = []
        for candidate in candidates:
            try:
                # The page's own choice, not the operator's: checked as article links are.
                found = await fetcher.get(candidate, accept=FEED_ACCEPT, public_only=True)
                return found.url, parse_feed(found.content, found.url, found.content_type).title
            except (FetchError, FeedError) as exc:
                log.info("feed candidate %s: %s", candidate, exc)
                reasons.append(str(exc) if isinstance(exc, FetchError) else f"{candidate}: {exc}")
        raise FeedError(f"{url}: none of its announced feeds could be read: {reasons[0]}")
