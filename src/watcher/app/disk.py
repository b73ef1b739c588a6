"""A full disk told from other database errors, on either backend.

The service's start waits for room on a full disk (`app.startup`); any other
error there is raised.
"""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

LOW = 1 << 20  # bytes free below which an I/O error is taken for a full disk
# How a full disk (or quota) reads: SQLite's words, then the OS's (PostgreSQL quotes them).
FULL = ("database or disk is full", "No space left on device", "Disk quota exceeded")


def disk_full(exc: BaseException, folder: Path | None) -> bool:
    """Whether a database error comes from a full disk (or quota).

    SQLite says "database or disk is full" when a write finds no room, but only
    "disk I/O error" when it cannot create its -wal and -shm files, so for an
    I/O error the free space of the database's `folder` decides. PostgreSQL
    names the full disk in its message ("could not extend file ...: No space
    left on device"); its disk is the server's, so `folder` is None there.
    """
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(exc)
    if any(words in text for words in FULL):
        return True
    if folder is not None and ("disk I/O error" in text or isinstance(exc, OSError)):
        try:
            return shutil.disk_usage(folder).free < LOW
        except OSError:
            return False
    return False
