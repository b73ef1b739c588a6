"""Log lines under journald are key=value; on a terminal they are plain text."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import write_config
from watcher.ops.logs import KeyValueFormatter, TerminalFormatter


def record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    entry = logging.LogRecord("watcher.app.poll", logging.WARNING, "x.py", 1, message, args, None)
    entry.__dict__.update(extra)
    return entry


def test_key_value_line_carries_level_logger_extra_fields_and_message() -> None:
    line = KeyValueFormatter().format(record("feed %r failed: %s", "Mint", "HTTP 403", feed="Mint"))

    assert (
        line
        == "level=warning logger=watcher.app.poll feed=Mint msg=\"feed 'Mint' failed: HTTP 403\""
    )


def test_values_with_quotes_and_newlines_stay_on_one_line() -> None:
    line = KeyValueFormatter().format(record('bad "title"\nnext line'))

    assert line.endswith('msg="bad \\"title\\"\\nnext line"')
    assert "\n" not in line


@pytest.mark.slow
def test_poll_logs_key_value_lines_under_journald(tmp_path: Path) -> None:
    config = write_config(tmp_path, [("Closed Port", "http://127.0.0.1:9/feed.xml")])

    result = subprocess.run(
        [sys.executable, "-m", "watcher", "--config", str(config), "-v", "poll", "--once"],
        capture_output=True, text=True, timeout=60, env={"JOURNAL_STREAM": "8:1234", "PATH": ""},
    )  # fmt: skip

    assert result.returncode == 1
    logged = [line for line in result.stderr.splitlines() if line.startswith("level=")]
    assert logged[0].startswith(
        'level=warning logger=watcher.app.poll feed="Closed Port" '
        "msg=\"feed 'Closed Port' failed: http://127.0.0.1:9/feed.xml: cannot connect"
    )


@pytest.mark.slow
def test_terminal_log_lines_are_plain_text(tmp_path: Path) -> None:
    config = write_config(tmp_path, [("Closed Port", "http://127.0.0.1:9/feed.xml")])

    result = subprocess.run(
        [sys.executable, "-m", "watcher", "--config", str(config), "-v", "poll", "--once"],
        capture_output=True, text=True, timeout=60, env={"PATH": ""},
    )  # fmt: skip

    assert " WARNING watcher.app.poll: feed 'Closed Port' failed: " in result.stderr
    assert "level=" not in result.stderr


def test_escape_sequences_and_bidi_overrides_from_a_feed_are_shown_not_obeyed() -> None:
    title = "Port news\x1b]0;owned\x07 \u202eelif"
    line = TerminalFormatter().format(record("feed %r: salvaged", title))

    assert line.endswith(r"watcher.app.poll: feed 'Port news\x1b]0;owned\x07 \u202eelif': salvaged")
    assert "\x1b" not in line and "\u202e" not in line
