"""Next due times: the interval after a success, capped exponential backoff after failures."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from watcher.app.schedule import adaptive_interval, next_due

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
HOUR = 3600.0
DAY = 86400.0


def delay(errors: int, interval: float = 900.0, cap: float = DAY) -> float:
    return (next_due(NOW, interval, errors, cap, random.Random(7)) - NOW).total_seconds()


def test_success_waits_the_interval_plus_at_most_a_minute_of_jitter() -> None:
    assert 900.0 <= delay(0) <= 960.0


def test_jitter_is_at_most_a_tenth_of_a_short_interval() -> None:
    assert 10.0 <= delay(0, interval=10.0) <= 11.0


def test_each_failure_doubles_the_delay() -> None:
    assert [round(delay(errors, cap=DAY) // 60) for errors in (1, 2, 3)] == [30, 60, 120]


def test_backoff_stops_at_the_cap_and_stays_there() -> None:
    assert DAY <= delay(12) <= DAY + 60
    assert DAY <= delay(400) <= DAY + 60


def test_a_cap_below_the_interval_never_shortens_the_interval() -> None:
    assert delay(3, interval=2 * DAY, cap=HOUR) >= 2 * DAY


def test_next_due_is_in_the_future() -> None:
    assert next_due(NOW, 1.0, 0, 4.0) > NOW + timedelta(seconds=1) - timedelta(microseconds=1)


def test_publisher_floor_delays_the_next_poll() -> None:
    due = next_due(NOW, 900.0, 0, DAY, random.Random(7), floor=2 * HOUR)

    assert 2 * HOUR <= (due - NOW).total_seconds() <= 2 * HOUR + 60


def test_publisher_floor_never_goes_past_the_backoff_cap() -> None:
    due = next_due(NOW, 900.0, 1, DAY, random.Random(7), floor=30 * DAY)

    assert DAY <= (due - NOW).total_seconds() <= DAY + 60


def every(minutes: float, count: int = 10) -> list[datetime]:
    return [NOW - timedelta(minutes=minutes * i) for i in range(count)]


def test_busy_feed_is_polled_at_the_minimum_interval() -> None:
    assert adaptive_interval(every(2), 1800.0, 300.0, 6 * HOUR) == 300.0


def test_quiet_feed_is_polled_at_the_maximum_interval() -> None:
    assert adaptive_interval(every(3 * 1440), 1800.0, 300.0, 6 * HOUR) == 6 * HOUR


def test_feed_in_between_is_polled_at_its_median_gap() -> None:
    times = [*every(40)[:5], NOW - timedelta(days=9)]  # one old straggler barely counts

    assert adaptive_interval(times, 1800.0, 300.0, 6 * HOUR) == 40 * 60


def test_feed_without_dates_keeps_its_configured_interval() -> None:
    assert adaptive_interval([None, None, NOW], 1800.0, 300.0, 6 * HOUR) == 1800.0
