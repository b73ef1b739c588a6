"""When a feed is due next: its interval after a success, exponential backoff after failures.

A failing feed is never given up on: its delay doubles with each consecutive
failure up to `max_backoff` (one day by default) and stays there, so a site
that comes back is polled again within that time.
"""

from __future__ import annotations

import random
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
