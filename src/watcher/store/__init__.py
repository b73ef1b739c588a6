"""The hit database: the only place with SQL.

`database.py` holds feeds, articles, hits and polls; `outbox.py` the digests
waiting for or done with delivery; `fulltext.py` the search index;
`archive.py` reads hits and articles for people; `retention.py` deletes what
is no longer kept; `schema.py` has the migrations that build it all.
"""

from watcher.store.database import FeedState, Known, PollRecord, Reading, Store
from watcher.store.retention import Pruned
from watcher.store.schema import stamp

__all__ = ["FeedState", "Known", "PollRecord", "Pruned", "Reading", "Store", "stamp"]
