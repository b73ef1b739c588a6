"""`watcher run` with `[web] enabled`: the desk served from the service's own process,
and `watcher web` beside a running service; on SQLite and on PostgreSQL."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import (
    Mailbox,
    Site,
    email_channel,
    free_port,
    stop,
    wait_for,
    write_config,
)
from watcher.errors import StoreError
from watcher.store import open_storage
from watcher.store.backends import is_url
from web_farm import fill, postgres_template

pytestmark = pytest.mark.slow


def start(config: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "watcher", "--config", str(config), "run"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def served_config(tmp_path: Path, site: Site, port: int, storage: str | None = None) -> Path:
    return write_config(
        tmp_path,
        [
            ("Coastline Daily", f"{site.base}/news.rss"),
            ("Harbour Wire", f"{site.base}/briefs.json"),
        ],
        interval="2s",
        extra=f'[web]\nenabled = true\nlisten = "127.0.0.1:{port}"\n',
        storage=storage,
    )


def hit_count(where: Path | str) -> int:
    """Hits stored so far in the database at `where` (a file or a URL); 0 before it exists."""
    if not is_url(where) and not Path(where).is_file():
        return 0
    try:
        with open_storage(where, readonly=True) as store:
            return store.count("hits")
    except StoreError:
        return 0


def test_run_serves_the_desk_and_keeps_polling_while_it_is_read(
    fixture_site: Site, tmp_path: Path, storage_at: str
) -> None:
    port = free_port()
    log = tmp_path / "service.log"
    process = start(served_config(tmp_path, fixture_site, port, storage_at), log)
    try:
        started = wait_for(lambda: "web desk at" in log.read_text(), timeout=30)
        stored = wait_for(lambda: hit_count(storage_at) == 4, timeout=30)
        fixture_site.clear_log()
        pages = []
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            for _ in range(10):  # the desk busy reading while polls go on
                pages.append(client.get("/"))
                pages.append(client.get("/health"))
        repolled = wait_for(lambda: ("/briefs.json", 304) in fixture_site.requests(), timeout=15)
    finally:
        code, _ = stop(process)
    output = log.read_text()

    assert started and stored and repolled, output
    assert f"web desk at http://127.0.0.1:{port}/" in output
    assert all(page.status_code == 200 for page in pages)
    assert len(re.findall(r'<h2><a href="/hits/', pages[0].text)) == 4  # a2/a5 one story
    assert "running for" in pages[1].text
    assert code == 0 and "stopped" in output, output


def test_run_without_its_port_polls_on_and_says_why_there_is_no_desk(
    fixture_site: Site, tmp_path: Path
) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    log = tmp_path / "service.log"
    try:
        process = start(served_config(tmp_path, fixture_site, port), log)
        try:
            stored = wait_for(lambda: hit_count(tmp_path / "watcher.db") == 4, timeout=30)
        finally:
            code, _ = stop(process)
    finally:
        taken.close()
    output = log.read_text()

    assert stored and code == 0, output
    assert f"web desk: cannot listen on 127.0.0.1:{port}: Address already in use" in output
    assert "the service runs without the desk" in output


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.slow)])
def test_retry_on_a_separate_desk_wakes_the_running_service_which_sends_the_digest(
    tmp_path: Path, mailbox: Mailbox, backend: str, request: pytest.FixtureRequest
) -> None:
    """`watcher web` beside `watcher run`: the desk's retry button reaches the service's
    sender (SIGHUP), which was asleep with nothing pending."""
    (tmp_path / "farm").mkdir()
    _, farm = fill(tmp_path / "farm")
    where = str(tmp_path / "watcher.db")
    if backend == "sqlite":
        shutil.copy(farm, where)
    else:
        server: Any = request.getfixturevalue("postgres_server")
        name = postgres_template(server, farm)
        request.addfinalizer(lambda: server.drop_database(name))
        where = server.url(name)
    config = write_config(
        tmp_path,
        [("Coastline Daily", "http://127.0.0.1:9/feed.rss")],  # polls fail: no new hits
        interval="1h",
        storage=where,
    )
    with config.open("a") as file:
        file.write("\n" + email_channel(mailbox, schedule='"0 7 * * *"'))
    with open_storage(where) as store:
        digest = store.outbox.create(
            "desk", datetime.now(UTC), since=datetime(2000, 1, 1, tzinfo=UTC)
        )
        assert digest is not None
        store.outbox.mark_failed_attempt(digest, "550 mailbox unavailable", None)
    log = tmp_path / "service.log"
    service = start(config, log)
    port = free_port()
    desk = subprocess.Popen(
        [sys.executable, "-m", "watcher", "--config", str(config), "web", "--listen",
         f"127.0.0.1:{port}"],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert desk.stderr is not None and "web desk at" in desk.stderr.readline()
        assert wait_for(lambda: "watching 1 feeds" in log.read_text(), timeout=30)
        time.sleep(1)  # the sender has looked at the outbox and sleeps: nothing pending
        assert mailbox.messages == []
        address = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=address, timeout=30, follow_redirects=True) as client:
            page = client.get("/health")
            token = re.search(r'name="csrf" value="([^"]+)"', page.text)
            assert token, page.text
            retried = client.post("/health/retry", data={"csrf": token.group(1)})
        sent = wait_for(lambda: len(mailbox.messages) == 1, timeout=30)
    finally:
        desk.terminate()
        desk.wait(timeout=20)
        code, _ = stop(service)
    output = log.read_text()

    assert retried.status_code == 200 and "given a new round of attempts" in retried.text
    assert sent, output
    assert "reloaded" in output
    assert code == 0


def test_watcher_web_on_a_taken_port_or_a_bad_address_is_a_one_line_error(
    tmp_path: Path,
) -> None:
    from click.testing import CliRunner

    from watcher.cli import cli

    config = write_config(tmp_path, [])
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        busy = CliRunner().invoke(
            cli, ["--config", str(config), "web", "--listen", f"127.0.0.1:{port}"]
        )
    finally:
        taken.close()
    bad = CliRunner().invoke(cli, ["--config", str(config), "web", "--listen", "8580"])
    open_to_all = CliRunner().invoke(
        cli, ["--config", str(config), "web", "--listen", "0.0.0.0:8580"]
    )

    assert busy.exit_code == 1
    assert busy.output == (
        f"error: web desk: cannot listen on 127.0.0.1:{port}: Address already in use\n"
    )
    assert bad.exit_code == 2 and "--listen '8580' is not host:port" in bad.output
    assert open_to_all.exit_code == 2 and "set [web] password_hash" in open_to_all.output
