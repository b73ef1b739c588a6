"""The one backoff rule: a delay doubled per failure up to a cap, and jitter within a share."""

from __future__ import annotations

import pytest

from watcher.ops.backoff import doubled, jitter


def test_no_failure_waits_the_base() -> None:
    assert doubled(60.0, 0, 3600.0) == 60.0


def test_each_failure_doubles_the_delay_up_to_the_cap() -> None:
    assert [doubled(60.0, n, 600.0) for n in range(6)] == [60, 120, 240, 480, 600, 600]


def test_a_failure_count_past_any_float_stays_at_the_cap() -> None:
    assert doubled(60.0, 10_000, 86400.0) == 86400.0  # 2.0 ** 10_000 would overflow


def test_jitter_is_the_draw_times_the_share_of_the_delay() -> None:
    assert jitter(200.0, 0.0, 0.5) == 0.0
    assert jitter(200.0, 0.5, 0.5) == 50.0
    assert jitter(200.0, 0.999999, 0.5) == pytest.approx(100.0, rel=1e-5)


def test_jitter_never_passes_its_most() -> None:
    assert jitter(86400.0, 0.999999, 0.1, most=60.0) == pytest.approx(60.0, rel=1e-5)
    assert jitter(100.0, 0.999999, 0.1, most=60.0) == pytest.approx(10.0, rel=1e-5)
