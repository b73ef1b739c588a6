"""Article page HTML -> main text and metadata, with trafilatura.

Extraction is CPU-bound (tens of milliseconds per real news page), so
`Extractor` runs it in a pool of worker processes while the event loop keeps
fetching.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from concurrent.futures import Executor, ProcessPoolExecutor

import trafilatura

from watcher.models import Extracted

log = logging.getLogger(__name__)

# Below this many characters the page gave us a cookie wall, a JS shell or a
# redirect stub rather than the article, and the feed's own text is better.
MIN_TEXT_CHARS = 200


def extract_page(html: bytes, url: str) -> Extracted | None:
    """The article's main text and metadata, or None when the page has no article text."""
    document = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        deduplicate=True,
    )
    if document is None or isinstance(document, dict):  # dict only with as_dict=True
        return None
    text = (document.text or "").strip()
    title = (document.title or "").strip()
    if title and text.startswith(title):
        # The headline opens the article body on most sites; it is kept as the title.
        text = text[len(title) :].lstrip()
    if not text:
        return None
    return Extracted(
        text=text,
        title=title or None,
        author=document.author or None,
        published=document.date or None,
        language=document.language or None,
    )


class Extractor:
    """Runs `extract_page` in worker processes (or inline when `workers` is 0)."""

    def __init__(self, workers: int | None = None) -> None:
        count = (os.cpu_count() or 1) if workers is None else workers
        self._pool: Executor | None = None
        if count > 0:
            # forkserver: workers never inherit the event loop, sockets or threads of
            # the poller; the server imports trafilatura once for all of them.
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["watcher.extract"])
            self._pool = ProcessPoolExecutor(count, mp_context=context)

    async def extract(self, html: bytes, url: str) -> Extracted | None:
        """Extract in a worker; a page that breaks the extractor yields None, like an empty one."""
        try:
            if self._pool is None:
                return extract_page(html, url)
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._pool, extract_page, html, url)
        except (
            Exception
        ) as exc:  # trafilatura and lxml raise many kinds; one page must not stop a poll
            log.warning("extraction failed for %s: %s: %s", url, type(exc).__name__, exc)
            return None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Extractor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
