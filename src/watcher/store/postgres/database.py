"""The PostgreSQL store: its pool of connections, its errors; the parts it is made of."""

from __future__ import annotations

from typing import TYPE_CHECKING

from watcher.errors import StoreError
from watcher.store.postgres.connection import shown

if TYPE_CHECKING:
    from watcher.store.protocols import Storage


class PostgresStore:
    """A PostgreSQL database holding what SQLite's `Store` holds (issue 20)."""

    @classmethod
    def open(cls, url: str) -> Storage:
        raise StoreError(f"{shown(url)}: the PostgreSQL store is not built yet")
