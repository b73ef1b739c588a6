"""Housekeeping on PostgreSQL (store/retention.py's twin): old unhit articles, old polls.

An article is kept while it has a hit, and while any copy of its story (its
cluster) has one, so "reported by N outlets" stays true; and while a reader's
judgement names it (a story a term missed, judged relevant, is the evidence
of that miss). Deleting an article
takes its feed links and cluster keys with it (ON DELETE CASCADE) and its
words out of the search index in the same transaction.
Work goes in batches, each its own short transaction, so the service keeps
polling while a large backlog is pruned.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from watcher.store.postgres.sql import Connection, among, one, stamp
from watcher.store.records import Pruned

log = logging.getLogger(__name__)

BATCH = 1000
# pg_try_advisory_lock key: one watcher housekeeps at a time ("housekeep" in ASCII, cut).
HOUSEKEEPING_LOCK = 0x686F7573656B65

_PRUNABLE = """
    FROM articles a
    WHERE a.first_seen_at < %(before)s AND a.changed_at < %(before)s
      AND NOT EXISTS (SELECT 1 FROM hits h WHERE h.article_id = a.id)
      AND NOT EXISTS (SELECT 1 FROM judgements j WHERE j.article_id = a.id)
      AND NOT EXISTS (
          SELECT 1 FROM articles copy JOIN hits h ON h.article_id = copy.id
          WHERE copy.cluster_id = a.cluster_id
      )
"""


class Retention:
    """Deletes what the retention settings no longer keep."""

    def __init__(self, db: Connection) -> None:
        self.db = db

    def count(self, *, articles_before: datetime | None, polls_before: datetime | None) -> Pruned:
        """What `prune` would delete now."""
        articles = polls = 0
        if articles_before is not None:
            articles = one(
                self.db.execute(f"SELECT COUNT(*) {_PRUNABLE}", {"before": stamp(articles_before)})
            )[0]
        if polls_before is not None:
            polls = one(
                self.db.execute(
                    "SELECT COUNT(*) FROM polls WHERE started_at < %s", [stamp(polls_before)]
                )
            )[0]
        return Pruned(articles, polls)

    def prune(
        self,
        *,
        articles_before: datetime | None,
        polls_before: datetime | None,
        progress: Callable[[int], None] | None = None,
        batch: int = BATCH,
    ) -> Pruned:
        """Delete prunable articles first seen, and polls started, before the given moments.

        `progress(articles deleted so far)` is called after each batch. One
        watcher at a time prunes (an advisory lock held for the run): another
        finding it taken deletes nothing and says so in the log.
        """
        got = one(self.db.execute("SELECT pg_try_advisory_lock(%s)", [HOUSEKEEPING_LOCK]))[0]
        if not got:
            log.info("housekeeping: another watcher is running it; this one skips its turn")
            return Pruned(0, 0)
        try:
            return self._prune(articles_before, polls_before, progress, batch)
        finally:
            self.db.execute("SELECT pg_advisory_unlock(%s)", [HOUSEKEEPING_LOCK])

    def _prune(
        self,
        articles_before: datetime | None,
        polls_before: datetime | None,
        progress: Callable[[int], None] | None,
        batch: int,
    ) -> Pruned:
        articles = polls = 0
        if articles_before is not None:
            after = ("", 0)  # keyset: (first_seen_at, id) of the last article looked at
            while True:
                with self.db.transaction():
                    rows = self.db.execute(
                        f"""
                        SELECT a.id, a.first_seen_at {_PRUNABLE}
                          AND (a.first_seen_at, a.id) > (%(seen)s, %(id)s)
                        ORDER BY a.first_seen_at, a.id LIMIT %(batch)s
                        """,
                        {
                            "before": stamp(articles_before),
                            "seen": after[0],
                            "id": after[1],
                            "batch": batch,
                        },
                    ).fetchall()
                    if not rows:
                        break
                    ids = [row[0] for row in rows]
                    self.db.execute(f"DELETE FROM articles WHERE {among('id', ids)}", ids)
                after = (rows[-1][1], rows[-1][0])
                articles += len(rows)
                if progress is not None:
                    progress(articles)
        if polls_before is not None:
            while True:
                cursor = self.db.execute(
                    "DELETE FROM polls WHERE id IN"
                    " (SELECT id FROM polls WHERE started_at < %s ORDER BY id LIMIT %s)",
                    [stamp(polls_before), batch],
                )
                polls += cursor.rowcount
                if cursor.rowcount < batch:
                    break
        return Pruned(articles, polls)
