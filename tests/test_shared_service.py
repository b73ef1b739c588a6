"""Several `watcher run` processes sharing one PostgreSQL database (issue 20)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import Site, start_service, stop, wait_for, write_config
from watcher.cli import cli
from watcher.store import open_storage

pytestmark = pytest.mark.slow


def test_two_services_on_one_database_store_each_hit_once_and_both_show_in_status(
    fixture_site: Site, tmp_path: Path, postgres_url: str
) -> None:
    config = write_config(
        tmp_path,
        [
            ("Coastline Daily", f"{fixture_site.base}/news.rss"),
            ("Harbour Wire", f"{fixture_site.base}/briefs.json"),
            ("Eastern Ledger", f"{fixture_site.base}/world.atom"),
        ],
        interval="2s",
    )
    text = config.read_text()
    config.write_text(
        text.replace(f'path = "{tmp_path / "watcher.db"}"', f'url = "{postgres_url}"')
    )
    with open_storage(postgres_url) as store:  # migrated once, before both start
        store.feeds.sync([])

    def hits() -> int:
        with open_storage(postgres_url) as store:
            return store.count("hits")

    processes = [start_service(config), start_service(config)]
    try:
        stored = wait_for(lambda: hits() == 5, timeout=40)
        result = CliRunner().invoke(
            cli, ["--config", str(config), "status"], catch_exceptions=False
        )
        polled_again = wait_for(lambda: ("/briefs.json", 304) in fixture_site.requests(), 20)
    finally:
        outputs = [stop(process)[1] for process in processes]

    assert stored, outputs
    assert polled_again, outputs
    assert hits() == 5  # the fixture site's five hits, each stored once
    assert "processes: 2" in result.output, result.output
    with open_storage(postgres_url) as store:
        assert store.count("articles") == 9
        polls = store.db.execute(  # type: ignore[attr-defined]
            "SELECT feed, started_at, finished_at FROM polls ORDER BY feed, started_at"
        ).fetchall()
    # A feed is in one process's hands at a time: its polls never overlap.
    for before, after in itertools.pairwise(polls):
        if before[0] == after[0]:
            assert after[1] >= before[2], (before, after)
    assert len({feed for feed, _, _ in polls}) == 3
    assert all("Traceback" not in output for output in outputs), outputs
