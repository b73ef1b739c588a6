"""Waiting longer after each failure: a delay doubled per failure up to a cap, and jitter.

The one rule behind a failing feed's next poll (`watcher.app.schedule`) and a
failing digest's next try (`watcher.delivery.dispatch`).
"""

from __future__ import annotations

import math

_MOST_DOUBLINGS = 1023  # 2.0 ** 1024 overflows; any cap is reached long before


def doubled(base: float, failures: int, cap: float) -> float:
    """`base` doubled once per failure in a row, never more than `cap` (`base` itself at 0)."""
    return min(cap, base * 2.0 ** min(failures, _MOST_DOUBLINGS))


def jitter(delay: float, draw: float, share: float, most: float = math.inf) -> float:
    """Seconds to move `delay` by, so that things failing together do not retry in lockstep.

    Up to `share` of the delay, at most `most` seconds, scaled by `draw` (a random
    number in [0, 1)). The caller adds it or takes it off.
    """
    return draw * min(delay * share, most)
