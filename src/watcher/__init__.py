"""watcher: poll news feeds, extract articles, match watch-terms, keep hits in SQLite.

The names below are the library surface; everything else is an implementation module.
Each is imported on first use, so that a process needing one module (an extraction
worker needs `watcher.sources.extract` alone) does not load them all: the worker would
carry the HTTP client, the store and the scheduler for nothing (about 8 MB each).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names as type checkers see them (`X as X`: re-exported)
    from watcher.app.poll import Poller as Poller
    from watcher.config.load import Config as Config
    from watcher.config.load import FeedConfig as FeedConfig
    from watcher.config.load import load_config as load_config
    from watcher.errors import ConfigError as ConfigError
    from watcher.errors import FeedError as FeedError
    from watcher.errors import FetchError as FetchError
    from watcher.errors import QueryError as QueryError
    from watcher.errors import StoreError as StoreError
    from watcher.errors import WatcherError as WatcherError
    from watcher.match.terms import Term as Term
    from watcher.match.terms import compile_term as compile_term
    from watcher.match.terms import match_terms as match_terms
    from watcher.models import Article as Article
    from watcher.models import Entry as Entry
    from watcher.models import Hit as Hit
    from watcher.models import Match as Match
    from watcher.models import PollResult as PollResult
    from watcher.store import Store as Store

_SURFACE = {
    "Article": "watcher.models",
    "Config": "watcher.config.load",
    "ConfigError": "watcher.errors",
    "Entry": "watcher.models",
    "FeedConfig": "watcher.config.load",
    "FeedError": "watcher.errors",
    "FetchError": "watcher.errors",
    "Hit": "watcher.models",
    "Match": "watcher.models",
    "PollResult": "watcher.models",
    "Poller": "watcher.app.poll",
    "QueryError": "watcher.errors",
    "Store": "watcher.store",
    "StoreError": "watcher.errors",
    "Term": "watcher.match.terms",
    "WatcherError": "watcher.errors",
    "compile_term": "watcher.match.terms",
    "load_config": "watcher.config.load",
    "match_terms": "watcher.match.terms",
}
__all__ = list(_SURFACE)


def __getattr__(name: str) -> Any:
    if name not in _SURFACE:
        raise AttributeError(f"module 'watcher' has no attribute {name!r}")
    return getattr(importlib.import_module(_SURFACE[name]), name)
