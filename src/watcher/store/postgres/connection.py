"""Opening a PostgreSQL database from a `postgresql://` URL, errors as one line."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg.types.string import StrDumperUnknown

from watcher.errors import StoreError

CONNECT_TIMEOUT = 10  # seconds: an unreachable host fails in that time, not the OS's minutes


def shown(url: str) -> str:
    """The URL as messages may show it: without its password."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        host = parts.netloc.rpartition("@")[2]
        user = parts.username or ""
        return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
    except ValueError:  # malformed (a bad port, an open [): without what stands before an @
        scheme, _, rest = url.partition("://")
        return f"{scheme}://{rest.rpartition('@')[2]}"


def describe(exc: psycopg.Error) -> str:
    """psycopg's message as one line: libpq's come over several, with hints after the first."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


# PostgreSQL's text cannot hold NUL, which SQLite's can (a JSON feed's "\u0000"): it is
# written as the replacement character, as a decoder writes what it cannot represent.
NUL, REPLACEMENT = "\x00", "\ufffd"


class TextWithoutNul(StrDumperUnknown):
    """Strings as psycopg sends them, each NUL as U+FFFD: one in an error message must not
    fail the write it is part of. (The feed reader drops NULs from what it parses; `db
    copy` counts those it replaces.)"""

    def dump(self, obj: str) -> bytes:
        return super().dump(obj.replace(NUL, REPLACEMENT))  # type: ignore[return-value]


def connect(url: str, *, autocommit: bool = False) -> psycopg.Connection[tuple[object, ...]]:
    """A connection to the database at `url`; `StoreError` naming it when there is none."""
    try:
        conn = psycopg.connect(url, autocommit=autocommit, connect_timeout=CONNECT_TIMEOUT)
    except psycopg.Error as exc:
        problem = describe(exc).replace(url, shown(url))  # libpq may quote the URL whole
        raise StoreError(f"{shown(url)}: cannot connect: {problem}") from None
    conn.adapters.register_dumper(str, TextWithoutNul)
    return conn
