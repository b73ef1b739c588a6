"""The long-running service: APScheduler polls each feed when it is due.

One asyncio loop holds the scheduler, the shared HTTP client and the store;
extraction runs in worker processes. Each feed has one job at its next due
time, stored in the database after every poll (its interval after a success,
exponential backoff after failures), so a restart resumes the schedule
instead of polling everything at once. SIGHUP re-reads the config file.
SIGTERM or SIGINT stops new polls, lets polls in flight finish for up to
`STOP_GRACE` seconds, then cancels the rest (each article is stored in its
own transaction, so nothing is half-written).

Digests: each channel with a cron schedule has a job in its time zone; an
`immediate` channel is sent a digest after each poll that found hits. At
start the service sends what a crash or a stop left behind: pending digests,
hits no digest took yet, and a scheduled digest that fell due while it was
down. A failed delivery is retried by one job set for the earliest retry.

Housekeeping runs daily on `[retention] schedule`, in a thread with its own
connection, deleting in short batches while polls go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sqlite3
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from watcher.channels import ChannelConfig
from watcher.config import Config, FeedConfig, load_config
from watcher.deliver.dispatch import Dispatcher
from watcher.disk import open_when_room
from watcher.errors import DamagedError, WatcherError
from watcher.extract import Extractor
from watcher.fetch import Fetcher
from watcher.lock import service_lock
from watcher.models import FeedStatus, ServiceStatus
from watcher.notify import notify, watchdog_interval
from watcher.pipeline import Poller
from watcher.store import Pruned, Store
from watcher.store.outbox import process_alive

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


class Service:
    """The scheduler, the shared client and store, and one poll job per enabled feed."""

    def __init__(
        self, config: Config, store: Store, poller: Poller, dispatcher: Dispatcher
    ) -> None:
        self.config = config
        self.store = store
        self.poller = poller
        self.dispatcher = dispatcher
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.stopping = False
        self.in_flight: set[asyncio.Task[object]] = set()

    def enabled(self) -> dict[str, FeedConfig]:
        return {feed.name: feed for feed in self.config.feeds if feed.enabled}

    def schedule(self, name: str, due: datetime) -> None:
        self.scheduler.add_job(
            self.poll_job,
            DateTrigger(run_date=due),
            args=[name],
            id=f"poll:{name}",
            name=f"poll {name}",
            replace_existing=True,
            max_instances=1,
            misfire_grace_time=None,  # late after a sleep or stall: run once, never drop it
        )

    def schedule_all(self, names: list[str], now: datetime) -> None:
        """First polls: at each feed's stored due time, or soon and spread out."""
        feeds = self.enabled()
        spread = min(START_SPREAD, min((feeds[n].interval for n in names), default=1.0))
        for index, name in enumerate(names):
            stored = self.store.feed_state(name).next_due
            self.schedule(name, first_due(now, stored, index, len(names), spread))

    async def poll_job(self, name: str) -> None:
        feed = self.enabled().get(name)
        if feed is None:  # removed or disabled by a reload
            return
        task = asyncio.current_task()
        assert task is not None
        self.in_flight.add(task)
        try:
            result = await self.poller.poll(feed)
        finally:
            self.in_flight.discard(task)
        if not self.stopping and name in self.enabled() and result.next_due is not None:
            self.schedule(name, result.next_due)
        immediate = self.immediate()
        if result.hits and immediate and not self.stopping:
            await self.deliver(immediate)

    # -- digests -------------------------------------------------------------

    def immediate(self) -> list[ChannelConfig]:
        return [channel for channel in self.config.channels if channel.immediate]

    def trigger(self, channel: ChannelConfig) -> CronTrigger:
        return CronTrigger.from_crontab(channel.schedule, timezone=channel.timezone)

    def schedule_channels(self) -> None:
        """One cron job per scheduled channel (again after a reload)."""
        for job in self.scheduler.get_jobs():
            if job.id.startswith("digest:"):
                job.remove()
        for channel in self.config.channels:
            if not channel.immediate:
                self.scheduler.add_job(
                    self.digest_job,
                    self.trigger(channel),
                    args=[channel.name],
                    id=f"digest:{channel.name}",
                    name=f"digest {channel.name}",
                    max_instances=1,
                    coalesce=True,
                    misfire_grace_time=3600,  # late after a stall: still send it
                )

    async def digest_job(self, name: str) -> None:
        channel = self.dispatcher.channels.get(name)
        if channel is not None:
            await self.deliver([channel])
            self.store.outbox.mark_run(name, datetime.now(UTC))

    async def deliver(self, channels: list[ChannelConfig]) -> None:
        """Write these channels' digests and send everything due; then plan the retries."""
        try:
            await self.dispatcher.run(channels)
        finally:
            self.plan_retries()

    def plan_retries(self) -> None:
        """One job at the earliest retry of a pending digest, if any is pending."""
        due = self.store.outbox.next_attempt()
        if due is None or self.stopping:
            return
        self.scheduler.add_job(
            self.deliver,
            DateTrigger(run_date=max(datetime.fromisoformat(due), datetime.now(UTC))),
            args=[[]],
            id="deliveries",
            replace_existing=True,
            misfire_grace_time=None,
        )

    async def catch_up(self) -> None:
        """At start: what a crash or stop left behind, missed digest runs, missed housekeeping."""
        now = datetime.now(UTC)
        missed = []
        for channel in self.config.channels:
            if channel.immediate:
                missed.append(channel)
                continue
            last = self.store.outbox.last_run(channel.name)
            if last is None:  # a new channel starts its schedule now
                self.store.outbox.mark_run(channel.name, now)
                continue
            due = self.trigger(channel).get_next_fire_time(None, datetime.fromisoformat(last))
            if due is not None and due <= now:
                log.info("digest for %s fell due at %s while stopped: sending", channel.name, due)
                missed.append(channel)
                self.store.outbox.mark_run(channel.name, now)
        last = self.store.last_housekeeping()
        due = now
        if last is not None:
            due = self.housekeeping_trigger().get_next_fire_time(None, datetime.fromisoformat(last))
        if due is not None and due <= now:
            self.scheduler.add_job(self.housekeeping_job, DateTrigger(run_date=now), id="housekeep")
        await self.deliver(missed)

    def reload(self) -> None:
        """Re-read the config file (SIGHUP): new terms and feeds apply, state is kept.

        A config that does not load leaves the running one in place. Storage and
        fetch settings need a restart, since the database and client are open.
        """
        try:
            fresh = load_config(self.config.path)
            fresh.check_secrets()
        except WatcherError as exc:
            log.error("reload failed, keeping the running config: %s", exc)
            return
        if fresh.db_path != self.config.db_path or fresh.fetch != self.config.fetch:
            log.warning("reload: [storage] and [fetch] changes apply after a restart")
        before = set(self.enabled())
        self.config = replace(fresh, db_path=self.config.db_path, fetch=self.config.fetch)
        self.poller.use(self.config)
        self.dispatcher.use(self.config)
        self.schedule_channels()
        self.schedule_housekeeping()
        self.store.sync_config(self.config, datetime.now(UTC))
        after = self.enabled()
        for name in before - set(after):
            with contextlib.suppress(JobLookupError):
                self.scheduler.remove_job(f"poll:{name}")
        self.schedule_all([name for name in after if name not in before], datetime.now(UTC))
        log.info(
            "reloaded %s: %d feeds (%d added, %d removed), %d terms",
            self.config.path,
            len(after),
            len(set(after) - before),
            len(before - set(after)),
            len(self.config.terms),
        )

    # -- liveness ------------------------------------------------------------
    # Coroutines, so they run on the loop: the scheduler hands plain functions to a
    # thread pool, where the store's connection may not be used.

    async def heartbeat(self) -> None:
        """Note in the database that the service is alive, for `watcher status`."""
        self.store.service_heartbeat(datetime.now(UTC))

    async def watchdog(self) -> None:
        """Tell systemd the loop still runs (WatchdogSec)."""
        notify("WATCHDOG=1")

    def housekeeping_trigger(self) -> CronTrigger:
        return CronTrigger.from_crontab(self.config.retention.schedule, timezone=UTC)

    def schedule_housekeeping(self) -> None:
        self.scheduler.add_job(
            self.housekeeping_job,
            self.housekeeping_trigger(),
            id="housekeeping",
            name="housekeeping",
            replace_existing=True,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=3600,
        )

    async def housekeeping_job(self) -> None:
        """Prune in a thread, so polls and digests go on meanwhile."""
        try:
            pruned = await asyncio.to_thread(housekeep, self.config, datetime.now(UTC))
        except DamagedError as exc:
            # Writing on would spread the damage: polls and digests stop until it is recovered.
            log.critical("%s", exc)
            self.scheduler.pause()
            return
        except (WatcherError, sqlite3.Error) as exc:
            log.error("housekeeping failed (it runs again at its next time): %s", exc)
            return
        self.store.housekept(datetime.now(UTC))
        log.info(
            "housekeeping: deleted %d articles without hits and %d polls",
            pruned.articles,
            pruned.polls,
        )

    async def finish(self) -> None:
        """Stop polling: in-flight polls get STOP_GRACE seconds, then are cancelled."""
        self.stopping = True
        self.scheduler.pause()
        if self.in_flight:
            log.info("stopping: waiting up to %gs for %d polls", STOP_GRACE, len(self.in_flight))
            await asyncio.wait(set(self.in_flight), timeout=STOP_GRACE)
        self.scheduler.shutdown(wait=False)  # cancels polls that outlived the grace period
        await asyncio.sleep(0)
        if self.in_flight:
            await asyncio.wait(set(self.in_flight), timeout=1.0)


async def serve(config: Config, stop: asyncio.Event | None = None) -> None:
    """Run until `stop` is set or the process gets SIGTERM/SIGINT; SIGHUP reloads the config."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    async with AsyncExitStack() as stack:
        stack.enter_context(service_lock(config.db_path))  # a second service refuses to start
        for signum in (signal.SIGTERM, signal.SIGINT):  # also while waiting for disk room
            loop.add_signal_handler(signum, stop.set)
            stack.callback(loop.remove_signal_handler, signum)
        store = await open_when_room(config, os.getpid(), stop)
        if store is None:
            log.info("stopped")
            return
        stack.enter_context(store)
        fetcher = await stack.enter_async_context(Fetcher(config.fetch))
        extractor = stack.enter_context(Extractor())
        poller = Poller(config, store, fetcher, extractor)
        service = Service(config, store, poller, Dispatcher(config, store, fetcher))
        now = datetime.now(UTC)
        service.schedule_all(list(service.enabled()), now)
        service.schedule_channels()
        service.schedule_housekeeping()
        service.scheduler.add_job(service.catch_up, DateTrigger(run_date=now), id="catch-up")
        service.scheduler.add_job(
            service.heartbeat, IntervalTrigger(seconds=HEARTBEAT), id="heartbeat"
        )
        ping = watchdog_interval()
        if ping:
            service.scheduler.add_job(
                service.watchdog, IntervalTrigger(seconds=ping), id="watchdog"
            )
        loop.add_signal_handler(signal.SIGHUP, service.reload)
        service.scheduler.start()
        notify("READY=1")
        if ping:
            notify("WATCHDOG=1")
        log.info(
            "watching %d feeds for %d terms, %d channels; database %s",
            len(service.enabled()),
            len(config.terms),
            len(config.channels),
            store.path,
        )
        try:
            await stop.wait()
        finally:
            notify("STOPPING=1")
            for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                loop.remove_signal_handler(signum)
            await service.finish()
            try:
                store.service_heartbeat(datetime.now(UTC), stopped=True)
            except (sqlite3.Error, WatcherError) as exc:  # a full disk, say: stop all the same
                log.warning("could not note the stop in the database: %s", exc)
        log.info("stopped")


def housekeep(
    config: Config,
    now: datetime,
    *,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Pruned:
    """Delete what `[retention]` no longer keeps (or count it, dry), on a connection of its own.

    Safe beside the running service: each batch is a short transaction of its own.
    """
    kept = config.retention
    articles = None if kept.articles is None else now - timedelta(seconds=kept.articles)
    polls = None if kept.polls is None else now - timedelta(seconds=kept.polls)
    with Store.open(config.db_path) as store:
        if dry_run:
            return store.retention.count(articles_before=articles, polls_before=polls)
        store.ensure_sound(now)  # daily, so damage found while running stops the writing
        return store.retention.prune(
            articles_before=articles, polls_before=polls, progress=progress
        )


def service_status(store: Store, feeds: list[FeedStatus], now: datetime) -> ServiceStatus:
    """What `watcher status` reports, read from the database (works while the service runs)."""
    enabled = [feed for feed in feeds if feed.enabled]
    recorded = store.service_state()
    state = "never run"
    pid = started = beat = None
    if recorded:
        pid, started, beat, stopped = recorded
        if stopped:
            state = f"stopped at {stopped[:16].replace('T', ' ')}"
        elif not process_alive(pid):
            state = f"not running: pid {pid} ended without stopping (killed?)"
        elif now - datetime.fromisoformat(beat) > timedelta(seconds=3 * HEARTBEAT):
            state = f"not responding since {beat[:16].replace('T', ' ')} (pid {pid})"
        else:
            uptime = now - datetime.fromisoformat(started)
            state = f"running for {_span(uptime)}"
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    digests = store.outbox.counts()
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
        pending_deliveries=digests["pending"],
        failed_deliveries=digests["failed"],
        integrity=_integrity(store.last_check()),
    )


def _integrity(check: tuple[str, str | None] | None) -> str:
    if check is None:
        return "not checked yet (watcher db check)"
    checked_at, problem = check
    when = checked_at[:16].replace("T", " ")
    if problem:
        return f"DAMAGED at {when}: {problem[:200]} (see docs/operations.md)"
    return f"ok at {when}"


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, minutes = divmod(minutes, 1440)
    hours, minutes = divmod(minutes, 60)
    return f"{days}d {hours}h {minutes}m" if days else f"{hours}h {minutes}m"
