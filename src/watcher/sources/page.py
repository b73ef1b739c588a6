"""An entry's article: its page fetched, in turn with the other pages, and extracted.

`read_article` falls back to the feed's own text when the page gives none;
`PageGate` bounds how many pages wait in memory between fetching and extraction.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime
from urllib.parse import urlsplit

from watcher.errors import ExtractError, FetchError
from watcher.models import Article, Entry, Extracted
from watcher.sources.extract import MIN_TEXT_CHARS, Extractor, capped, text_amount
from watcher.sources.hosts import HostLimits
from watcher.sources.http import Fetcher

log = logging.getLogger(__name__)

PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"


class PageGate:
    """How many article pages are in hand at once, and when one may be fetched.

    Fetching outruns extraction: unbounded, every page of a cycle waited in
    memory (1.1 GB for 4,000 real pages on the feed farm). So pages fetched
    or being fetched and not yet extracted are bounded. A page takes its
    place only once its host may be fetched from (as many at once as the
    fetcher's per-host limit): otherwise the pages of one feed's slow host
    filled every place while they waited their turn, and the other hosts'
    pages waited behind them (figures: bench/README.md, run.py --latency).
    """

    def __init__(self, in_hand: int, per_host: int) -> None:
        self._in_hand = asyncio.Semaphore(in_hand)
        self._hosts = HostLimits(per_host)

    @contextlib.asynccontextmanager
    async def held(self, url: str) -> AsyncIterator[Callable[[], None]]:
        """Hold a place for the page at `url` for the block; the block calls what this
        yields once the page is fetched, to let the host's next page go."""
        try:
            host = urlsplit(url).hostname or ""
        except ValueError:
            host = ""  # the fetcher refuses it, with the reason
        fetched = await self._hosts.acquire(host)
        try:
            async with self._in_hand:
                yield fetched
        finally:
            fetched()


async def read_article(
    entry: Entry, fetcher: Fetcher, extractor: Extractor, pages: PageGate | None = None
) -> Article:
    """The article's text from its page, or from the feed when the page gives none.

    `pages` bounds the pages in hand across concurrent reads.
    """
    note: str | None = "entry has no link"
    if entry.link:
        place = pages.held(entry.link) if pages else contextlib.nullcontext(_nothing)
        try:
            async with place as fetched:
                page = await fetcher.get(entry.link, accept=PAGE_ACCEPT, public_only=True)
                fetched()
                # The page's metadata only fills what the feed left out.
                wanted = not (entry.title and entry.published)
                extracted = await extractor.extract(page.content, page.url, wanted, entry.title)
            note = _unusable(extracted)
            if extracted is not None and note is None:
                return Article(
                    url=entry.url,
                    title=entry.title or extracted.title or "",
                    text=extracted.text,
                    source="page",
                    published=entry.published or _page_date(extracted),
                    author=entry.author or extracted.author,
                    language=extracted.language,
                    simhash=extracted.simhash,
                )
        except (FetchError, ExtractError) as exc:
            note = str(exc)
        log.info("using the feed's text for %s: %s", entry.link, note)
    return Article(
        url=entry.url,
        title=entry.title,
        text=capped(entry.summary),
        source="summary",
        published=entry.published,
        author=entry.author,
        note=note,
    )


def _nothing() -> None:
    pass


def _unusable(extracted: Extracted | None) -> str | None:
    if extracted is None:
        return "no article text on the page"
    if text_amount(extracted.text) < MIN_TEXT_CHARS:
        return f"page text too short ({len(extracted.text)} characters)"
    return None


def _page_date(extracted: Extracted) -> datetime | None:
    if not extracted.published:
        return None
    try:
        day = date.fromisoformat(extracted.published[:10])
    except ValueError:
        return None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
