"""The service's start: its database opened when the disk has room, the process noted in
it, and the feeds that dead processes of this host held given back.

The running service rides out a full disk (a poll that cannot store its
entries fails and is tried again). At the start it waits the same way: it
says once that the disk is full and retries until there is room, so neither
`watcher run` nor systemd's restarts end in a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from datetime import UTC, datetime

from watcher.app.disk import disk_full
from watcher.config.load import Config
from watcher.errors import StoreError
from watcher.ops.notify import notify
from watcher.ops.processes import process_alive
from watcher.store import Storage, open_storage

log = logging.getLogger(__name__)

RETRY_FIRST = 1.0  # seconds before the first retry at the start; doubled up to RETRY_MAX
RETRY_MAX = 30.0


async def open_when_room(config: Config, pid: int, stop: asyncio.Event) -> Storage | None:
    """The database, opened and marked as served by `pid`; None if stopped while waiting.

    On a full disk this logs one line and tries again, 1 s then doubling up to
    30 s, until the disk has room or `stop` is set. Other errors are raised.
    """
    # The SQLite file's folder, whose free space tells a full disk; a server's disk is its own.
    folder = config.db_path.parent if config.db_url is None else None
    delay, warned = RETRY_FIRST, False
    while True:
        store = None
        try:
            store = open_storage(config.database)
            with store.translated():
                store.ensure_sound(datetime.now(UTC))  # never start writing to a damaged file
                store.sync(config.feeds, config.channels, datetime.now(UTC))
                store.heartbeat.started(pid, datetime.now(UTC))
                store.heartbeat.joined(socket.gethostname(), pid, datetime.now(UTC))
                release_the_dead(store, socket.gethostname())
        except (StoreError, OSError) as exc:
            if store is not None:
                store.close()
            if not disk_full(exc, folder):
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
