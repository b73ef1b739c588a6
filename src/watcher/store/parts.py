"""What both stores (SQLite's `Store`, PostgreSQL's `PostgresStore`) do alike with their
parts: the SQL of each store's own few questions, written once."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from watcher.store.feeds import Feeds
from watcher.store.outbox import Outbox
from watcher.store.records import FeedListing, Named
from watcher.store.schema import stamp
from watcher.store.sql import Sql

TABLES = frozenset({"feeds", "articles", "article_feeds", "hits", "polls", "digests"})


class Parts:
    """A store's questions of its whole database, over the `Sql` its parts share."""

    sql: Sql
    feeds: Feeds
    outbox: Outbox

    def sync(self, feeds: Iterable[FeedListing], channels: Iterable[Named], now: datetime) -> None:
        """Give every configured feed and channel a row (a channel notes when it first appeared)."""
        self.feeds.sync(feeds)
        self.outbox.sync_channels([channel.name for channel in channels], now)

    def last_check(self) -> tuple[str, str | None] | None:
        """(checked_at, problem or None) of the last integrity check, if one ran."""
        row = self.sql.execute("SELECT checked_at, problem FROM integrity WHERE id = 1").fetchone()
        return (row[0], row[1]) if row else None

    def hits_since(self, moment: datetime) -> int:
        return int(
            self.sql.execute(
                "SELECT COUNT(*) FROM hits WHERE found_at >= ?", [stamp(moment)]
            ).fetchone()[0]
        )

    def count(self, table: str) -> int:
        """Rows in one of our tables (for summaries and tests)."""
        if table not in TABLES:
            raise ValueError(f"unknown table {table!r}")
        return int(self.sql.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
