"""Load and validate `watcher.toml` into typed settings.

Every mistake is reported as one `ConfigError` naming the file, the field and,
where the TOML text shows it, the line.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from watcher.errors import ConfigError, QueryError
from watcher.terms import Term, compile_term

ENV_CONFIG = "WATCHER_CONFIG"
DEFAULT_CONFIG = Path("config/watcher.toml")
# Publishers see this; [fetch] user_agent should add a contact (a URL or mailto:).
DEFAULT_USER_AGENT = "watcher/0.1 (news-monitoring agent; feed and article fetcher)"

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> float:
    """Seconds in a duration such as "90s", "15m", "6h", "7d" or "2w"."""
    found = _DURATION.match(text)
    if not found:
        raise ValueError(f"{text!r} is not a duration like 90s, 15m, 6h or 7d")
    seconds = float(found.group(1)) * _UNITS[found.group(2)]
    if seconds <= 0:
        raise ValueError(f"{text!r} must be longer than zero")
    return seconds


@dataclass(frozen=True)
class FeedConfig:
    name: str
    url: str
    interval: float  # seconds
    enabled: bool = True


@dataclass(frozen=True)
class FetchConfig:
    timeout: float = 20.0
    max_bytes: int = 10_000_000
    max_redirects: int = 5
    concurrency: int = 16
    per_host: int = 2
    allow_private_addresses: bool = False
    user_agent: str = DEFAULT_USER_AGENT


@dataclass(frozen=True)
class Config:
    path: Path
    db_path: Path
    feeds: tuple[FeedConfig, ...]
    terms: tuple[Term, ...]
    fetch: FetchConfig = field(default_factory=FetchConfig)
    default_interval: float = 1800.0
    max_backoff: float = 86400.0  # a failing feed is retried at least this often
    adaptive: bool = True  # follow each feed's publishing rate between the bounds below
    min_interval: float = 300.0
    max_interval: float = 21600.0

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
    return _Validator(path, text).config(raw)


@dataclass(frozen=True)
class _Where:
    """A place in the config: a table, or the index-th table of an array of tables."""

    table: str = ""  # "" is the top level
    index: int | None = None

    def field(self, key: str) -> str:
        """The name a message uses for `key` here, such as "feeds[2].interval"."""
        prefix = self.table if self.index is None else f"{self.table}[{self.index}]"
        return f"{prefix}.{key}" if prefix else key


_TOP = _Where()


class _Validator:
    """Turns the raw TOML tables into `Config`, naming field and line on error."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()

    def fail(self, where: _Where, key: str, message: str) -> ConfigError:
        line = self._line_of(where, key)
        at = f":{line}" if line else ""
        return ConfigError(f"{self.path}{at}: {where.field(key)}: {message}")

    def _line_of(self, where: _Where, key: str) -> int | None:
        """Best-effort line of `key` in its table, found in the TOML text."""
        start = 0
        if where.table:
            header = re.compile(rf"^\s*\[\[?\s*{re.escape(where.table)}\s*\]\]?\s*(#.*)?$")
            headers = [number for number, line in enumerate(self.lines) if header.match(line)]
            position = where.index or 0
            if position >= len(headers):
                return None
            start = headers[position]
        key_line = re.compile(rf"^\s*{re.escape(key)}\s*=")
        for number in range(start, len(self.lines)):
            line = self.lines[number]
            if number > start and where.table and line.lstrip().startswith("["):
                break
            if key_line.match(line):
                return number + 1
        return start + 1 if where.table else None

    def config(self, raw: dict[str, Any]) -> Config:
        self._known(raw, {"storage", "fetch", "poll", "feeds", "terms"}, _TOP)
        storage, at = self._table(raw, "storage"), _Where("storage")
        self._known(storage, {"path"}, at)
        db_path = Path(self._str(storage, "path", at, default="state/watcher.db"))
        poll, at = self._table(raw, "poll"), _Where("poll")
        self._known(
            poll, {"interval", "max_backoff", "adaptive", "min_interval", "max_interval"}, at
        )
        default_interval = self._duration(poll, "interval", at, default="30m")
        max_backoff = self._duration(poll, "max_backoff", at, default="1d")
        min_interval = self._duration(poll, "min_interval", at, default="5m")
        max_interval = self._duration(poll, "max_interval", at, default="6h")
        if min_interval > max_interval:
            raise self.fail(at, "min_interval", "must not be longer than max_interval")
        return Config(
            path=self.path,
            db_path=db_path,
            feeds=self._feeds(raw, default_interval),
            terms=self._terms(raw),
            fetch=self._fetch(self._table(raw, "fetch")),
            default_interval=default_interval,
            max_backoff=max_backoff,
            adaptive=self._bool(poll, "adaptive", at, True),
            min_interval=min_interval,
            max_interval=max_interval,
        )

    def _known(self, table: dict[str, Any], allowed: set[str], where: _Where) -> None:
        for key in table:
            if key not in allowed:
                expected = ", ".join(sorted(allowed))
                raise self.fail(where, key, f"unknown key (expected one of: {expected})")

    def _table(self, raw: dict[str, Any], name: str) -> dict[str, Any]:
        value = raw.get(name, {})
        if not isinstance(value, dict):
            raise self.fail(_TOP, name, f"must be a table like [{name}]")
        return value

    def _array(self, raw: dict[str, Any], name: str) -> list[dict[str, Any]]:
        value = raw.get(name, [])
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise self.fail(_TOP, name, f"must be an array of tables like [[{name}]]")
        return value

    def _str(
        self, table: dict[str, Any], key: str, where: _Where, default: str | None = None
    ) -> str:
        value = table.get(key, default)
        if value is None:
            raise self.fail(where, key, "is required")
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, key, "must be a non-empty string")
        return value.strip()

    def _int(self, table: dict[str, Any], key: str, where: _Where, default: int, low: int) -> int:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(where, key, "must be an integer")
        if value < low:
            raise self.fail(where, key, f"must be at least {low}")
        return value

    def _bool(self, table: dict[str, Any], key: str, where: _Where, default: bool) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(where, key, "must be true or false")
        return value

    def _duration(
        self, table: dict[str, Any], key: str, where: _Where, default: str | None = None
    ) -> float:
        text = self._str(table, key, where, default=default)
        try:
            return parse_duration(text)
        except ValueError as exc:
            raise self.fail(where, key, str(exc)) from None

    def _fetch(self, table: dict[str, Any]) -> FetchConfig:
        at = _Where("fetch")
        self._known(table, {field.name for field in fields(FetchConfig)}, at)
        return FetchConfig(
            timeout=self._duration(table, "timeout", at, default="20s"),
            max_bytes=self._int(table, "max_bytes", at, 10_000_000, 1024),
            max_redirects=self._int(table, "max_redirects", at, 5, 0),
            concurrency=self._int(table, "concurrency", at, 16, 1),
            per_host=self._int(table, "per_host", at, 2, 1),
            allow_private_addresses=self._bool(table, "allow_private_addresses", at, False),
            user_agent=self._str(table, "user_agent", at, default=DEFAULT_USER_AGENT),
        )

    def _feeds(self, raw: dict[str, Any], default_interval: float) -> tuple[FeedConfig, ...]:
        feeds: list[FeedConfig] = []
        for index, table in enumerate(self._array(raw, "feeds")):
            at = _Where("feeds", index)
            self._known(table, {"name", "url", "interval", "enabled"}, at)
            name = self._str(table, "name", at)
            if any(feed.name == name for feed in feeds):
                raise self.fail(at, "name", f"duplicate feed name {name!r}")
            url = self._str(table, "url", at)
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise self.fail(at, "url", f"{url!r} is not an http(s) URL")
            interval = default_interval
            if "interval" in table:
                interval = self._duration(table, "interval", at)
            enabled = self._bool(table, "enabled", at, True)
            feeds.append(FeedConfig(name=name, url=url, interval=interval, enabled=enabled))
        return tuple(feeds)

    def _terms(self, raw: dict[str, Any]) -> tuple[Term, ...]:
        terms: list[Term] = []
        for index, table in enumerate(self._array(raw, "terms")):
            at = _Where("terms", index)
            self._known(table, {"name", "query"}, at)
            name = self._str(table, "name", at)
            if any(term.name == name for term in terms):
                raise self.fail(at, "name", f"duplicate term name {name!r}")
            query = self._str(table, "query", at)
            try:
                terms.append(compile_term(name, query))
            except QueryError as exc:
                raise self.fail(at, "query", f"term {name!r}: {exc}") from None
        return tuple(terms)
