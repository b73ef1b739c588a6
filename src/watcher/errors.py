"""The one exception hierarchy of watcher.

Every error a user can cause (a bad config, an unreachable feed, a malformed
query) is a `WatcherError` whose message names the thing that was wrong. The
CLI prints it as one line on stderr; anything else escaping is a bug.
"""

from typing import Any


class WatcherError(Exception):
    """Base class: a problem the user can act on, with a one-line message."""


class ConfigError(WatcherError):
    """The config file is missing, unreadable or invalid (exit code 2)."""


class ArgumentError(WatcherError):
    """A command-line argument names nothing that exists or contradicts another (exit code 2)."""


class QueryError(WatcherError):
    """A watch-term query does not parse, or is too costly to match on a text."""


class AliasError(QueryError):
    """A query of the config's `[aliases]` table is wrong; `alias` names which."""

    def __init__(self, alias: str, message: str) -> None:
        super().__init__(message)
        self.alias = alias


class QueryCostError(QueryError):
    """Matching a query on one text went over its work budget ("query too costly").

    Raised by `Matcher.match` and `Matcher.locate` with `term` set to the
    (first) costly term's name; from `Matcher.match`, `matches` holds the
    matches of the article's other terms. Searches and `watcher terms test`
    report it as an error; a poll should log the term's match as skipped,
    keep the other matches and go on (see docs/queries.md, Performance).
    """

    def __init__(self, message: str, term: str = "") -> None:
        super().__init__(message)
        self.term = term
        self.matches: list[Any] = []  # `watcher.models.Match`es of the other terms


class FetchError(WatcherError):
    """An HTTP fetch failed: network, status, size, scheme or address refused."""

    def __init__(
        self, message: str, retry_after: float | None = None, network: bool = False
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after  # seconds the server asked us to wait (429, 503)
        self.network = network  # the host could not be resolved or connected to


class FeedError(WatcherError):
    """Fetched bytes are not a feed we can read."""


class ExtractError(WatcherError):
    """An article page broke the extractor or outlasted its deadline (the feed's text is used)."""


class StoreError(WatcherError):
    """The hit database cannot be opened or written."""


class DamagedError(StoreError):
    """The database file is damaged (`PRAGMA quick_check` found problems): nothing more is
    written to it until it is recovered (docs/operations.md)."""


class DeliveryError(WatcherError):
    """A digest could not be handed to its channel (SMTP, webhook or apprise refused it)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after  # seconds the receiver asked us to wait, if it did
