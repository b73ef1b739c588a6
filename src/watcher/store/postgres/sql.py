"""What every PostgreSQL part shares: the connection type, placeholders for a list, stamps."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from watcher.store.schema import stamp

Connection = psycopg.Connection[tuple[Any, ...]]

__all__ = ["Connection", "among", "one", "stamp"]


def among(column: str, values: Sequence[object]) -> str:
    """ "column IN (%s, %s, %s)" with one placeholder per value (FALSE for none:
    PostgreSQL, unlike SQLite, refuses an empty IN list)."""
    if not values:
        return "FALSE"
    return f"{column} IN ({', '.join('%s' for _ in values)})"


def one(cursor: psycopg.Cursor[tuple[Any, ...]]) -> tuple[Any, ...]:
    """The one row an aggregate query gives (COUNT, MIN...)."""
    row = cursor.fetchone()
    assert row is not None, "an aggregate query gives a row"
    return row
