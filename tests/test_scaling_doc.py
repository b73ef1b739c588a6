"""docs/scaling.md followed as written: its ```sh commands, against a real PostgreSQL server.

The documented database URL and the layout's folders (/etc/watcher,
/var/lib/watcher) become the test's server and folders under tmp_path, and
`sudo -u watcher ` is dropped (the test's own user stands in for the
service's). The ```text blocks (PostgreSQL's own administration, systemctl)
need a database host and systemd and are not run.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, start_service, stop, wait_for, write_config

pytestmark = pytest.mark.slow

DOC = ROOT / "docs" / "scaling.md"
DOC_URL = "postgresql://watcher@db.example/watcher"


def shell_commands() -> list[str]:
    """The commands of every ```sh block, in document order."""
    blocks = re.findall(r"^```sh\n(.*?)^```", DOC.read_text(encoding="utf-8"), flags=re.S | re.M)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def as_here(command: str, root: Path, url: str) -> list[str]:
    """A documented command as this test runs it: its server, its folders, its user."""
    command = command.replace(DOC_URL, url).removeprefix("sudo -u watcher ")
    for place in ("/etc/watcher", "/var/lib/watcher"):
        command = command.replace(place, f"{root}{place}")
    words = command.split()
    assert words[0] == "watcher", f"not a watcher command: {command}"
    return [sys.executable, "-m", "watcher", *words[1:]]


def test_the_documented_commands_move_a_database_and_list_every_watcher_sharing_it(
    tmp_path: Path, polled: Path, fixture_site: object, postgres_url: str
) -> None:
    commands = shell_commands()
    assert [command.split()[4] for command in commands] == ["db", "--config"], commands
    (tmp_path / "var/lib/watcher").mkdir(parents=True)
    (tmp_path / "etc/watcher").mkdir(parents=True)
    shutil.copy(polled, tmp_path / "var/lib/watcher/watcher.db")
    base = fixture_site.base  # type: ignore[attr-defined]
    write_config(
        tmp_path / "etc/watcher",
        [("Coastline Daily", f"{base}/news.rss"), ("Eastern Ledger", f"{base}/world.atom")],
        storage=postgres_url,
    )
    copy, status = (as_here(command, tmp_path, postgres_url) for command in commands)

    copied = subprocess.run(copy, capture_output=True, text=True, timeout=120, check=False)
    assert copied.returncode == 0, copied.stderr
    services = [start_service(tmp_path / "etc/watcher/watcher.toml") for _ in range(2)]
    try:

        def shown() -> str:
            done = subprocess.run(status, capture_output=True, text=True, timeout=60, check=False)
            return done.stdout if "processes: 2" in done.stdout else ""

        assert wait_for(shown, timeout=60), "watcher status never listed two processes"
        listed = shown()
    finally:
        outputs = [stop(service) for service in services]
    for service, (code, output) in zip(services, outputs, strict=True):
        assert code == 0, output
        assert f"pid {service.pid}: beat at" in listed
    assert "hits:      " in listed and " 0 in all" not in listed  # the copied hits are there
