"""Extraction in worker processes, with a deadline per page."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from watcher.errors import ExtractError
from watcher.extract import Extractor
from watcher.models import Extracted

pytestmark = pytest.mark.slow

PAGE = (Path(__file__).parent / "fixtures" / "site" / "articles" / "a1.html").read_bytes()
# About 1.5 MB of paragraphs: trafilatura takes over two seconds on it.
SLOW_PAGE = (
    "<html><body><article>"
    + "".join(f"<p>Paragraph {n} on harbour dredging and the rail spur.</p>" for n in range(20_000))
    + "</article></body></html>"
).encode()


def test_a_page_past_its_deadline_is_stopped_and_the_workers_go_on() -> None:
    async def run() -> tuple[float, Extracted | None]:
        with Extractor(1, deadline=0.5) as extractor:
            await extractor.extract(PAGE, "https://coast.example/a1")  # the worker is up
            started = time.monotonic()
            with pytest.raises(
                ExtractError, match=r"slow\.example/: extraction took longer than 0.5s"
            ):
                await extractor.extract(SLOW_PAGE, "https://slow.example/")
            stopped_after = time.monotonic() - started
            return stopped_after, await extractor.extract(PAGE, "https://coast.example/a1")

    stopped_after, after = asyncio.run(run())

    assert stopped_after < 1.5
    assert after is not None and "Joint Working Group on Critical Minerals" in after.text


def test_the_same_story_read_again_and_again_keeps_its_text() -> None:
    """Wire copy carried by many outlets, or one article re-read after each update."""

    async def read_ten_times() -> list[str | None]:
        with Extractor(0) as extractor:
            found = [
                await extractor.extract(PAGE, f"https://outlet{n}.example/a1") for n in range(10)
            ]
        return [None if page is None else page.text for page in found]

    texts = asyncio.run(read_ten_times())

    assert texts[0] is not None and "Joint Working Group on Critical Minerals" in texts[0]
    assert texts == [texts[0]] * 10
