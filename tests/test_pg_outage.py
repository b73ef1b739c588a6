"""The PostgreSQL server going away under a running service: the service outlives it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import Site, start_service, stop, wait_for, write_config
from pgserver import PostgresServer
from watcher.store import open_storage

pytestmark = pytest.mark.slow


def live_feed(site: Site, *titles: str) -> None:
    items = [
        {
            "id": f"live-{number}",
            "url": f"{site.base}/live-{number}.html",
            "title": title,
            "content_text": f"{title}: the Indian Navy takes the stealth mast from Japan.",
        }
        for number, title in enumerate(titles, 1)
    ]
    feed = {"version": "https://jsonfeed.org/version/1.1", "title": "Live", "items": items}
    site.put("/live.json", json.dumps(feed), "application/feed+json")


def test_a_database_outage_stops_no_service_and_what_came_meanwhile_is_stored_after(
    site: Site, tmp_path: Path, own_postgres_server: PostgresServer
) -> None:
    server = own_postgres_server
    url, _ = server.create_database()
    live_feed(site, "First UNICORN antenna fitted")
    config = write_config(
        tmp_path, [("Live", f"{site.base}/live.json")], interval="1s", storage=url
    )

    def titles() -> set[str]:
        with open_storage(url) as store:
            return {hit.title for hit in store.archive.hits()}

    service = start_service(config)
    try:
        assert wait_for(lambda: titles() == {"First UNICORN antenna fitted"}, timeout=40)
        server.stop()
        live_feed(site, "First UNICORN antenna fitted", "Second UNICORN antenna fitted")
        site.clear_log()
        outage = wait_for(lambda: service.poll() is not None, timeout=8)
        server.resume()
        caught_up = wait_for(lambda: len(titles()) == 2, timeout=40)
    finally:
        code, output = stop(service)

    assert not outage, output
    assert caught_up, output
    assert code == 0, output
    assert "Traceback" not in output, output
    with open_storage(url) as store:
        assert (store.count("articles"), store.count("hits")) == (2, 2), output
