"""The parts' SQL is written once, in SQLite's style, and runs on both backends."""

from __future__ import annotations

from typing import Any

from watcher.store.postgres.sql import to_psycopg
from watcher.store.sql import among


def test_postgres_statements_take_psycopg_placeholders_and_keep_literals_and_casts() -> None:
    written = (
        "SELECT ?, :now, x::text, '50%', 'why?', ':not' FROM t WHERE y LIKE ? || '%' AND 1 % 2"
    )

    assert to_psycopg(written) == (
        "SELECT %s, %(now)s, x::text, '50%%', 'why?', ':not' FROM t"
        " WHERE y LIKE %s || '%%' AND 1 %% 2"
    )


def test_a_statement_with_placeholders_and_a_percent_sign_gives_the_same_rows_on_both(
    storage: Any,
) -> None:
    sql = storage.sql

    by_place = sql.execute("SELECT ? || '%', CAST(? AS TEXT) IS NULL", ["50", None]).fetchone()
    by_name = sql.execute("SELECT :word || '?', :word", {"word": "why"}).fetchone()

    assert (tuple(by_place), tuple(by_name)) == (("50%", True), ("why?", "why"))


def test_an_empty_list_matches_nothing_on_both(storage: Any) -> None:
    storage.sql.execute("INSERT INTO feeds (name, url) VALUES ('a', 'https://a.example/')")

    rows = storage.sql.execute(f"SELECT name FROM feeds WHERE {among('name', [])}").fetchall()
    some = storage.sql.execute(f"SELECT name FROM feeds WHERE {among('name', ['a'])}", ["a"])

    assert (rows, [tuple(row) for row in some]) == ([], [("a",)])
