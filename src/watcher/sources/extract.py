"""Article page HTML -> main text and metadata, with trafilatura.

Extraction is CPU-bound (tens of milliseconds per real news page), so
`Extractor` runs it in a pool of worker processes while the event loop keeps
fetching. A page gets `EXTRACT_DEADLINE` seconds: a pathological one (deeply
nested or enormous markup) can keep lxml busy for minutes, and trafilatura
no longer has a timeout of its own (signals do not work in threads), so the
pool (pebble) kills a worker past its deadline and starts a new one.

Feed documents are parsed in the same workers (`Extractor.parse`): parsing a
stranger's feed is CPU work on a stranger's text too, and a 10 MB feed of
`&lt;` keeps feedparser busy for seconds, which in the poller's event loop
stalled every other feed (issue 17).

Each worker's memory is bounded (`WORKER_MEMORY`): a page that would need
more ends its worker, which the pool replaces, and the entry keeps the feed's
text, as with the deadline.

trafilatura is imported where a page is read, not with this module: the
poller's process hands pages to the workers and never reads one itself, and
trafilatura with lxml is a third of its memory (measured: about 30 MB).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import re
import resource
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import pebble

from watcher.errors import ExtractError, FeedError
from watcher.match import simhash
from watcher.models import Extracted, ParsedFeed

if TYPE_CHECKING:
    from trafilatura.settings import Document

log = logging.getLogger(__name__)
T = TypeVar("T")

# Below this much text (in Latin letters' worth, see `text_amount`) the page gave us
# a cookie wall, a JS shell or a redirect stub rather than the article, and the
# feed's own text is better.
MIN_TEXT_CHARS = 200
# What a character is worth in Latin letters. One news sentence, written in English,
# Hindi, Japanese and Chinese, has 122, 139, 50 (23 kanji, 25 kana) and 32 characters;
# weighted so (Han 4, kana and hangul 2, the rest 1), 122, 139, 144 and 128: one amount
# of text within 15% in every script, where a count of characters put the Chinese at a
# quarter of the English and refused short Japanese and Chinese articles (issue 15.7).
# Indic scripts need no weight: their vowel signs are characters of their own.
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA_HANGUL = re.compile("[\u3041-\u30ff\u1100-\u11ff\uac00-\ud7af]")
EXTRACT_DEADLINE = 20.0  # seconds; real news pages take well under one
# The text kept of one article: a long feature is 60,000 characters; beyond this a
# page is a data dump or an attack, and every copy of it costs the database and matching.
MAX_TEXT_CHARS = 300_000
# Address space per worker. An idle worker maps 56 MB and a real news page adds a few;
# a 12.7 MB one-table page took 0.95 GB and 18 s (issue 17): with this limit its
# worker ends after 7 s, is replaced, and the entry keeps the feed's text.
WORKER_MEMORY = 512 * 2**20
# Workers by default: one per core, but no more than this, so that the worst case
# (every worker at WORKER_MEMORY, 2 GB) stays within the unit's MemoryMax (3G).
MAX_WORKERS = 4
_OUT_OF_MEMORY = 86  # a worker's exit status after a MemoryError: the pool replaces it


def extract_page(
    html: bytes, url: str, metadata: bool = True, headline: str | None = None
) -> Extracted | None:
    """The article's main text and metadata, or None when the page has no article text.

    `metadata` False skips the title, author and date (a fifth of the time on a
    real news page, when the feed gave them already); `headline`, the feed's
    title, is then what is taken off the start of the text.
    """
    document = read_page(html, url, metadata)
    if document is None:
        return None
    text = (document.text or "").strip()
    title = (document.title or "").strip()
    opening = title or (headline or "").strip()
    if opening and text.startswith(opening):
        # The headline opens the article body on most sites; it is kept as the title.
        text = text[len(opening) :].lstrip()
    if not text:
        return None
    text = capped(text)
    # The story fingerprint, here rather than in the poller's one process: it costs
    # about a millisecond an article, and the workers run on every core.
    fingerprint = simhash(f"{headline or title}\n{text}")
    return Extracted(
        text=text,
        title=title or None,
        author=document.author or None,
        published=document.date or None,
        language=document.language or None,
        simhash=fingerprint,
    )


def text_amount(text: str) -> int:
    """How much text `text` holds, in Latin letters' worth (see `MIN_TEXT_CHARS`)."""
    han = sum(1 for _ in _HAN.finditer(text))
    kana_hangul = sum(1 for _ in _KANA_HANGUL.finditer(text))
    return len(text) + 3 * han + kana_hangul


def capped(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    """`text` cut to at most `limit` characters, at a space when there is one near the end."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", limit - 200, limit)
    return text[: cut if cut > 0 else limit]


def read_page(html: bytes, url: str, metadata: bool = True) -> Document | None:
    """trafilatura's reading of a page with our settings: the extraction alone.

    The date is looked for in the page's markup (meta tags, time elements,
    the URL), not in its whole text: that search tripled the time per real page.
    """
    import trafilatura  # here, not at the top: see the module's docstring
    from trafilatura.settings import set_date_params

    document = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=metadata,
        date_extraction_params=set_date_params(extensive=False),
        include_comments=False,
        include_tables=True,
        # Recall first: a long text is kept without the second opinion of readability
        # and justext, which took 30% of the time per real page. On the corpus's gold
        # snippets it keeps the same 38 of 41 and lets one more boilerplate line in.
        favor_recall=True,
        # Off: trafilatura's deduplication remembers paragraphs across calls, so in a
        # long-lived worker the sixth copy of a story (wire copy in six outlets, or
        # one article re-read after updates) came out empty, and its hits were lost.
        deduplicate=False,
    )
    if document is None or isinstance(document, dict):  # dict only with as_dict=True
        return None
    return document


def _bound_memory(limit: int) -> None:
    """Worker initializer: past `limit` bytes of address space, allocations fail."""
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _in_worker(function: Callable[..., T], *args: Any) -> T:
    """Run `function` in a worker; a worker that ran out of memory ends, to be replaced.

    After a MemoryError, lxml's and the allocator's state are not to be trusted.
    """
    try:
        return function(*args)
    except MemoryError:
        os._exit(_OUT_OF_MEMORY)


def parse_feed_text(content: bytes, url: str, content_type: str | None) -> ParsedFeed:
    """`feeds.parse_feed`, imported here so that workers load feedparser only when used."""
    from watcher.sources.feed import parse_feed

    return parse_feed(content, url, content_type)


class Extractor:
    """Runs `extract_page` and feed parsing in worker processes (or inline when `workers` is 0)."""

    def __init__(
        self,
        workers: int | None = None,
        deadline: float = EXTRACT_DEADLINE,
        memory: int = WORKER_MEMORY,
    ) -> None:
        count = min(os.cpu_count() or 1, MAX_WORKERS) if workers is None else workers
        self.workers = count
        self.deadline = deadline
        self.memory = memory
        self._pool: pebble.ProcessPool | None = None
        if count > 0:
            # forkserver: workers never inherit the event loop, sockets or threads of
            # the poller; the server imports trafilatura once for all of them.
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["trafilatura", "watcher.sources.extract"])
            self._pool = pebble.ProcessPool(
                max_workers=count, initializer=_bound_memory, initargs=(memory,), context=context
            )

    async def parse(self, content: bytes, url: str, content_type: str | None) -> ParsedFeed:
        """Parse a fetched feed in a worker (in a thread when inline), within the deadline.

        Raises `FeedError` when the bytes are no feed, or when parsing them
        outlasts the deadline or the worker's memory.
        """
        if self._pool is None:
            return await asyncio.to_thread(parse_feed_text, content, url, content_type)
        try:
            future = self._pool.schedule(
                _in_worker, (parse_feed_text, content, url, content_type), timeout=self.deadline
            )
            return await asyncio.wrap_future(future)
        except FeedError:
            raise
        except TimeoutError:
            log.warning("parsing the feed %s stopped after %gs", url, self.deadline)
            raise FeedError(f"parsing took longer than {self.deadline:g}s") from None
        except Exception as exc:  # the worker died, ran out of memory, or feedparser broke
            raise FeedError(f"parsing failed: {self._failure(exc)}") from None

    def _failure(self, exc: Exception) -> str:
        if isinstance(exc, pebble.ProcessExpired) and exc.exitcode == _OUT_OF_MEMORY:
            return f"more than {self.memory // 2**20} MB of memory needed"
        return type(exc).__name__

    async def extract(
        self, html: bytes, url: str, metadata: bool = True, headline: str | None = None
    ) -> Extracted | None:
        """Extract in a worker; None when the page has no article text.

        Raises `ExtractError` when the page breaks the extractor or outlasts the deadline.
        """
        try:
            if self._pool is None:
                return extract_page(html, url, metadata, headline)
            future = self._pool.schedule(
                _in_worker, (extract_page, html, url, metadata, headline), timeout=self.deadline
            )
            return await asyncio.wrap_future(future)
        except TimeoutError:
            log.warning("extraction of %s stopped after %gs", url, self.deadline)
            raise ExtractError(f"{url}: extraction took longer than {self.deadline:g}s") from None
        except (
            Exception
        ) as exc:  # trafilatura and lxml raise many kinds; one page must not stop a poll
            log.warning("extraction failed for %s: %s: %s", url, type(exc).__name__, exc)
            raise ExtractError(f"{url}: extraction failed: {self._failure(exc)}") from None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()  # type: ignore[no-untyped-call]  # running ones may finish
            try:
                self._pool.join(self.deadline + 5)
            except TimeoutError:
                self._pool.stop()  # type: ignore[no-untyped-call]
                self._pool.join()

    def __enter__(self) -> Extractor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
