"""When a feed is due next: its interval after a success, exponential backoff after failures.

A failing feed is never given up on: its delay doubles with each consecutive
failure up to `max_backoff` (one day by default) and stays there, so a site
that comes back is polled again within that time.

Adaptive polling only ever shortens a feed's interval: a feed that publishes
every few minutes is polled down to `min_interval`, but no feed is polled less
often than its configured `interval`, a promise to the user (issue 15, item 1).
"""

from __future__ import annotations

import itertools
import math
import random
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from watcher.ops.backoff import doubled, jitter

# A poll is put off by up to a tenth of its delay, at most a minute, so that feeds of one
# host do not move in lockstep; never brought forward, so never polled before its interval.
JITTER_SHARE = 0.1
MAX_JITTER = 60.0  # seconds

# Why a feed waits as long as it does, stored with its next due time for `status`.
INTERVAL = "interval"  # its configured interval
ADAPTIVE = "adaptive"  # less than that: it publishes often
BACKOFF = "backoff"  # longer: it failed that many times in a row
PUBLISHER = "publisher"  # longer: Retry-After, Cache-Control max-age or the feed's ttl


@dataclass(frozen=True)
class Plan:
    """A feed's next poll: when, how long after this one (without jitter), and why."""

    due: datetime
    wait: float  # seconds
    reason: str


def plan_next(
    now: datetime,
    interval: float,
    consecutive_errors: int,
    max_backoff: float,
    rng: random.Random | None = None,
    floor: float = 0.0,
    reason: str = INTERVAL,
) -> Plan:
    """The next poll of a feed after a poll at `now`, polled every `interval` when healthy.

    `floor` is the publisher's wish (Retry-After, Cache-Control max-age, the
    feed's ttl): honoured, but never beyond `max_backoff`, so a wrong header
    cannot silence a feed for weeks.
    """
    cap = max(max_backoff, interval)
    delay = interval
    if consecutive_errors:
        delay = doubled(interval, consecutive_errors, cap)
        reason = BACKOFF
    if min(floor, cap) > delay:
        delay = min(floor, cap)
        reason = PUBLISHER
    later = jitter(delay, (rng or random).random(), JITTER_SHARE, MAX_JITTER)
    return Plan(now + timedelta(seconds=delay + later), delay, reason)


def next_due(
    now: datetime,
    interval: float,
    consecutive_errors: int,
    max_backoff: float,
    rng: random.Random | None = None,
    floor: float = 0.0,
) -> datetime:
    """The next poll time for a feed after a poll at `now` (see `plan_next`)."""
    return plan_next(now, interval, consecutive_errors, max_backoff, rng, floor).due


def adaptive_interval(
    published: Iterable[datetime | None], configured: float, low: float, high: float
) -> float:
    """The polling interval a feed's own publishing rate suggests, within [low, high].

    The median gap between its latest entries (up to 20): a wire feed publishing
    every few minutes is polled at `low`, a ministry feed publishing weekly at
    `high`. Without at least three dated entries the configured interval stays.
    The caller polls at the shorter of this and the configured interval.
    """
    times = sorted((t for t in published if t is not None), reverse=True)[:20]
    if len(times) < 3:
        return configured
    gaps = [(newer - older).total_seconds() for newer, older in itertools.pairwise(times)]
    return min(max(statistics.median(gaps), low), high)


def effective_interval(configured: float, suggested: float | None) -> tuple[float, str]:
    """The interval a feed is polled at and why: the adaptive suggestion only when shorter."""
    if suggested is not None and suggested < configured:
        return suggested, ADAPTIVE
    return configured, INTERVAL


def network_quorum(feeds: int) -> int:
    """How many feeds unreachable with no answer from any feed between mean the network,
    not the feeds, failed: half of them, at least two (all of them when fewer)."""
    return max(1, min(feeds, max(2, math.ceil(feeds / 2))))
