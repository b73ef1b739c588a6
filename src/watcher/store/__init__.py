"""The hit database: the only place with SQL.

`database.py` opens the SQLite file and composes the parts, each owning some
tables: `feeds.py` (feeds, polls, the schedule), `articles.py` (articles and
hits), `heartbeat.py` (the running service), `outbox.py` (digests waiting for
or done with delivery), `fulltext.py` (the search index), `archive.py`
(reading hits and articles for people), `marks.py` (triage) and `retention.py`
(deleting what is no longer kept). Each part's SQL is written once for both
backends and runs through an `Sql` (`sql.py`; PostgreSQL's in `postgres/`).
`records.py` has the values they take and give; `schema.py` the migrations
that build it all.
"""

from watcher.store.backends import open_storage
from watcher.store.database import Store
from watcher.store.protocols import Storage
from watcher.store.records import ArticleToStore, FeedState, Pruned, StoredEntry, StoryRule
from watcher.store.schema import stamp

__all__ = [
    "ArticleToStore",
    "FeedState",
    "Pruned",
    "Storage",
    "Store",
    "StoredEntry",
    "StoryRule",
    "open_storage",
    "stamp",
]
