"""One service per database: an exclusive lock that dies with the process holding it.

`watcher run` takes an `flock` on `<database>.lock` for as long as it runs. The
kernel drops the lock when the process ends, however it ends (SIGKILL, a
crash, a power cut), so a stale pid file can never keep the service from
starting. The file only holds the pid of the holder, for the message.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from watcher.errors import WatcherError


def lock_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".lock")


@contextmanager
def service_lock(db_path: Path) -> Iterator[None]:
    """Hold the database's service lock, or raise `WatcherError` naming who holds it."""
    path = lock_path(db_path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise WatcherError(f"{path}: cannot open the service lock: {exc.strerror}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            raise WatcherError(
                f"another watcher service (pid {holder}) is already running on {db_path}"
            ) from None
        try:  # the pid is a courtesy for the message above; a full disk must not stop us
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except OSError:
            pass
        yield
    finally:
        os.close(fd)  # releases the lock
