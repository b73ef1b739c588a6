"""Search on PostgreSQL: not built yet (issue 20, item 3).

The plan: a candidate query over the articles (pg_trgm on the text, or a
table of the matcher's own tokens per article, so CJK and Devanagari find
what SQLite's index finds), then the same matcher filtering app/search.py
does. Until then a search says so in one line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from watcher.errors import StoreError
from watcher.store.postgres.sql import Connection
from watcher.store.records import Candidate


class FullText:
    """The search index's place on PostgreSQL; it ranks nothing yet."""

    def __init__(self, db: Connection, where: str) -> None:
        self.db = db
        self.where = where

    def ranked(
        self,
        expression: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        feeds: Sequence[str] = (),
        offset: int = 0,
        limit: int = 100,
    ) -> list[Candidate]:
        raise StoreError(f"{self.where}: search is not built for PostgreSQL yet")

    def rebuild(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Nothing to rebuild: there is no index yet."""
        return 0

    def check(self) -> None:
        """Nothing to check: there is no index yet."""
