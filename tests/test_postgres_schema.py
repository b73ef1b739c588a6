"""The PostgreSQL schema is SQLite's twin: one version number, the same tables and columns."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from sqlite_utils import Database

from watcher.errors import StoreError
from watcher.store.postgres import schema as pg_schema
from watcher.store.postgres.connection import connect
from watcher.store.schema import migrations

NOW = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)
# SQLite's declared types and the PostgreSQL types that hold the same values.
TYPES = {"INTEGER": {"bigint"}, "TEXT": {"text"}, "REAL": {"double precision"}}


def sqlite_tables(path: Path) -> dict[str, list[tuple[str, str, bool]]]:
    """Each table of a freshly migrated SQLite database: (column, type, not null), in order.

    Left out: SQLite's own tables, its record of migrations, and the full-text index
    (virtual tables and their shadow tables), which PostgreSQL replaces with its own.
    """
    db = Database(path)
    migrations.apply(db)
    rows = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall()
    virtual = [name for name, sql in rows if sql.upper().startswith("CREATE VIRTUAL TABLE")]
    tables = {}
    for name, _ in rows:
        if name.startswith(("sqlite_", "_sqlite_")) or any(
            name == table or name.startswith(f"{table}_") for table in virtual
        ):
            continue
        info = db.execute(f"PRAGMA table_info({name})").fetchall()
        # An INTEGER PRIMARY KEY is never null (it is the rowid), whatever the pragma says.
        tables[name] = [
            (column, kind, bool(notnull or pk)) for _, column, kind, notnull, _, pk in info
        ]
    db.close()
    return tables


def postgres_tables(url: str) -> dict[str, list[tuple[str, str, bool]]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            """
            SELECT table_name, column_name, data_type, is_nullable = 'NO'
            FROM information_schema.columns WHERE table_schema = current_schema()
            ORDER BY table_name, ordinal_position
            """
        ).fetchall()
    tables: dict[str, list[tuple[str, str, bool]]] = {}
    for table, column, kind, notnull in rows:
        if table != pg_schema.RECORD:
            tables.setdefault(table, []).append((column, kind, notnull))
    return tables


def test_every_sqlite_migration_has_a_postgres_twin_of_the_same_name_in_order() -> None:
    sqlite_names = [migration.name for migration in migrations._migrations]
    postgres_names = [migration.name for migration in pg_schema.MIGRATIONS]
    missing = sqlite_names[len(postgres_names) :]
    assert not missing, f"store/schema.py's {missing} need twins in store/postgres/schema.py"
    assert postgres_names == sqlite_names


@pytest.mark.slow
def test_every_sqlite_table_has_a_postgres_table_with_the_same_columns(
    tmp_path: Path, postgres_url: str
) -> None:
    with connect(postgres_url) as conn:
        assert pg_schema.migrate(conn, "test", NOW) == [m.name for m in pg_schema.MIGRATIONS]
    on_sqlite = sqlite_tables(tmp_path / "watcher.db")
    on_postgres = postgres_tables(postgres_url)

    # Each has its own search index: SQLite's articles_fts (left out above), PostgreSQL's words.
    assert on_postgres.pop("article_words") == [
        ("word", "text", True),
        ("article_id", "bigint", True),
    ]
    assert sorted(on_postgres) == sorted(on_sqlite)
    assert "articles_fts" not in on_postgres
    for table, columns in on_sqlite.items():
        names = [(column, notnull) for column, _, notnull in columns]
        assert [(column, notnull) for column, _, notnull in on_postgres[table]] == names, table
        for (column, sqlite_type, _), (_, postgres_type, _) in zip(
            columns, on_postgres[table], strict=True
        ):
            assert postgres_type in TYPES[sqlite_type], f"{table}.{column}"


@pytest.mark.slow
def test_every_postgres_text_column_sorts_by_bytes_as_sqlite_does(postgres_url: str) -> None:
    with connect(postgres_url) as conn:
        pg_schema.migrate(conn, "test", NOW)
        other = conn.execute(
            """
            SELECT table_name || '.' || column_name FROM information_schema.columns
            WHERE table_schema = current_schema() AND data_type = 'text'
                AND collation_name IS DISTINCT FROM 'C'
            """
        ).fetchall()
        conn.execute("INSERT INTO channels (name, first_seen_at) VALUES ('b', 'x'), ('B', 'x')")
        conn.execute("INSERT INTO channels (name, first_seen_at) VALUES ('é', 'x'), ('f', 'x')")
        order = [name for (name,) in conn.execute("SELECT name FROM channels ORDER BY name")]
    assert other == []
    assert order == ["B", "b", "f", "é"]


@pytest.mark.slow
def test_a_migrated_postgres_database_is_migrated_again_with_nothing(postgres_url: str) -> None:
    with connect(postgres_url) as conn:
        pg_schema.migrate(conn, "test", NOW)
        assert pg_schema.migrate(conn, "test", NOW) == []
        assert pg_schema.applied(conn) == [m.name for m in pg_schema.MIGRATIONS]


@pytest.mark.slow
def test_a_postgres_database_a_newer_watcher_migrated_is_refused(postgres_url: str) -> None:
    with connect(postgres_url) as conn:
        pg_schema.migrate(conn, "test", NOW)
        conn.execute(
            f"INSERT INTO {pg_schema.RECORD} VALUES ('m999_from_the_future', '2027-01-01')"
        )
        conn.commit()
        with pytest.raises(StoreError, match=r"schema version \d+ \(m999_from_the_future\), newer"):
            pg_schema.migrate(conn, "db.example", NOW)
