"""Load and validate `watcher.toml` into typed settings.

Every mistake is reported as one `ConfigError` naming the file, the field and,
where the TOML text shows it, the line.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from watcher.errors import ConfigError, QueryError
from watcher.terms import Term, compile_term

ENV_CONFIG = "WATCHER_CONFIG"
DEFAULT_CONFIG = Path("config/watcher.toml")
DEFAULT_USER_AGENT = "watcher/0.1 (news monitor; +https://github.com/watcher-news/watcher)"

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

    def feed(self, name: str) -> FeedConfig:
        for feed in self.feeds:
            if feed.name == name:
                return feed
        raise ConfigError(f"{self.path}: no feed named {name!r}")


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


class _Validator:
    """Turns the raw TOML tables into `Config`, naming field and line on error."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()

    def fail(self, where: str, message: str, table: str = "", index: int = -1) -> ConfigError:
        line = self._line_of(where.rsplit(".", 1)[-1], table, index)
        at = f":{line}" if line else ""
        return ConfigError(f"{self.path}{at}: {where}: {message}")

    def _line_of(self, key: str, table: str, index: int) -> int | None:
        """Best-effort line of `key` inside the index-th [[table]] (or [table])."""
        start = 0
        if table:
            header = re.compile(rf"^\s*\[\[?\s*{re.escape(table)}\s*\]\]?\s*(#.*)?$")
            seen = -1
            for number, line in enumerate(self.lines):
                if header.match(line):
                    seen += 1
                    if seen == max(index, 0):
                        start = number
                        break
            else:
                return None
        key_line = re.compile(rf"^\s*{re.escape(key)}\s*=")
        for number in range(start, len(self.lines)):
            line = self.lines[number]
            if number > start and table and line.lstrip().startswith("["):
                break
            if key_line.match(line):
                return number + 1
        return start + 1 if table else None

    def config(self, raw: dict[str, Any]) -> Config:
        self._known(raw, {"storage", "fetch", "poll", "feeds", "terms"}, "")
        storage = self._table(raw, "storage")
        self._known(storage, {"path"}, "storage")
        db_path = Path(self._str(storage, "path", "storage", default="state/watcher.db"))
        poll = self._table(raw, "poll")
        self._known(poll, {"interval"}, "poll")
        default_interval = self._duration(poll, "interval", "poll", default="30m")
        fetch = self._fetch(self._table(raw, "fetch"))
        feeds = self._feeds(raw.get("feeds", []), default_interval)
        terms = self._terms(raw.get("terms", []))
        return Config(
            path=self.path,
            db_path=db_path,
            feeds=feeds,
            terms=terms,
            fetch=fetch,
            default_interval=default_interval,
        )

    def _known(self, table: dict[str, Any], allowed: set[str], where: str, index: int = -1) -> None:
        for key in table:
            if key not in allowed:
                prefix = f"{where}[{index}]" if index >= 0 else where
                name = f"{prefix}.{key}" if prefix else key
                expected = ", ".join(sorted(allowed))
                raise self.fail(name, f"unknown key (expected one of: {expected})", where, index)

    def _table(self, raw: dict[str, Any], name: str) -> dict[str, Any]:
        value = raw.get(name, {})
        if not isinstance(value, dict):
            raise self.fail(name, "must be a table like [" + name + "]")
        return value

    def _str(
        self,
        table: dict[str, Any],
        key: str,
        where: str,
        index: int = -1,
        default: str | None = None,
    ) -> str:
        value = table.get(key, default)
        label = f"{where}.{key}"
        if value is None:
            raise self.fail(label, "is required", where.split("[")[0], index)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(label, "must be a non-empty string", where.split("[")[0], index)
        return value.strip()

    def _int(self, table: dict[str, Any], key: str, where: str, default: int, low: int) -> int:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(f"{where}.{key}", "must be an integer", where)
        if value < low:
            raise self.fail(f"{where}.{key}", f"must be at least {low}", where)
        return value

    def _bool(
        self, table: dict[str, Any], key: str, where: str, default: bool, index: int = -1
    ) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(f"{where}.{key}", "must be true or false", where.split("[")[0], index)
        return value

    def _duration(
        self, table: dict[str, Any], key: str, where: str, default: str, index: int = -1
    ) -> float:
        text = self._str(table, key, where, index, default=default)
        try:
            return parse_duration(text)
        except ValueError as exc:
            raise self.fail(f"{where}.{key}", str(exc), where.split("[")[0], index) from None

    def _fetch(self, table: dict[str, Any]) -> FetchConfig:
        self._known(
            table,
            {
                "timeout",
                "max_bytes",
                "max_redirects",
                "concurrency",
                "per_host",
                "allow_private_addresses",
                "user_agent",
            },
            "fetch",
        )
        return FetchConfig(
            timeout=self._duration(table, "timeout", "fetch", default="20s"),
            max_bytes=self._int(table, "max_bytes", "fetch", 10_000_000, 1024),
            max_redirects=self._int(table, "max_redirects", "fetch", 5, 0),
            concurrency=self._int(table, "concurrency", "fetch", 16, 1),
            per_host=self._int(table, "per_host", "fetch", 2, 1),
            allow_private_addresses=self._bool(table, "allow_private_addresses", "fetch", False),
            user_agent=self._str(table, "user_agent", "fetch", default=DEFAULT_USER_AGENT),
        )

    def _array(self, value: Any, name: str) -> list[dict[str, Any]]:
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise self.fail(name, f"must be an array of tables like [[{name}]]")
        return value

    def _feeds(self, value: Any, default_interval: float) -> tuple[FeedConfig, ...]:
        feeds: list[FeedConfig] = []
        seen: set[str] = set()
        for index, table in enumerate(self._array(value, "feeds")):
            where = f"feeds[{index}]"
            self._known(table, {"name", "url", "interval", "enabled"}, "feeds", index)
            name = self._str(table, "name", where, index)
            if name in seen:
                raise self.fail(f"{where}.name", f"duplicate feed name {name!r}", "feeds", index)
            seen.add(name)
            url = self._str(table, "url", where, index)
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise self.fail(f"{where}.url", f"{url!r} is not an http(s) URL", "feeds", index)
            interval = default_interval
            if "interval" in table:
                interval = self._duration(table, "interval", where, default="", index=index)
            enabled = self._bool(table, "enabled", where, True, index)
            feeds.append(FeedConfig(name=name, url=url, interval=interval, enabled=enabled))
        return tuple(feeds)

    def _terms(self, value: Any) -> tuple[Term, ...]:
        terms: list[Term] = []
        seen: set[str] = set()
        for index, table in enumerate(self._array(value, "terms")):
            where = f"terms[{index}]"
            self._known(table, {"name", "query"}, "terms", index)
            name = self._str(table, "name", where, index)
            if name in seen:
                raise self.fail(f"{where}.name", f"duplicate term name {name!r}", "terms", index)
            seen.add(name)
            query = self._str(table, "query", where, index)
            try:
                terms.append(compile_term(name, query))
            except QueryError as exc:
                raise self.fail(f"{where}.query", f"term {name!r}: {exc}", "terms", index) from None
        return tuple(terms)
