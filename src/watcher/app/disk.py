"""A full disk: telling it from other database errors, and waiting for room at the start.

The running service rides out a full disk (a poll that cannot store its
entries fails and is tried again). At the start it waits the same way: it
says once that the disk is full and retries until there is room, so neither
`watcher run` nor systemd's restarts end in a traceback.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import shutil
import socket
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from watcher.config.load import Config
from watcher.errors import StoreError
from watcher.ops.notify import notify
from watcher.store import Storage, open_storage
from watcher.store.outbox import process_alive

log = logging.getLogger(__name__)

RETRY_FIRST = 1.0  # seconds before the first retry at the start; doubled up to RETRY_MAX
RETRY_MAX = 30.0
LOW = 1 << 20  # bytes free below which an I/O error is taken for a full disk


def disk_full(exc: BaseException, folder: Path) -> bool:
    """Whether a database error comes from a full disk (or quota).

    SQLite says "database or disk is full" when a write finds no room, but only
    "disk I/O error" when it cannot create its -wal and -shm files, so for an
    I/O error the free space of the database's folder decides.
    """
    if isinstance(exc, sqlite3.Error) and getattr(exc, "sqlite_errorcode", None) in (
        sqlite3.SQLITE_FULL,
    ):
        return True
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(exc)
    if "database or disk is full" in text:
        return True
    if "disk I/O error" in text or isinstance(exc, OSError):
        try:
            return shutil.disk_usage(folder).free < LOW
        except OSError:
            return False
    return False


async def open_when_room(config: Config, pid: int, stop: asyncio.Event) -> Storage | None:
    """The database, opened and marked as served by `pid`; None if stopped while waiting.

    On a full disk this logs one line and tries again, 1 s then doubling up to
    30 s, until the disk has room or `stop` is set. Other errors are raised.
    """
    delay, warned = RETRY_FIRST, False
    while True:
        store = None
        try:
            store = open_storage(config.database)
            store.ensure_sound(datetime.now(UTC))  # never start writing to a damaged file
            store.sync(config.feeds, config.channels, datetime.now(UTC))
            store.heartbeat.started(pid, datetime.now(UTC))
            store.heartbeat.joined(socket.gethostname(), pid, datetime.now(UTC))
            release_the_dead(store, socket.gethostname())
        except (StoreError, sqlite3.Error, OSError) as exc:
            if store is not None:
                store.close()
            if not disk_full(exc, config.db_path.parent):
                if isinstance(exc, StoreError):
                    raise
                raise StoreError(f"{config.db_path}: {exc}") from None
            if not warned:
                reason = exc if isinstance(exc, StoreError) else f"{config.db_path}: {exc}"
                log.error("the disk is full, waiting for room: %s", reason)
                # Started, as far as systemd is concerned: no start timeout, no restart loop.
                notify("READY=1")
                notify("STATUS=the disk is full; waiting for room")
                warned = True
            notify("WATCHDOG=1")  # RETRY_MAX is well under half the unit's WatchdogSec
        else:
            if warned:
                log.info("the disk has room again: starting")
            return store
        try:
            await asyncio.wait_for(stop.wait(), timeout=delay)
        except TimeoutError:
            delay = min(delay * 2, RETRY_MAX)
            continue
        return None


def release_the_dead(store: Storage, host: str) -> None:
    """Give back the feeds that processes of this host, now dead (a service killed
    mid-poll), still hold, so a restarted service polls them at once rather than when
    their lease runs out. Other hosts' claims are left to their leases."""
    dead = []
    for owner in store.feeds.claimants():
        where, _, pid = owner.rpartition(":")
        if where == host and pid.isdigit() and not process_alive(int(pid)):
            dead.append(owner)
    if dead:
        log.info("gave back %d feeds that ended processes held", store.feeds.release(dead))
