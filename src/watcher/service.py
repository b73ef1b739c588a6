"""The long-running service: APScheduler polls each feed on its own interval.

One asyncio loop holds the scheduler, the shared HTTP client and the store;
extraction runs in worker processes. SIGTERM or SIGINT stops new polls, lets
polls in flight finish for up to `STOP_GRACE` seconds, then cancels the rest
(each article is stored in its own transaction, so nothing is half-written).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from watcher.config import Config, FeedConfig
from watcher.extract import Extractor
from watcher.fetch import Fetcher
from watcher.pipeline import Poller
from watcher.store import Store

log = logging.getLogger(__name__)

STOP_GRACE = 10.0  # seconds polls in flight get to finish after a stop signal
START_SPREAD = 30.0  # first polls are spread over this many seconds, not fired at once
MAX_JITTER = 60.0  # seconds of random delay added to each run, so feeds drift apart


def _jitter(interval: float) -> float:
    return min(interval / 10, MAX_JITTER)


async def serve(config: Config, stop: asyncio.Event | None = None) -> None:
    """Run until `stop` is set or the process gets SIGTERM/SIGINT."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    feeds = [feed for feed in config.feeds if feed.enabled]
    in_flight: set[asyncio.Task[object]] = set()
    async with AsyncExitStack() as stack:
        store = stack.enter_context(Store.open(config.db_path))
        store.sync_feeds((feed.name, feed.url) for feed in config.feeds)
        fetcher = await stack.enter_async_context(Fetcher(config.fetch))
        extractor = stack.enter_context(Extractor())
        poller = Poller(config, store, fetcher, extractor)

        async def poll_job(feed: FeedConfig) -> None:
            task = asyncio.current_task()
            assert task is not None
            in_flight.add(task)
            try:
                await poller.poll(feed)
            finally:
                in_flight.discard(task)

        scheduler = AsyncIOScheduler(timezone=UTC)
        now = datetime.now(UTC)
        spread = min(START_SPREAD, min((feed.interval for feed in feeds), default=1.0))
        for index, feed in enumerate(feeds):
            scheduler.add_job(
                poll_job,
                IntervalTrigger(seconds=feed.interval, jitter=_jitter(feed.interval)),
                args=[feed],
                id=f"poll:{feed.name}",
                name=f"poll {feed.name}",
                max_instances=1,  # a slow feed is skipped, not piled up
                coalesce=True,  # after a sleep or stall, one catch-up run, not many
                misfire_grace_time=max(1, int(feed.interval)),
                next_run_time=now + timedelta(seconds=spread * index / max(1, len(feeds))),
            )
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        scheduler.start()
        log.info(
            "watching %d feeds for %d terms; database %s", len(feeds), len(config.terms), store.path
        )
        try:
            await stop.wait()
        finally:
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)
            scheduler.pause()
            if in_flight:
                log.info("stopping: waiting up to %gs for %d polls", STOP_GRACE, len(in_flight))
                await asyncio.wait(set(in_flight), timeout=STOP_GRACE)
            scheduler.shutdown(wait=False)  # cancels polls that outlived the grace period
            await asyncio.sleep(0)
            if in_flight:
                await asyncio.wait(set(in_flight), timeout=1.0)
        log.info("stopped")
