"""Housekeeping: deleting old articles no term hit, and the old poll log. Its SQL.

An article is kept while it has a hit, and while any copy of its story (its
cluster) has one, so "reported by N outlets" stays true; and while a reader's
judgement names it (a story a term missed, judged relevant, is the evidence
of that miss). Deleting an article
takes its feed links and cluster keys with it (ON DELETE CASCADE) and its
words out of the search index (store/fulltext.py) in the same transaction.
Work goes in batches, each its own short transaction, so the service keeps
polling while a large backlog is pruned. Watchers sharing a PostgreSQL
database prune one at a time (`HOUSEKEEPING_LOCK`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from watcher.store.fulltext import Indexing
from watcher.store.records import Pruned
from watcher.store.schema import stamp
from watcher.store.sql import Sql, among

log = logging.getLogger(__name__)

BATCH = 1000
# Lock key (`Sql.exclusive`): one watcher housekeeps at a time ("housekeep" in ASCII, cut).
HOUSEKEEPING_LOCK = 0x686F7573656B65

_PRUNABLE = """
    FROM articles a
    WHERE a.first_seen_at < :before AND a.changed_at < :before
      AND NOT EXISTS (SELECT 1 FROM hits h WHERE h.article_id = a.id)
      AND NOT EXISTS (SELECT 1 FROM judgements j WHERE j.article_id = a.id)
      AND NOT EXISTS (
          SELECT 1 FROM articles copy JOIN hits h ON h.article_id = copy.id
          WHERE copy.cluster_id = a.cluster_id
      )
"""


class Retention:
    """Deletes what the retention settings no longer keep."""

    def __init__(self, db: Sql, fulltext: Indexing) -> None:
        self.db = db
        self.fulltext = fulltext

    def count(self, *, articles_before: datetime | None, polls_before: datetime | None) -> Pruned:
        """What `prune` would delete now."""
        articles = polls = 0
        if articles_before is not None:
            articles = self.db.execute(
                f"SELECT COUNT(*) {_PRUNABLE}", {"before": stamp(articles_before)}
            ).fetchone()[0]
        if polls_before is not None:
            polls = self.db.execute(
                "SELECT COUNT(*) FROM polls WHERE started_at < ?", [stamp(polls_before)]
            ).fetchone()[0]
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
        watcher at a time prunes: another finding the lock taken deletes nothing
        and says so in the log.
        """
        with self.db.exclusive(HOUSEKEEPING_LOCK) as got:
            if not got:
                log.info("housekeeping: another watcher is running it; this one skips its turn")
                return Pruned(0, 0)
            return self._prune(articles_before, polls_before, progress, batch)

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
                with self.db.writing():
                    rows = self.db.execute(
                        f"""
                        SELECT a.id, a.title, a.text, a.first_seen_at {_PRUNABLE}
                          AND (a.first_seen_at, a.id) > (:seen, :id)
                        ORDER BY a.first_seen_at, a.id LIMIT :batch
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
                    self.fulltext.remove((id_, title, text) for id_, title, text, _ in rows)
                    self.db.execute(f"DELETE FROM articles WHERE {among('id', ids)}", ids)
                after = (rows[-1][3], rows[-1][0])
                articles += len(rows)
                if progress is not None:
                    progress(articles)
        if polls_before is not None:
            while True:
                cursor = self.db.execute(
                    "DELETE FROM polls WHERE id IN"
                    " (SELECT id FROM polls WHERE started_at < ? ORDER BY id LIMIT ?)",
                    [stamp(polls_before), batch],
                )
                polls += cursor.rowcount
                if cursor.rowcount < batch:
                    break
        return Pruned(articles, polls)
