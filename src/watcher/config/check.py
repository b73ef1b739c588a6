"""Reading TOML tables with errors that name the file, the line and the field.

`Checker` holds the config text so that a message can say where a mistake is:
"watcher.toml:31: feeds[3].interval: ...". config.py and channels.py build
their settings with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from watcher.errors import ConfigError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
# The longest duration anything takes: "now" plus or minus it stays a date Python can hold.
LONGEST = 100 * 365 * 86400


def parse_duration(text: str) -> float:
    """Seconds in a duration such as "90s", "15m", "6h", "7d" or "2w"."""
    found = _DURATION.match(text)
    if not found:
        raise ValueError(f"{text!r} is not a duration like 90s, 15m, 6h or 7d")
    seconds = float(found.group(1)) * _UNITS[found.group(2)]
    if seconds <= 0:
        raise ValueError(f"{text!r} must be longer than zero")
    if seconds > LONGEST:
        raise ValueError(f"{text!r} is longer than 100 years")
    return seconds


@dataclass(frozen=True)
class Where:
    """A place in the config: a table, or the index-th table of an array of tables."""

    table: str = ""  # "" is the top level
    index: int | None = None

    def field(self, key: str) -> str:
        """The name a message uses for `key` here, such as "feeds[2].interval"."""
        prefix = self.table if self.index is None else f"{self.table}[{self.index}]"
        return f"{prefix}.{key}" if prefix else key


TOP = Where()


class Checker:
    """Reads values out of raw TOML tables, naming field and line on error."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()

    def beside(self, path: str) -> Path:
        """A path from the file, absolute; a relative one is taken from the file's own folder.

        So the CLI run from any folder and the service in its working directory
        open the same files (issue 15, item 5).
        """
        return (self.path.absolute().parent / path).resolve()

    def fail(self, where: Where, key: str, message: str) -> ConfigError:
        line = self.line_of(where, key)
        at = f":{line}" if line else ""
        return ConfigError(f"{self.path}{at}: {where.field(key)}: {message}")

    def line_of(self, where: Where, key: str) -> int | None:
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

    def known(self, table: dict[str, Any], allowed: set[str], where: Where) -> None:
        for key in table:
            if key not in allowed:
                expected = ", ".join(sorted(allowed))
                raise self.fail(where, key, f"unknown key (expected one of: {expected})")

    def table(self, raw: dict[str, Any], name: str) -> dict[str, Any]:
        value = raw.get(name, {})
        if not isinstance(value, dict):
            raise self.fail(TOP, name, f"must be a table like [{name}]")
        return value

    def array(self, raw: dict[str, Any], name: str) -> list[dict[str, Any]]:
        value = raw.get(name, [])
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise self.fail(TOP, name, f"must be an array of tables like [[{name}]]")
        return value

    def text(
        self, table: dict[str, Any], key: str, where: Where, default: str | None = None
    ) -> str:
        value = table.get(key, default)
        if value is None:
            raise self.fail(where, key, "is required")
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, key, "must be a non-empty string")
        if "\x00" in value:  # no path, URL, header or name can hold one
            raise self.fail(where, key, "must not contain a NUL character")
        return value.strip()

    def http_url(self, table: dict[str, Any], key: str, where: Where) -> str:
        """An absolute http(s) URL with a host (feeds, webhooks)."""
        url = self.text(table, key, where)
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 (reading it checks the port: "http://h:x/" raises)
        except ValueError as exc:
            raise self.fail(where, key, f"{url!r} is not a valid URL: {exc}") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise self.fail(where, key, f"{url!r} is not an http(s) URL")
        return url

    def integer(self, table: dict[str, Any], key: str, where: Where, default: int, low: int) -> int:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(where, key, "must be an integer")
        if value < low:
            raise self.fail(where, key, f"must be at least {low}")
        return value

    def flag(self, table: dict[str, Any], key: str, where: Where, default: bool) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(where, key, "must be true or false")
        return value

    def duration(
        self, table: dict[str, Any], key: str, where: Where, default: str | None = None
    ) -> float:
        text = self.text(table, key, where, default=default)
        try:
            return parse_duration(text)
        except ValueError as exc:
            raise self.fail(where, key, str(exc)) from None

    def lease(
        self, table: dict[str, Any], where: Where, default: str, timeout: float, risk: str = ""
    ) -> float:
        """A `lease` (how long a claim stays its process's when several share a database): no
        shorter than twice [fetch] `timeout`; `risk` says what a shorter one would cost."""
        lease = self.duration(table, "lease", where, default=default)
        if lease < 2 * timeout:
            raise self.fail(
                where, "lease", f"must be at least twice [fetch] timeout ({2 * timeout:g}s){risk}"
            )
        return lease

    def timezone(self, table: dict[str, Any], key: str, where: Where, default: str) -> str:
        name = self.text(table, key, where, default=default)
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise self.fail(
                where, key, f"unknown time zone {name!r} (like UTC or Asia/Tokyo)"
            ) from None
        return name

    def texts(
        self, table: dict[str, Any], key: str, where: Where, required: bool = True
    ) -> tuple[str, ...]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(
            isinstance(item, str) and item.strip() for item in value
        ):
            raise self.fail(where, key, "must be a list of non-empty strings")
        if required and not value:
            raise self.fail(where, key, "is required (a list with at least one entry)")
        return tuple(item.strip() for item in value)
