"""Log lines: plain on a terminal, key=value under systemd's journal.

Under journald (JOURNAL_STREAM is set) each event is one line of key=value
pairs that `journalctl -o cat | grep feed=` and log shippers can split, with
no timestamp (journald adds its own). Fields passed with `extra=` (feed, url,
...) become keys of their own.
"""

from __future__ import annotations

import logging
import os
import sys

from watcher.ops.text import escape_controls

# Attributes every LogRecord has; anything else on a record came in through `extra=`.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


def visible(text: str) -> str:
    """`text` with control characters (but newline and tab) shown as \\xNN or \\uNNNN.

    Feed titles, URLs and error texts come from strangers: no escape sequence or
    bidirectional override of theirs reaches a terminal or the journal as is.
    """
    return escape_controls(text, keep="\n\t")


class TerminalFormatter(logging.Formatter):
    """A plain line with a time, for people at a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        return visible(super().format(record))


class KeyValueFormatter(logging.Formatter):
    """level=warning logger=watcher.app.poll feed="Mint" msg="..." """

    def format(self, record: logging.LogRecord) -> str:
        fields = {"level": record.levelname.lower(), "logger": record.name}
        fields.update(
            (key, value) for key, value in record.__dict__.items() if key not in _STANDARD
        )
        fields["msg"] = record.getMessage()
        if record.exc_info:
            fields["error"] = self.formatException(record.exc_info)
        return " ".join(f"{key}={_quote(value)}" for key, value in fields.items())


def _quote(value: object) -> str:
    text = visible(str(value))
    if text and not any(char in text for char in ' "=\n\t\\'):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def setup(verbose: int) -> None:
    """Configure the root logger for a command; quiet chatty libraries."""
    handler = logging.StreamHandler(sys.stderr)
    if "JOURNAL_STREAM" in os.environ:
        handler.setFormatter(KeyValueFormatter())
    else:
        handler.setFormatter(TerminalFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)
    # httpx logs every request at INFO: one line per feed and page would flood the journal.
    logging.getLogger("httpx").setLevel(logging.WARNING if verbose < 2 else logging.DEBUG)
    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    logging.getLogger("apscheduler").setLevel(logging.WARNING if verbose < 2 else logging.INFO)
