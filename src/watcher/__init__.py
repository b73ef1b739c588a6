"""watcher: poll news feeds, extract articles, match watch-terms, keep hits in SQLite.

The names below are the library surface; everything else is an implementation module.
"""

from watcher.config import Config, FeedConfig, load_config
from watcher.errors import (
    ConfigError,
    FeedError,
    FetchError,
    QueryError,
    StoreError,
    WatcherError,
)
from watcher.models import Article, Entry, Hit, Match
from watcher.pipeline import Poller, PollResult
from watcher.store import Store
from watcher.terms import Term, compile_term, match_terms

__all__ = [
    "Article",
    "Config",
    "ConfigError",
    "Entry",
    "FeedConfig",
    "FeedError",
    "FetchError",
    "Hit",
    "Match",
    "PollResult",
    "Poller",
    "QueryError",
    "Store",
    "StoreError",
    "Term",
    "WatcherError",
    "compile_term",
    "load_config",
    "match_terms",
]
