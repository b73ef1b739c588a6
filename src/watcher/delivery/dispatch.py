"""Running the outbox: write each channel's digest, send what is due, mark it, retry.

The order is what makes delivery safe across crashes: hits are stored by the
poll; a digest row claims a channel's undelivered hits (one transaction);
only after the channel accepted it is the digest marked sent. A crash before
the mark sends that one digest again, with the same id; a crash before the
digest row leaves its hits undelivered for the next one.
"""

from __future__ import annotations

import logging
import os
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from watcher.config.channels import ChannelConfig
from watcher.config.load import Config
from watcher.delivery import sender_for
from watcher.delivery.digest import Digest, build, long_failing, render
from watcher.delivery.links import hit_links
from watcher.errors import ConfigError, DeliveryError
from watcher.models import Hit
from watcher.ops.backoff import doubled, jitter
from watcher.sources.http import Fetcher
from watcher.store import open_storage, stamp
from watcher.store.protocols import Storage
from watcher.store.records import Delivery

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What one delivery attempt of one digest did."""

    digest: str
    channel: str
    hits: int
    status: str  # "sent", "retrying" or "failed" (no attempts left)
    error: str | None = None
    retry_at: datetime | None = None


def retry_delay(attempt: int, base: float, cap: float, draw: float) -> float:
    """Seconds before the next try after failed attempt number `attempt` (1, 2, ...).

    Doubles from `base` up to `cap`, then takes off up to half (by `draw` in
    [0, 1)) so that many digests failing together do not retry in lockstep,
    and none waits past the cap.
    """
    delay = doubled(base, attempt - 1, cap)
    return delay - jitter(delay, 1.0 - draw, 0.5)


class Dispatcher:
    """Makes and sends the digests of the configured channels through the outbox.

    Without a fetcher it can only preview (webhooks post through the fetcher).
    """

    def __init__(
        self,
        config: Config,
        store: Storage,
        fetcher: Fetcher | None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.store = store
        self.fetcher = fetcher
        self.clock = clock
        self.jitter = jitter
        self.pid = os.getpid()
        self.use(config)

    def use(self, config: Config) -> None:
        """Take up a reloaded config: channels, terms and retry settings."""
        self.config = config
        self.channels = {channel.name: channel for channel in config.channels}

    def compose(self, channel: str, digest_id: str, created_at: str, hits: list[Hit]) -> Digest:
        """The digest of these hits, with the notice of feeds failing for long."""
        failing = long_failing(
            self.store.feeds.statuses(self.config.feeds),
            self.clock(),
            timedelta(seconds=self.config.delivery.failing_notice),
        )
        order = [term.name for term in self.config.terms]
        known = self.channels.get(channel)
        timezone = known.timezone if known else self.config.delivery.timezone
        links = hit_links(self.config, self.store, [hit.id for hit in hits])
        return build(digest_id, channel, created_at, hits, failing, order, timezone, links)

    def prepare(self, channel: ChannelConfig, since: datetime | None = None) -> str | None:
        """Write the channel's next digest (its undelivered hits) to the outbox; its id."""
        return self.store.outbox.create(
            channel.name,
            self.clock(),
            terms=channel.terms,
            min_score=channel.min_score,
            since=since or self._start(channel),
            empty=channel.send_empty and not channel.immediate,
        )

    def preview(self, channel: ChannelConfig, since: datetime | None = None) -> Digest:
        """The digest the channel would get now, without writing or sending anything."""
        ids = self.store.outbox.undelivered(
            channel.name,
            terms=channel.terms,
            min_score=channel.min_score,
            since=since or self._start(channel),
            now=self.clock(),
        )
        hits = self.store.archive.hits(ids=ids) if ids else []
        return self.compose(channel.name, "preview", stamp(self.clock()) or "", hits)

    def _start(self, channel: ChannelConfig) -> datetime:
        """The oldest hits a channel is sent: from `backfill` before it was first configured."""
        first = self.store.outbox.first_seen(channel.name)
        start = datetime.fromisoformat(first) if first else self.clock()
        return start - timedelta(seconds=self.config.delivery.backfill)

    async def run(
        self, channels: Sequence[ChannelConfig], since: datetime | None = None
    ) -> list[Outcome]:
        """Write each channel's digest, then send every digest of theirs that is due.

        Database work runs on the store's thread (`Store.call`), off the event loop.
        """
        for channel in channels:
            await self.store.call(self.prepare, channel, since)
        return await self.deliver_due([channel.name for channel in channels])

    async def deliver_due(self, channels: Sequence[str] = ()) -> list[Outcome]:
        """Send the pending digests that are due (of these channels, or all); mark each."""
        outbox = self.store.outbox
        lease = self.config.delivery.lease  # a claimed digest is left to its sender this long

        def claim() -> list[Delivery]:
            # Timed on the store's thread: the lease runs from the claim, not from before a
            # busy store got to it.
            return outbox.claim_due(self.clock(), self.pid, lease, channels)

        due = await self.store.call(claim)
        return [await self._deliver(delivery) for delivery in due]

    async def _deliver(self, delivery: Delivery) -> Outcome:
        channel = self.channels.get(delivery.channel)
        try:
            if channel is None:
                raise DeliveryError(f"channel {delivery.channel!r} is no longer in the config")
            digest = await self.store.call(self._compose_sent, channel.name, delivery)
            assert self.fetcher is not None, "a Dispatcher without a fetcher only previews"
            await sender_for(channel, self.fetcher).send(digest, render(digest))
        except (DeliveryError, ConfigError) as exc:
            return await self.store.call(self._failed, delivery, exc)
        await self.store.call(self.store.outbox.mark_sent, delivery.id, self.clock())
        log.info("delivered digest %s to %s: %d hits", delivery.id, delivery.channel, delivery.hits)
        return Outcome(delivery.id, delivery.channel, delivery.hits, "sent")

    def _compose_sent(self, channel: str, delivery: Delivery) -> Digest:
        """The digest a claimed delivery sends: its own hits."""
        hits = self.store.archive.hits(digest=delivery.id)
        return self.compose(channel, delivery.id, delivery.created_at, hits)

    def _failed(self, delivery: Delivery, exc: DeliveryError | ConfigError) -> Outcome:
        attempt = delivery.attempts + 1
        retry_at = None
        if attempt < self.config.delivery.max_attempts:
            settings = self.config.delivery
            delay = retry_delay(attempt, settings.retry_base, settings.retry_max, self.jitter())
            asked = getattr(exc, "retry_after", None)
            if asked is not None:
                delay = max(delay, min(asked, settings.retry_max))
            retry_at = self.clock() + timedelta(seconds=delay)
        self.store.outbox.mark_failed_attempt(delivery.id, str(exc), retry_at)
        if retry_at is None:
            log.error(
                "digest %s to %s failed for good after %d attempts: %s",
                delivery.id,
                delivery.channel,
                attempt,
                exc,
            )
            return Outcome(delivery.id, delivery.channel, delivery.hits, "failed", str(exc))
        log.warning(
            "digest %s to %s failed (attempt %d), retrying at %s: %s",
            delivery.id,
            delivery.channel,
            attempt,
            stamp(retry_at),
            exc,
        )
        return Outcome(delivery.id, delivery.channel, delivery.hits, "retrying", str(exc), retry_at)


async def deliver_now(
    config: Config,
    channels: Sequence[ChannelConfig],
    since: datetime | None = None,
    retry_failed: bool = False,
) -> list[Outcome]:
    """One delivery round outside the service (`watcher digest send`, `poll --once`).

    Someone asked for it: every pending digest goes now, also one waiting out
    a retry's backoff (the service keeps to the backoff).
    """
    with open_storage(config.database) as store:
        store.sync(config.feeds, config.channels, datetime.now(UTC))
        async with Fetcher(config.fetch) as fetcher:
            dispatcher = Dispatcher(config, store, fetcher)
            if retry_failed:
                store.outbox.retry_failed(dispatcher.clock(), [c.name for c in channels])
            store.outbox.due_now(dispatcher.clock(), [c.name for c in channels])
            return await dispatcher.run(channels, since)
