"""The service's start: a full disk told from other database errors on either backend, and
a stop that comes while it starts."""

from __future__ import annotations

import asyncio
import errno
import logging
from pathlib import Path

import pytest

from conftest import write_config
from watcher.app.disk import disk_full
from watcher.app.service import serve
from watcher.config.load import load_config
from watcher.errors import StoreError

URL = "postgresql://watcher@db.example/watcher"


def test_a_full_disk_on_the_postgresql_server_is_a_full_disk() -> None:
    """PostgreSQL quotes the OS ("could not extend file ...: No space left on device"); the
    service waits for room as it does for SQLite's file, instead of failing to start."""
    full = StoreError(
        f'{URL}: database error: could not extend file "base/16384/16402": No space left on device'
    )

    assert disk_full(full, None)


def test_other_postgresql_errors_are_not_a_full_disk() -> None:
    refused = StoreError(f"{URL}: cannot connect: connection refused")
    io_error = StoreError(f"{URL}: database error: disk I/O error")  # no folder of ours to look at

    assert not disk_full(refused, None)
    assert not disk_full(io_error, None)


def test_sqlite_full_disk_and_enospc_are_a_full_disk(tmp_path: Path) -> None:
    sqlite_full = StoreError(
        f"{tmp_path}/watcher.db: cannot write the database (database or disk is full)"
    )

    assert disk_full(sqlite_full, tmp_path)
    assert disk_full(OSError(errno.ENOSPC, "No space left on device"), tmp_path)
    assert not disk_full(StoreError(f"{tmp_path}/watcher.db: database is locked"), tmp_path)


@pytest.mark.slow
def test_a_service_stopped_as_it_starts_stops_without_an_error_or_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """SIGTERM during the start (systemd stopping a service it just started): the jobs the
    scheduler had just set off must not end as "Error running job" with a traceback."""
    config = load_config(write_config(tmp_path, [("Nowhere", "http://127.0.0.1:9/rss")]))
    stop = asyncio.Event()
    stop.set()

    with caplog.at_level(logging.INFO):
        asyncio.run(serve(config, stop))

    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert errors == [], [record.getMessage() for record in errors]
    assert "stopped" in caplog.messages
