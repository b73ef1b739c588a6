"""Choosing the backend from where the database is: a path or a PostgreSQL URL."""

from __future__ import annotations

from pathlib import Path

from watcher.store import Store, open_storage
from watcher.store.backends import is_url


def test_a_path_opens_the_sqlite_store(tmp_path: Path) -> None:
    with open_storage(tmp_path / "w.db") as store:
        assert isinstance(store, Store)
        assert store.location == str(tmp_path / "w.db")


def test_only_postgresql_urls_name_a_postgresql_database() -> None:
    assert is_url("postgresql://watcher@db/watcher")
    assert is_url("POSTGRES://db/watcher")
    assert not is_url("state/watcher.db")
    assert not is_url(Path("postgresql://db"))  # a Path is always a file
    assert not is_url("sqlite://x.db")
