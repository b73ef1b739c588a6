"""Article page HTML -> main text and metadata, with trafilatura.

Extraction is CPU-bound (tens of milliseconds per real news page), so
`Extractor` runs it in a pool of worker processes while the event loop keeps
fetching. A page gets `EXTRACT_DEADLINE` seconds: a pathological one (deeply
nested or enormous markup) can keep lxml busy for minutes, and trafilatura
no longer has a timeout of its own (signals do not work in threads), so the
pool (pebble) kills a worker past its deadline and starts a new one.

trafilatura is imported where a page is read, not with this module: the
poller's process hands pages to the workers and never reads one itself, and
trafilatura with lxml is a third of its memory (measured: about 30 MB).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from typing import TYPE_CHECKING

import pebble

from watcher.cluster import simhash
from watcher.errors import ExtractError
from watcher.models import Extracted

if TYPE_CHECKING:
    from trafilatura.settings import Document

log = logging.getLogger(__name__)

# Below this many characters the page gave us a cookie wall, a JS shell or a
# redirect stub rather than the article, and the feed's own text is better.
MIN_TEXT_CHARS = 200
EXTRACT_DEADLINE = 20.0  # seconds; real news pages take well under one


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


class Extractor:
    """Runs `extract_page` in worker processes (or inline when `workers` is 0)."""

    def __init__(self, workers: int | None = None, deadline: float = EXTRACT_DEADLINE) -> None:
        count = (os.cpu_count() or 1) if workers is None else workers
        self.workers = count
        self.deadline = deadline
        self._pool: pebble.ProcessPool | None = None
        if count > 0:
            # forkserver: workers never inherit the event loop, sockets or threads of
            # the poller; the server imports trafilatura once for all of them.
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["trafilatura", "watcher.extract"])
            self._pool = pebble.ProcessPool(max_workers=count, context=context)

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
                extract_page, (html, url, metadata, headline), timeout=self.deadline
            )
            return await asyncio.wrap_future(future)
        except TimeoutError:
            log.warning("extraction of %s stopped after %gs", url, self.deadline)
            raise ExtractError(f"{url}: extraction took longer than {self.deadline:g}s") from None
        except (
            Exception
        ) as exc:  # trafilatura and lxml raise many kinds; one page must not stop a poll
            log.warning("extraction failed for %s: %s: %s", url, type(exc).__name__, exc)
            raise ExtractError(f"{url}: extraction failed: {type(exc).__name__}") from None

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
