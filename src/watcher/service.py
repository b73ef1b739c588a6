"""The long-running service: APScheduler polls each feed when it is due.

One asyncio loop holds the scheduler, the shared HTTP client and the store;
extraction runs in worker processes. Each feed has one job at its next due
time, stored in the database after every poll (its interval after a success,
exponential backoff after failures), so a restart resumes the schedule instead
of polling everything at once. SIGTERM or SIGINT stops new polls, lets polls
in flight finish for up to `STOP_GRACE` seconds, then cancels the rest (each
article is stored in its own transaction, so nothing is half-written).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from watcher.config import Config, FeedConfig
from watcher.extract import Extractor
from watcher.fetch import Fetcher
from watcher.models import ServiceStatus
from watcher.notify import notify, watchdog_interval
from watcher.pipeline import Poller
from watcher.store import Store

log = logging.getLogger(__name__)

STOP_GRACE = 10.0  # seconds polls in flight get to finish after a stop signal
START_SPREAD = 30.0  # feeds due at start are spread over this many seconds, not fired at once
HEARTBEAT = 30.0  # seconds between heartbeats in the database, for `watcher status`


def first_due(now: datetime, stored: str | None, index: int, count: int, spread: float) -> datetime:
    """When a feed is first polled: its stored due time if still ahead, else soon, spread out."""
    if stored:
        due = datetime.fromisoformat(stored)
        if due > now:
            return due
    return now + timedelta(seconds=spread * index / max(1, count))


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
        scheduler = AsyncIOScheduler(timezone=UTC)

        def schedule(feed: FeedConfig, due: datetime) -> None:
            scheduler.add_job(
                poll_job,
                DateTrigger(run_date=due),
                args=[feed],
                id=f"poll:{feed.name}",
                name=f"poll {feed.name}",
                replace_existing=True,
                max_instances=1,
                misfire_grace_time=None,  # late after a sleep or stall: run once, never drop it
            )

        async def poll_job(feed: FeedConfig) -> None:
            task = asyncio.current_task()
            assert task is not None
            in_flight.add(task)
            try:
                result = await poller.poll(feed)
            finally:
                in_flight.discard(task)
            if not stop.is_set() and result.next_due is not None:
                schedule(feed, result.next_due)

        def heartbeat() -> None:
            store.service_heartbeat(datetime.now(UTC))

        now = datetime.now(UTC)
        spread = min(START_SPREAD, min((feed.interval for feed in feeds), default=1.0))
        for index, feed in enumerate(feeds):
            due = first_due(now, store.feed_state(feed.name).next_due, index, len(feeds), spread)
            schedule(feed, due)
        scheduler.add_job(heartbeat, IntervalTrigger(seconds=HEARTBEAT), id="heartbeat")
        ping = watchdog_interval()
        if ping:
            scheduler.add_job(notify, IntervalTrigger(seconds=ping), args=["WATCHDOG=1"], id="dog")
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        store.service_started(os.getpid(), now)
        scheduler.start()
        notify("READY=1")
        if ping:
            notify("WATCHDOG=1")
        log.info(
            "watching %d feeds for %d terms; database %s", len(feeds), len(config.terms), store.path
        )
        try:
            await stop.wait()
        finally:
            notify("STOPPING=1")
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
            store.service_heartbeat(datetime.now(UTC), stopped=True)
        log.info("stopped")


def service_status(config: Config, store: Store, now: datetime) -> ServiceStatus:
    """What `watcher status` reports, read from the database (works while the service runs)."""
    feeds = store.feed_statuses(config.feeds)
    enabled = [feed for feed in feeds if feed.enabled]
    recorded = store.service_state()
    state = "never run"
    pid = started = beat = None
    if recorded:
        pid, started, beat, stopped = recorded
        if stopped:
            state = f"stopped at {stopped[:16].replace('T', ' ')}"
        elif now - datetime.fromisoformat(beat) > timedelta(seconds=3 * HEARTBEAT):
            state = f"not responding since {beat[:16].replace('T', ' ')} (pid {pid})"
        else:
            uptime = now - datetime.fromisoformat(started)
            state = f"running for {_span(uptime)}"
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return ServiceStatus(
        state=state,
        database=str(store.path),
        feeds=len(enabled),
        failing=sum(1 for feed in enabled if feed.consecutive_errors),
        hits_today=store.hits_since(midnight),
        hits_total=store.count("hits"),
        pid=pid,
        started_at=started,
        heartbeat_at=beat,
    )


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, minutes = divmod(minutes, 1440)
    hours, minutes = divmod(minutes, 60)
    return f"{days}d {hours}h {minutes}m" if days else f"{hours}h {minutes}m"
