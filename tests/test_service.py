"""`watcher run` as a real process: the scheduler polls on intervals and stops on SIGTERM."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import Site, write_config

pytestmark = pytest.mark.slow


def start(config: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "watcher", "--config", str(config), "-v", "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for(condition: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.2)
    return False


def hit_count(db: Path) -> int:
    try:
        with sqlite3.connect(db) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM hits").fetchone()[0])
    except sqlite3.Error:
        return 0


def stop(process: subprocess.Popen[str]) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    try:
        output, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        pytest.fail(f"service did not stop within 20s after SIGTERM:\n{output}")
    return process.returncode, output


def test_service_polls_on_its_interval_and_stops_on_sigterm(
    fixture_site: Site, tmp_path: Path
) -> None:
    config = write_config(
        tmp_path,
        [
            ("Coastline Daily", f"{fixture_site.base}/news.rss"),
            ("Harbour Wire", f"{fixture_site.base}/briefs.json"),
        ],
        interval="2s",
    )
    process = start(config)
    try:
        stored = wait_for(lambda: hit_count(tmp_path / "watcher.db") == 4, timeout=30)
        # Later runs of the interval jobs are answered by 304s.
        repolled = wait_for(lambda: ("/news.rss", 304) in fixture_site.requests(), timeout=15)
    finally:
        code, output = stop(process)

    assert stored, output
    assert repolled, output
    assert code == 0, output
    assert "stopped" in output
    assert hit_count(tmp_path / "watcher.db") == 4


def test_service_logs_a_failing_feed_and_keeps_polling_the_others(
    fixture_site: Site, tmp_path: Path
) -> None:
    config = write_config(
        tmp_path,
        [
            ("Closed Port", "http://127.0.0.1:9/feed.xml"),
            ("Coastline Daily", f"{fixture_site.base}/news.rss"),
        ],
        interval="2s",
    )
    process = start(config)
    try:
        repolled = wait_for(lambda: ("/news.rss", 304) in fixture_site.requests(), timeout=30)
    finally:
        code, output = stop(process)

    assert repolled, output
    assert code == 0, output
    assert "feed 'Closed Port' failed: http://127.0.0.1:9/feed.xml: cannot connect" in output
