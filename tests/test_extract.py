"""Extraction in worker processes, with a deadline per page."""

from __future__ import annotations

import asyncio
import subprocess
import sys
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


def loaded_after(module: str) -> set[str]:
    """The top-level packages a fresh interpreter has loaded after importing `module`."""
    script = f"import sys, {module}; print(' '.join({{m.split('.')[0] for m in sys.modules}}))"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    return set(done.stdout.split())


def test_each_process_loads_only_what_it_uses() -> None:
    worker = loaded_after("watcher.extract")
    assert not worker & {"httpx", "httpcore", "sqlite_utils", "apscheduler", "feedparser"}
    assert "trafilatura" not in loaded_after("watcher.pipeline")  # the poller reads no page


def test_the_library_surface_resolves_every_name_and_refuses_others() -> None:
    import watcher

    for name in watcher.__all__:
        assert getattr(watcher, name).__name__ == name
    with pytest.raises(AttributeError, match="no attribute 'Poll'"):
        _ = watcher.Poll  # type: ignore[attr-defined]
