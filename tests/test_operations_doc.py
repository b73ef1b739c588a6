"""docs/operations.md followed as written: its shell blocks, run against the layout it documents.

Every ```sh block runs in order, from this checkout, under a temporary root:
/opt/watcher, /etc/watcher, /var/lib/watcher, /var/backups, /usr/local/bin and
/etc/systemd/system become folders under it. `sudo` runs a command as root
(the test's user), `sudo -u watcher` as `nobody`, standing in for the
service's system user, which `useradd` would add to this machine and is not
run. systemctl, journalctl and systemd-run need systemd as PID 1; the unit
itself is checked by test_systemd_unit.py, and started here as its
Environment= and ExecStart= say, to show that the documented CLI commands see
the service's database.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import tomlkit

from conftest import ROOT

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.geteuid() != 0, reason="runs the documented commands as root and as another user"
    ),
]

DOC = ROOT / "docs" / "operations.md"
UNIT = ROOT / "systemd" / "watcher.service"
PLACES = ("/opt/watcher", "/etc/watcher", "/var/lib/watcher", "/var/backups", "/usr/local/bin")
NEEDS_SYSTEMD = ("systemctl", "journalctl", "systemd-run", "useradd")
NOBODY = "setpriv --reuid=65534 --regid=65534 --clear-groups "


def shell_blocks(text: str) -> list[str]:
    """The commands of every ```sh block, one per line, in document order."""
    blocks = re.findall(r"^```sh\n(.*?)^```", text, flags=re.S | re.M)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def under(root: Path, command: str) -> str:
    """A documented command, run in the temporary root, with `nobody` as the watcher user."""
    command = re.sub(
        r"(?<![\w/.])(" + "|".join(map(re.escape, (*PLACES, "/etc/systemd/system"))) + ")",
        lambda match: f"{root}{match.group(1)}",
        command,
    )
    command = command.replace("-o watcher -g watcher", "-o 65534 -g 65534")
    return command.replace("sudo -u watcher ", NOBODY).replace("sudo ", "")


def run(command: str, root: Path, **env: str) -> subprocess.CompletedProcess[str]:
    path = f"{root}/usr/local/bin:{os.environ['PATH']}"
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", command],
        cwd=ROOT,
        env={**os.environ, "PATH": path, **env},
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def followed() -> Iterator[tuple[Path, list[tuple[str, subprocess.CompletedProcess[str]]]]]:
    """The documented commands, run in order on an empty system (the folders Debian has)."""
    root = Path(tempfile.mkdtemp(prefix="watcher-ops-"))
    root.chmod(0o755)  # open to `nobody`
    for place in ("opt", "etc/systemd/system", "var/lib", "var/backups", "usr/local/bin"):
        (root / place).mkdir(parents=True)
    results = []
    for command in shell_blocks(DOC.read_text(encoding="utf-8")):
        if not command.removeprefix("sudo ").startswith(NEEDS_SYSTEMD):
            results.append((command, run(under(root, command), root)))
    yield root, results
    shutil.rmtree(root, ignore_errors=True)


def test_every_documented_command_works_in_the_documented_layout(
    followed: tuple[Path, list[tuple[str, subprocess.CompletedProcess[str]]]],
) -> None:
    root, results = followed

    assert len(results) >= 10
    for command, result in results:
        assert result.returncode == 0, f"{command}\n{result.stdout}{result.stderr}"
        assert "Traceback" not in result.stderr, f"{command}\n{result.stderr}"
    assert (root / "var/lib/watcher/watcher.db").stat().st_uid == 65534  # the user's, not root's
    assert list((root / "var/backups").glob("watcher-*.db"))
    installed = subprocess.run(
        [root / "opt/watcher/bin/python", "-m", "pip", "list", "--format=freeze"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "watcher==" in installed
    assert "pytest" not in installed and "ruff" not in installed  # no dev tools on the server


def test_the_cli_as_documented_sees_the_service_the_unit_starts(
    followed: tuple[Path, list[tuple[str, subprocess.CompletedProcess[str]]]],
) -> None:
    root, _ = followed
    settings = [line.split("=", 1) for line in UNIT.read_text().splitlines()]
    unit = {pair[0]: pair[1] for pair in settings if len(pair) == 2 and pair[0].isalpha()}
    name, _, config = unit["Environment"].partition("=")
    config_file = Path(under(root, config))
    # The sample's feeds are real news sites, and no test reaches the internet.
    document = tomlkit.parse(config_file.read_text(encoding="utf-8"))
    for feed in document["feeds"]:  # type: ignore[union-attr]
        feed["enabled"] = False
    config_file.write_text(tomlkit.dumps(document), encoding="utf-8")
    status = "sudo -u watcher watcher --config /etc/watcher/watcher.toml status"
    assert status in DOC.read_text(encoding="utf-8")

    service = subprocess.Popen(
        ["bash", "-c", "exec " + NOBODY + under(root, unit["ExecStart"])],
        cwd=root / "var/lib/watcher",  # WorkingDirectory=%S/watcher
        env={**os.environ, name: str(config_file)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        seen = run(under(root, status), root)
        while f"(pid {service.pid})" not in seen.stdout and time.monotonic() < deadline:
            time.sleep(0.5)
            seen = run(under(root, status), root)
    finally:
        service.send_signal(signal.SIGTERM)
        output, _ = service.communicate(timeout=30)

    assert f"(pid {service.pid})" in seen.stdout, seen.stdout + seen.stderr + output
    assert "service:   running for" in seen.stdout
    assert f"database:  {root}/var/lib/watcher/watcher.db" in seen.stdout
    assert service.returncode == 0, output
