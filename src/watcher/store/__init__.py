"""The hit database: the only place with SQL.

`database.py` holds feeds, articles, hits and polls; `outbox.py` the digests
waiting for or done with delivery; `schema.py` the migrations that build them.
"""

from watcher.store.database import FeedState, Known, PollRecord, Store
from watcher.store.schema import stamp

__all__ = ["FeedState", "Known", "PollRecord", "Store", "stamp"]
