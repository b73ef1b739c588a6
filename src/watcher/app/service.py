"""The long-running service: each feed is polled when its stored due time comes.

One asyncio loop holds the shared HTTP client, the store (whose database work
runs on a thread of its own, `Store.call`) and two tasks of the service's own:

- the planner reads every feed's next due time from the database (the one
  source of truth: a `watcher poll --once` beside the service moves it too)
  and starts each due feed's poll as a task; it sleeps until the next due
  time, at most `NAP` seconds, or until a poll ends or the config is reloaded.
- the sender sends the digests that are due, whenever a poll or a digest
  schedule wrote one, and at the earliest retry of a pending one.

Neither is an APScheduler job: a one-shot job that fell due while the one
before still ran was skipped and deleted, which took feeds and digest
retries off the schedule for good (issue 15, items A and B). A poll never
waits for a delivery, and a delivery never waits for a poll.

APScheduler runs what is quick and periodic: the digest schedules in their
time zones (each writes its channel's digest and wakes the sender), the
heartbeat, the watchdog and housekeeping. SIGHUP re-reads the config file and
brings forward a feed whose shortened interval makes it due sooner. SIGTERM
or SIGINT stops new polls, lets polls in flight finish for up to `STOP_GRACE`
seconds, then cancels the rest (each feed's articles are stored in one
transaction, so nothing is half-written).

At start the service sends what a crash or a stop left behind: pending
digests, hits no digest took yet, and a scheduled digest that fell due while
it was down. Feeds overdue at start are spread over `START_SPREAD` seconds.

Housekeeping runs daily on `[retention] schedule`, in a thread with its own
connection, deleting in short batches while polls go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from collections.abc import Callable, Coroutine, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from watcher.app.housekeeping import housekeep
from watcher.app.poll import FEEDS_PER_CONNECTION, Poller
from watcher.app.schedule import ADAPTIVE, INTERVAL
from watcher.app.startup import open_when_room
from watcher.app.status import HEARTBEAT
from watcher.config.channels import ChannelConfig
from watcher.config.load import Config, FeedConfig, load_config
from watcher.delivery.dispatch import Dispatcher
from watcher.errors import DamagedError, StoreError, WatcherError
from watcher.ops.lock import service_lock
from watcher.ops.notify import notify, watchdog_interval
from watcher.sources.extract import Extractor
from watcher.sources.http import Fetcher
from watcher.store.backends import is_url
from watcher.store.protocols import Storage

log = logging.getLogger(__name__)

STOP_GRACE = 10.0  # seconds polls in flight get to finish after a stop signal
START_SPREAD = 30.0  # feeds due at start are spread over this many seconds, not fired at once
NAP = 5.0  # the planner looks at the stored schedule at least this often
RETRY = 30.0  # seconds before the planner or sender tries again after a database fault
HOST = socket.gethostname()
SENDER_PAUSE = 1.0  # the sender's shortest sleep (a due digest another process is sending)
# The sender's longest sleep with nothing pending (or its [delivery] lease, if shorter): a
# digest another watcher wrote wakes no sender here, and one whose writer died before
# sending it goes out from whichever watcher looks next.
SENDER_IDLE = 60.0


def claimant(pid: int) -> str:
    """Who the process `pid` of this host is in a database several share: "host:pid"."""
    return f"{HOST}:{pid}"


class Service:
    """The planner and the sender, the digest schedules, and what they share."""

    def __init__(
        self, config: Config, store: Storage, poller: Poller, dispatcher: Dispatcher
    ) -> None:
        self.config = config
        self.store = store
        self.poller = poller
        self.dispatcher = dispatcher
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.stopping = False
        self.polls: dict[str, asyncio.Task[None]] = {}  # by feed name: the polls in flight
        # A feed's next poll the database could not store: not before this.
        self.held: dict[str, datetime] = {}
        self.plans_changed = asyncio.Event()
        self.digests_waiting = asyncio.Event()
        self.tasks: set[asyncio.Task[Any]] = set()
        self.pid = os.getpid()  # with HOST, who claims feeds in a database several share

    def enabled(self) -> dict[str, FeedConfig]:
        return {feed.name: feed for feed in self.config.feeds if feed.enabled}

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        """Run `work` as a task the service keeps (and cancels at its stop)."""
        task = asyncio.create_task(work, name=name)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def job(self, work: Callable[..., Coroutine[Any, Any, None]], *args: object) -> None:
        """What every APScheduler job runs: `work` as a task of the service, so that its
        stop waits for it and then cancels it quietly (a job cancelled by the scheduler's
        shutdown left a CancelledError traceback in the log: issue 15, item 11)."""
        if not self.stopping:
            self.spawn(work(*args), getattr(work, "__name__", "job"))

    # -- polls ---------------------------------------------------------------

    async def align(self, now: datetime, spread: bool) -> None:
        """Fit the stored schedule to the config: bring forward a feed due later than its
        interval now allows; with `spread`, feeds overdue (or never polled) at start are
        polled within `START_SPREAD` seconds, not all at once."""
        feeds = self.enabled()
        rows = await self.store.call(self.store.feeds.schedule_rows)
        overdue: list[str] = []
        for name, feed in feeds.items():
            polled, due, reason, errors = rows.get(name, (None, None, None, 0))
            if due is None or datetime.fromisoformat(due) <= now:
                overdue.append(name)
            elif polled and not errors and (reason or INTERVAL) in (INTERVAL, ADAPTIVE):
                latest = datetime.fromisoformat(polled) + timedelta(seconds=feed.interval)
                if datetime.fromisoformat(due) > latest:
                    log.info("feed %r: next poll brought forward to %s (its interval)", name,
                             latest.isoformat(timespec="seconds"))  # fmt: skip
                    await self.store.call(self.store.feeds.set_due, name, max(latest, now))
        if spread and overdue:
            width = min(START_SPREAD, min(feeds[name].interval for name in overdue))
            for index, name in enumerate(overdue):
                at = now + timedelta(seconds=width * index / len(overdue))
                await self.store.call(self.store.feeds.set_due, name, at)
        self.plans_changed.set()

    async def plan(self) -> None:
        """The planner: start each enabled feed's poll when its stored due time comes."""

        async def step() -> float:
            return await self._start_due_polls(datetime.now(UTC))

        await self._repeat(step, self.plans_changed, "read the schedule", "planning polls")

    async def _repeat(
        self,
        step: Callable[[], Coroutine[Any, Any, float | None]],
        wake: asyncio.Event,
        doing: str,
        work: str,
    ) -> None:
        """Run `step` until the stop, sleeping the seconds it returns (None: until `wake`).

        A database fault or a bug costs one round, never the loop: it is tried
        again `RETRY` seconds later.
        """
        while not self.stopping:
            wake.clear()
            nap: float | None
            try:
                nap = await step()
            except StoreError as exc:
                log.warning("cannot %s (%s); trying again in %gs", doing, exc, RETRY)
                nap = RETRY
            except Exception:  # a bug must not stop polling or delivery for good
                log.exception("%s failed; trying again in %gs", work, RETRY)
                nap = RETRY
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), nap)

    async def _start_due_polls(self, now: datetime) -> float:
        """Start the polls that are due; seconds until the next one is (at most `NAP`)."""
        stored = await self.store.call(self.store.feeds.due_times)
        nap = NAP
        ready: list[FeedConfig] = []
        for name, feed in self.enabled().items():
            if name in self.polls or self.stopping:
                continue
            if name not in stored:  # a feed whose row a failed reload did not write
                await self.store.call(self.store.feeds.sync, [feed])
                nap = 0.0
                continue
            stamp = stored[name]
            due = datetime.fromisoformat(stamp) if stamp else now
            held = self.held.get(name)
            if held is not None and held > due:
                due = held
            wait = (due - now).total_seconds()
            if wait > 0:
                nap = min(nap, wait)
                continue
            self.held.pop(name, None)
            ready.append(feed)
        # Other watchers sharing the database may be polling some of them: poll those we
        # claim. There, claim no more than this process polls at once, the longest due
        # first: claimed beyond that, a feed would wait here for a free slot while another
        # watcher sat idle; left, it goes to the next process to look (this one too, once a
        # poll ends and wakes the planner). Alone on its file, a process takes every due
        # feed, so that its host limits never idle a slot.
        limit = None
        if is_url(self.config.database):
            limit = max(0, FEEDS_PER_CONNECTION * self.config.fetch.concurrency - len(self.polls))
        names, lease = [feed.name for feed in ready], self.config.lease

        def claim() -> list[str]:
            # The lease runs from the claim, timed on the store's thread: `now` is when the
            # schedule was read, which a busy store may have made seconds ago.
            return self.store.feeds.claim(names, datetime.now(UTC), self.owner, lease, limit)

        claimed = await self.store.call(claim) if names and limit != 0 else []
        for feed in ready:
            if feed.name in claimed and not self.stopping:
                self.polls[feed.name] = self.spawn(self.poll(feed), f"poll {feed.name}")
        return nap

    @property
    def owner(self) -> str:
        """Who this process is in the database: "host:pid"."""
        return claimant(self.pid)

    async def poll(self, feed: FeedConfig) -> None:
        """One poll of a feed; a digest for `immediate` channels if it found hits."""
        try:
            result = await self.poller.poll(feed)
        finally:
            self.polls.pop(feed.name, None)
            self.plans_changed.set()
        if not result.recorded and result.next_due is not None:
            self.held[feed.name] = result.next_due
        immediate = self.immediate()
        if result.hits and immediate and not self.stopping:
            await self.write_digests(immediate)

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
                    self.job,
                    self.trigger(channel),
                    args=[self.digest_job, channel.name],
                    id=f"digest:{channel.name}",
                    name=f"digest {channel.name}",
                    max_instances=1,
                    coalesce=True,
                    misfire_grace_time=3600,  # late after a stall: still send it
                )

    async def digest_job(self, name: str) -> None:
        """A channel's digest is due: write it (the sender sends it) and note the run."""
        channel = self.dispatcher.channels.get(name)
        if channel is not None:
            await self.write_digests([channel])
            await self.store.call(self.store.outbox.mark_run, name, datetime.now(UTC))

    async def write_digests(self, channels: list[ChannelConfig]) -> None:
        """Write these channels' digests of their undelivered hits, and wake the sender."""
        try:
            for channel in channels:
                await self.store.call(self.dispatcher.prepare, channel)
        except StoreError as exc:  # the hits stay undelivered: the next digest takes them
            log.error("cannot write digests (%s); their hits go into the next ones", exc)
        self.digests_waiting.set()

    async def send(self) -> None:
        """The sender: send the digests that are due, then sleep until the next retry."""

        async def step() -> float | None:
            await self.dispatcher.deliver_due()
            due = await self.store.call(self.store.outbox.next_attempt)
            if due is None:
                return min(SENDER_IDLE, self.config.delivery.lease)
            wait = (datetime.fromisoformat(due) - datetime.now(UTC)).total_seconds()
            return max(SENDER_PAUSE, wait)

        await self._repeat(step, self.digests_waiting, "send digests", "sending digests")

    async def catch_up(self) -> None:
        """At start: what a crash or stop left behind, missed digest runs, missed housekeeping."""
        now = datetime.now(UTC)
        missed = []
        outbox = self.store.outbox
        for channel in self.config.channels:
            if channel.immediate:
                missed.append(channel)
                continue
            last = await self.store.call(outbox.last_run, channel.name)
            if last is None:  # a new channel starts its schedule now
                await self.store.call(outbox.mark_run, channel.name, now)
                continue
            due = self.trigger(channel).get_next_fire_time(None, datetime.fromisoformat(last))
            if due is not None and due <= now:
                log.info("digest for %s fell due at %s while stopped: sending", channel.name, due)
                missed.append(channel)
                await self.store.call(outbox.mark_run, channel.name, now)
        last = await self.store.call(self.store.heartbeat.last_housekeeping)
        due = now
        if last is not None:
            due = self.housekeeping_trigger().get_next_fire_time(None, datetime.fromisoformat(last))
        if due is not None and due <= now:
            self.scheduler.add_job(
                self.job, DateTrigger(run_date=now), args=[self.housekeeping_job], id="housekeep"
            )
        await self.write_digests(missed)

    async def reload(self) -> None:
        """Re-read the config file (SIGHUP): new terms and feeds apply, state is kept, and
        the sender looks at the outbox again (the web desk's retry of a failed digest).

        A config that does not load leaves the running one in place. Storage and
        fetch settings need a restart, since the database and client are open.
        """
        try:
            fresh = load_config(self.config.path)
            fresh.check_secrets()
        except WatcherError as exc:
            log.error("reload failed, keeping the running config: %s", exc)
            return
        if fresh.database != self.config.database or fresh.fetch != self.config.fetch:
            log.warning("reload: [storage] and [fetch] changes apply after a restart")
        before = set(self.enabled())
        kept = self.config
        self.config = replace(fresh, db_path=kept.db_path, db_url=kept.db_url, fetch=kept.fetch)
        self.poller.use(self.config)
        self.dispatcher.use(self.config)
        self.schedule_channels()
        self.schedule_housekeeping()
        now = datetime.now(UTC)
        try:
            await self.store.call(self.store.sync, self.config.feeds, self.config.channels, now)
            await self.align(now, spread=False)
        except StoreError as exc:
            log.error("reload: cannot update the schedule (%s); it follows the new config "
                      "from each feed's next poll", exc)  # fmt: skip
        after = self.enabled()
        self.plans_changed.set()
        self.digests_waiting.set()  # channels may have changed, or a failed digest was retried
        log.info(
            "reloaded %s: %d feeds (%d added, %d removed), %d terms",
            self.config.path,
            len(after),
            len(set(after) - before),
            len(before - set(after)),
            len(self.config.terms),
        )

    # -- liveness ------------------------------------------------------------

    async def heartbeat(self) -> None:
        """Note in the database that the service is alive, for `watcher status`."""
        try:
            now = datetime.now(UTC)
            await self.store.call(self.store.heartbeat.beat, now)
            await self.store.call(
                self.store.heartbeat.beat_process, HOST, self.pid, now, len(self.polls)
            )
        except StoreError as exc:
            log.warning("cannot write the heartbeat: %s", exc)

    async def watchdog(self) -> None:
        """Tell systemd the loop still runs (WatchdogSec)."""
        notify("WATCHDOG=1")

    def housekeeping_trigger(self) -> CronTrigger:
        return CronTrigger.from_crontab(self.config.retention.schedule, timezone=UTC)

    def schedule_housekeeping(self) -> None:
        self.scheduler.add_job(
            self.job,
            self.housekeeping_trigger(),
            args=[self.housekeeping_job],
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
            await self.store.call(self.store.heartbeat.housekept, datetime.now(UTC))
        except DamagedError as exc:
            # Writing on would spread the damage: polls and digests stop until it is recovered.
            log.critical("%s", exc)
            self.stopping = True  # the planner and the sender end their loops
            self.scheduler.pause()
            self.plans_changed.set()
            self.digests_waiting.set()
            return
        except WatcherError as exc:
            log.error("housekeeping failed (it runs again at its next time): %s", exc)
            return
        log.info(
            "housekeeping: deleted %d articles without hits and %d polls",
            pruned.articles,
            pruned.polls,
        )

    async def start(self, now: datetime) -> None:
        """Fit the schedule to the config, start the planner, the sender and the jobs."""
        await self.align(now, spread=True)
        self.schedule_channels()
        self.schedule_housekeeping()
        self.scheduler.add_job(self.job, DateTrigger(run_date=now), args=[self.catch_up])
        self.scheduler.add_job(
            self.job, IntervalTrigger(seconds=HEARTBEAT), args=[self.heartbeat], id="heartbeat"
        )
        ping = watchdog_interval()
        if ping:
            self.scheduler.add_job(self.watchdog, IntervalTrigger(seconds=ping), id="watchdog")
        self.spawn(self.plan(), "planner")
        self.spawn(self.send(), "sender")
        self.scheduler.start()

    async def finish(self) -> None:
        """Stop: polls in flight (and a delivery) get STOP_GRACE seconds, then are cancelled."""
        self.stopping = True
        # APScheduler 3 runs a wakeup already queued (the start's, when the stop comes as
        # the service starts) even after its shutdown, and the job tasks it sets off were
        # then cancelled with the loop, each logged as an error with a traceback. Paused,
        # the wakeup sets nothing off; a job set off before returns at once (`job`).
        self.scheduler.pause()
        await asyncio.sleep(0)
        self.scheduler.shutdown(wait=False)
        self.plans_changed.set()
        self.digests_waiting.set()
        if self.polls:
            log.info("stopping: waiting up to %gs for %d polls", STOP_GRACE, len(self.polls))
        if self.tasks:
            await asyncio.wait(set(self.tasks), timeout=STOP_GRACE)
        left = set(self.tasks)
        for task in left:
            task.cancel()
        # Cancelled polls and deliveries end here, quietly: they are repeated next time.
        await asyncio.gather(*left, return_exceptions=True)


async def serve(
    config: Config,
    stop: asyncio.Event | None = None,
    companions: Sequence[Callable[[Service], AbstractAsyncContextManager[object]]] = (),
) -> None:
    """Run until `stop` is set or the process gets SIGTERM/SIGINT; SIGHUP reloads the config.

    Each of `companions` (the web desk) runs beside the service once it started, in
    the same loop, and ends after it.
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    async with AsyncExitStack() as stack:
        if config.db_url is None:  # on SQLite a second service refuses to start
            stack.enter_context(service_lock(config.db_path))
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
        poller = Poller(config, store, fetcher, extractor, owner=claimant(os.getpid()))
        service = Service(config, store, poller, Dispatcher(config, store, fetcher))
        now = datetime.now(UTC)
        loop.add_signal_handler(signal.SIGHUP, _later(service, service.reload))
        await service.start(now)
        notify("READY=1")
        if watchdog_interval():
            notify("WATCHDOG=1")
        log.info(
            "watching %d feeds for %d terms, %d channels; database %s",
            len(service.enabled()),
            len(config.terms),
            len(config.channels),
            store.location,
        )
        try:
            for companion in companions:
                await stack.enter_async_context(companion(service))
            await stop.wait()
        finally:
            notify("STOPPING=1")
            for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                loop.remove_signal_handler(signum)
            await service.finish()
            try:
                await store.call(store.heartbeat.beat, datetime.now(UTC), stopped=True)
                await store.call(
                    store.heartbeat.beat_process, HOST, service.pid, datetime.now(UTC), 0, True
                )
            except WatcherError as exc:  # a full disk, say: stop all the same
                log.warning("could not note the stop in the database: %s", exc)
        log.info("stopped")


def _later(service: Service, work: Callable[[], Coroutine[Any, Any, None]]) -> Callable[[], None]:
    """A signal handler that runs `work` as a task of the service."""

    def handler() -> None:
        service.spawn(work(), work.__name__)

    return handler
