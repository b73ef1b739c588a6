"""The shipped systemd unit passes `systemd-analyze verify` (where systemd is installed)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNIT = Path(__file__).resolve().parent.parent / "systemd" / "watcher.service"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd is not installed")
def test_unit_file_verifies(tmp_path: Path) -> None:
    # Point ExecStart at this checkout's console script, which verify checks exists.
    script = Path(sys.executable).with_name("watcher")
    unit = tmp_path / "watcher.service"
    unit.write_text(UNIT.read_text().replace("/opt/watcher/bin/watcher", str(script)))

    result = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_unit_runs_as_a_hardened_notify_service() -> None:
    settings = dict(
        line.split("=", 1)
        for line in UNIT.read_text().splitlines()
        if "=" in line and line[0] != "#"
    )

    assert settings["Type"] == "notify"
    assert settings["Restart"] == "on-failure"
    assert "DynamicUser" not in settings  # operators run the CLI as the same, fixed user
    assert (settings["User"], settings["Group"]) == ("watcher", "watcher")
    assert settings["ProtectSystem"] == "strict"
    assert settings["NoNewPrivileges"] == "yes"
    assert settings["StateDirectory"] == "watcher"


def test_the_unit_memory_limit_holds_every_extraction_worker_at_its_limit() -> None:
    from watcher.sources.extract import MAX_WORKERS, WORKER_MEMORY

    [limit] = [line for line in UNIT.read_text().splitlines() if line.startswith("MemoryMax=")]

    assert limit == "MemoryMax=3G"
    assert MAX_WORKERS * WORKER_MEMORY + 512 * 2**20 <= 3 * 2**30  # and the poller's 0.5 GB
