"""When a feed is due next: its interval after a success, exponential backoff after failures.

A failing feed is never given up on: its delay doubles with each consecutive
failure up to `max_backoff` (one day by default) and stays there, so a site
that comes back is polled again within that time.
"""

from __future__ import annotations

import itertools
import random
import statistics
from collections.abc import Iterable
from datetime import datetime, timedelta

MAX_JITTER = 60.0  # seconds; jitter keeps feeds of one host from moving in lockstep


def next_due(
    now: datetime,
    interval: float,
    consecutive_errors: int,
    max_backoff: float,
    rng: random.Random | None = None,
    floor: float = 0.0,
) -> datetime:
    """The next poll time for a feed after a poll at `now`.

    `floor` is the publisher's wish (Retry-After, Cache-Control max-age, the
    feed's ttl): honoured, but never beyond `max_backoff`, so a wrong header
    cannot silence a feed for weeks.
    """
    cap = max(max_backoff, interval)
    delay = interval
    if consecutive_errors:
        delay = min(interval * 2.0 ** min(consecutive_errors, 32), cap)
    delay = max(delay, min(floor, cap))
    jitter = (rng or random).uniform(0, min(delay / 10, MAX_JITTER))
    return now + timedelta(seconds=delay + jitter)


def adaptive_interval(
    published: Iterable[datetime | None], configured: float, low: float, high: float
) -> float:
    """The polling interval a feed's own publishing rate suggests, within [low, high].

    The median gap between its latest entries (up to 20): a wire feed publishing
    every few minutes is polled at `low`, a ministry feed publishing weekly at
    `high`. Without at least three dated entries the configured interval stays.
    """
    times = sorted((t for t in published if t is not None), reverse=True)[:20]
    if len(times) < 3:
        return configured
    gaps = [(newer - older).total_seconds() for newer, older in itertools.pairwise(times)]
    return min(max(statistics.median(gaps), low), high)
