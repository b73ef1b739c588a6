"""Load and validate `watcher.toml` into typed settings.

Every mistake is reported as one `ConfigError` naming the file, the field and,
where the TOML text shows it, the line.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from apscheduler.triggers.cron import CronTrigger

from watcher.config.channels import ChannelConfig, DeliveryConfig, channel_configs, delivery_config
from watcher.config.check import TOP, Checker, Where
from watcher.config.check import parse_duration as parse_duration
from watcher.config.web import WebConfig, web_config
from watcher.errors import AliasError, ConfigError, QueryError
from watcher.match import Node, Term, compile_term, resolve_aliases
from watcher.sources.settings import DEFAULT_USER_AGENT, FetchConfig

ENV_CONFIG = "WATCHER_CONFIG"
DEFAULT_CONFIG = Path("config/watcher.toml")
POSTGRES_SCHEMES = ("postgresql", "postgres")  # what libpq accepts in `[storage] url`


@dataclass(frozen=True)
class FeedConfig:
    name: str
    url: str
    interval: float  # seconds
    enabled: bool = True


@dataclass(frozen=True)
class RetentionConfig:
    """What housekeeping deletes, and when the service runs it (`[retention]`)."""

    # Articles no term hit (nor any copy of their story) are deleted this long after
    # they were first seen; None keeps them. Hits and their articles are never deleted.
    articles: float | None = 180 * 86400.0
    polls: float | None = 90 * 86400.0  # the poll log
    schedule: str = "30 3 * * *"  # cron, UTC


@dataclass(frozen=True)
class Config:
    path: Path
    db_path: Path  # the SQLite file; with `db_url` set, unused but for the default's place
    feeds: tuple[FeedConfig, ...]
    terms: tuple[Term, ...]
    fetch: FetchConfig = field(default_factory=FetchConfig)
    default_interval: float = 1800.0
    max_backoff: float = 86400.0  # a failing feed is retried at least this often
    adaptive: bool = True  # follow each feed's publishing rate between the bounds below
    min_interval: float = 300.0
    max_interval: float = 21600.0
    # Seconds a feed claimed for a poll stays this process's when several share a database
    # (issue 20): a process that died gives its feeds back when it runs out.
    lease: float = 600.0
    channels: tuple[ChannelConfig, ...] = ()
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)
    retention: RetentionConfig = field(default_factory=RetentionConfig)
    aliases: Mapping[str, Node] = field(default_factory=dict)  # [aliases]: @name in queries
    web: WebConfig = field(default_factory=WebConfig)
    db_url: str | None = None  # `[storage] url`: a PostgreSQL database instead of the file

    @property
    def database(self) -> Path | str:
        """Where the store is, as `watcher.store.open_storage` takes it: a path or a URL."""
        return self.db_url if self.db_url is not None else self.db_path

    def select_channels(self, names: Sequence[str] = ()) -> list[ChannelConfig]:
        """The named channels, or every channel when no name is given; none is an error."""
        if not self.channels:
            raise ConfigError(f"{self.path}: no [[channels]] configured")
        known = {channel.name: channel for channel in self.channels}
        for name in names:
            if name not in known:
                choices = ", ".join(repr(name) for name in known)
                raise ConfigError(f"{self.path}: no channel named {name!r} (channels: {choices})")
        return [known[name] for name in dict.fromkeys(names)] or list(self.channels)

    def check_secrets(self, channels: Sequence[ChannelConfig] | None = None) -> None:
        """Check the secrets of these channels (default: all) before they are used.

        A missing or malformed one stops the start or the send with a
        `ConfigError` naming the channel, rather than failing each attempt.
        Only the channels about to be used are checked: a secret missing for
        another channel must not stop this one.
        """
        for channel in self.channels if channels is None else channels:
            try:
                channel.check_secrets()
            except ConfigError as exc:
                raise ConfigError(f"{self.path}: channel {channel.name!r}: {exc}") from None

    def select_terms(self, names: Sequence[str]) -> list[Term]:
        """The named terms; an unknown name is a `ConfigError`."""
        known = {term.name: term for term in self.terms}
        for name in names:
            if name not in known:
                choices = ", ".join(repr(term) for term in known)
                raise ConfigError(f"{self.path}: no term named {name!r} (terms: {choices})")
        return [known[name] for name in names]

    def select_feeds(self, names: Sequence[str] = ()) -> list[FeedConfig]:
        """The named feeds (enabled or not), or every enabled feed when no name is given."""
        known = {feed.name: feed for feed in self.feeds}
        for name in names:
            if name not in known:
                raise ConfigError(f"{self.path}: no feed named {name!r}")
        chosen = [known[name] for name in dict.fromkeys(names)]
        chosen = chosen or [feed for feed in self.feeds if feed.enabled]
        if not chosen:
            raise ConfigError(f"{self.path}: no enabled feeds")
        return chosen


def config_path(explicit: str | os.PathLike[str] | None) -> Path:
    """The config file to use: the --config option, then $WATCHER_CONFIG, then the default."""
    if explicit:
        return Path(explicit)
    return Path(os.environ.get(ENV_CONFIG) or DEFAULT_CONFIG)


def load_config(path: str | os.PathLike[str]) -> Config:
    """Read and validate a config file; raise `ConfigError` naming what is wrong."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config: {exc}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    return _ConfigChecker(path, text).config(raw)


class _ConfigChecker(Checker):
    """Turns the raw TOML tables into `Config`, naming field and line on error."""

    def config(self, raw: dict[str, Any]) -> Config:
        sections = {
            "storage", "fetch", "poll", "feeds", "terms", "delivery", "channels", "retention",
            "aliases", "web",
        }  # fmt: skip
        self.known(raw, sections, TOP)
        storage, at = self.table(raw, "storage"), Where("storage")
        self.known(storage, {"path", "url"}, at)
        db_url = self._database_url(storage, at)
        db_path = self.beside(self.text(storage, "path", at, default="state/watcher.db"))
        poll, at = self.table(raw, "poll"), Where("poll")
        self.known(
            poll,
            {"interval", "max_backoff", "adaptive", "min_interval", "max_interval", "lease"},
            at,
        )
        default_interval = self.duration(poll, "interval", at, default="30m")
        max_backoff = self.duration(poll, "max_backoff", at, default="1d")
        min_interval = self.duration(poll, "min_interval", at, default="5m")
        max_interval = self.duration(poll, "max_interval", at, default="6h")
        if min_interval > max_interval:
            raise self.fail(at, "min_interval", "must not be longer than max_interval")
        fetch = self._fetch(self.table(raw, "fetch"))
        # A poll fetches its feed, then its pages, each within the timeout. A lease that runs
        # out mid-poll costs work done twice (a second process polls the feed too), never a
        # duplicate.
        lease = self.lease(
            poll, at, "10m", fetch.timeout, ", or polls still running would lose their feeds"
        )
        aliases = self._aliases(self.table(raw, "aliases"))
        terms = self._terms(raw, aliases)
        delivery = delivery_config(self, self.table(raw, "delivery"), fetch.timeout)
        return Config(
            path=self.path,
            db_path=db_path,
            db_url=db_url,
            feeds=self._feeds(raw, default_interval),
            terms=terms,
            aliases=aliases,
            channels=channel_configs(
                self, self.array(raw, "channels"), delivery, {term.name for term in terms}
            ),
            delivery=delivery,
            fetch=fetch,
            retention=self._retention(self.table(raw, "retention")),
            web=web_config(self, self.table(raw, "web")),
            default_interval=default_interval,
            max_backoff=max_backoff,
            adaptive=self.flag(poll, "adaptive", at, True),
            min_interval=min_interval,
            max_interval=max_interval,
            lease=lease,
        )

    def _database_url(self, storage: dict[str, Any], at: Where) -> str | None:
        """`[storage] url`, a PostgreSQL database; exactly one of it and `path` may be given."""
        if "url" not in storage:
            return None
        if "path" in storage:
            raise self.fail(at, "url", "give either path (SQLite) or url (PostgreSQL), not both")
        url = self.text(storage, "url", at)
        scheme, separator, _ = url.partition("://")
        if scheme.lower() not in POSTGRES_SCHEMES or not separator:
            found = f" (not {scheme}://)" if separator else ""  # the rest may hold a password
            raise self.fail(at, "url", f"must be a postgresql:// URL{found}")
        return url

    def _fetch(self, table: dict[str, Any]) -> FetchConfig:
        at = Where("fetch")
        self.known(table, {field.name for field in fields(FetchConfig)}, at)
        return FetchConfig(
            timeout=self.duration(table, "timeout", at, default="20s"),
            max_bytes=self.integer(table, "max_bytes", at, 10_000_000, 1024),
            max_redirects=self.integer(table, "max_redirects", at, 5, 0),
            concurrency=self.integer(table, "concurrency", at, 16, 1),
            per_host=self.integer(table, "per_host", at, 2, 1),
            allow_private_addresses=self.flag(table, "allow_private_addresses", at, False),
            user_agent=self.text(table, "user_agent", at, default=DEFAULT_USER_AGENT),
        )

    def _retention(self, table: dict[str, Any]) -> RetentionConfig:
        at = Where("retention")
        self.known(table, {field.name for field in fields(RetentionConfig)}, at)
        schedule = self.text(table, "schedule", at, default=RetentionConfig.schedule)
        try:
            CronTrigger.from_crontab(schedule, timezone="UTC")
        except ValueError as exc:
            raise self.fail(
                at, "schedule", f"{schedule!r} is not a cron expression ({exc})"
            ) from None
        return RetentionConfig(
            articles=self._kept(table, "articles", at, "180d"),
            polls=self._kept(table, "polls", at, "90d"),
            schedule=schedule,
        )

    def _kept(self, table: dict[str, Any], key: str, at: Where, default: str) -> float | None:
        """A retention period: a duration, or "forever"."""
        if table.get(key) == "forever":
            return None
        try:
            return self.duration(table, key, at, default=default)
        except ConfigError as exc:
            raise ConfigError(f'{exc}, or "forever"') from None

    def _feeds(self, raw: dict[str, Any], default_interval: float) -> tuple[FeedConfig, ...]:
        feeds: list[FeedConfig] = []
        for index, table in enumerate(self.array(raw, "feeds")):
            at = Where("feeds", index)
            self.known(table, {"name", "url", "interval", "enabled"}, at)
            name = self.text(table, "name", at)
            if any(feed.name == name for feed in feeds):
                raise self.fail(at, "name", f"duplicate feed name {name!r}")
            url = self.http_url(table, "url", at)
            interval = default_interval
            if "interval" in table:
                interval = self.duration(table, "interval", at)
            enabled = self.flag(table, "enabled", at, True)
            feeds.append(FeedConfig(name=name, url=url, interval=interval, enabled=enabled))
        return tuple(feeds)

    def _aliases(self, table: dict[str, Any]) -> dict[str, Node]:
        """`[aliases]`: named queries, `@name` in any query (they may name each other)."""
        at = Where("aliases")
        texts = {name: self.text(table, name, at) for name in table}
        try:
            return resolve_aliases(texts)
        except AliasError as exc:
            raise self.fail(at, exc.alias, f"alias @{exc.alias}: {exc}") from None

    def _terms(self, raw: dict[str, Any], aliases: Mapping[str, Node]) -> tuple[Term, ...]:
        terms: list[Term] = []
        for index, table in enumerate(self.array(raw, "terms")):
            at = Where("terms", index)
            self.known(table, {"name", "query"}, at)
            name = self.text(table, "name", at)
            if any(term.name == name for term in terms):
                raise self.fail(at, "name", f"duplicate term name {name!r}")
            query = self.text(table, "query", at)
            try:
                terms.append(compile_term(name, query, aliases))
            except QueryError as exc:
                raise self.fail(at, "query", f"term {name!r}: {exc}") from None
        return tuple(terms)
