"""The tests' own PostgreSQL server (tests/pgserver.py): private, and never run as root."""

from __future__ import annotations

import os
import pwd

import psycopg
import pytest

from pgserver import PostgresServer


@pytest.mark.slow
def test_the_test_server_listens_on_its_socket_only_and_not_as_root(
    postgres_server: PostgresServer, postgres_url: str
) -> None:
    with psycopg.connect(postgres_url) as conn:
        listening = conn.execute("SHOW listen_addresses").fetchone()
        socket_dir = conn.execute("SHOW unix_socket_directories").fetchone()
    assert listening == ("",)  # no TCP port at all
    assert socket_dir == (str(postgres_server.folder),)
    owner = (postgres_server.data / "PG_VERSION").stat().st_uid
    if os.geteuid() == 0:
        assert owner == pwd.getpwnam("nobody").pw_uid
    else:
        assert owner == os.geteuid()


@pytest.mark.slow
def test_each_test_gets_a_database_of_its_own(
    postgres_server: PostgresServer, postgres_url: str
) -> None:
    other, name = postgres_server.create_database()
    try:
        assert other != postgres_url
        with psycopg.connect(postgres_url) as conn:
            conn.execute("CREATE TABLE mine (x int)")
        with psycopg.connect(other) as conn:
            found = conn.execute("SELECT to_regclass('mine')").fetchone()
        assert found == (None,)
    finally:
        postgres_server.drop_database(name)
