"""Opening the configured store: SQLite for a path, PostgreSQL for a `postgresql://` URL.

Every opener (a poll, the service, a delivery, housekeeping, the CLI, the web
desk) goes through `open_storage`, so the backend is chosen in one place.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from watcher.store.database import Store

if TYPE_CHECKING:
    from watcher.store.protocols import Storage

SCHEMES = ("postgresql", "postgres")  # the two URL schemes libpq accepts


def is_url(where: Path | str) -> bool:
    """Whether `where` names a PostgreSQL database rather than an SQLite file."""
    if not isinstance(where, str):
        return False
    scheme, separator, _ = where.partition("://")
    return bool(separator) and scheme.lower() in SCHEMES


def open_storage(where: Path | str, *, readonly: bool = False) -> Storage:
    """Open the store at `where` (a file's path or a PostgreSQL URL), its schema up to date.

    `readonly` asks for a connection that writes nothing, when the backend
    can give one (SQLite beside a service holding the write lock).
    """
    if is_url(where):
        from watcher.store.postgres.database import PostgresStore  # psycopg only when used

        return PostgresStore.open(str(where))
    return Store.open(where, readonly=readonly)
