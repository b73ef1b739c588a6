"""The `watcher` command group, its shared options and how errors become exit codes.

Exit codes: 0 success (also when some feeds failed), 1 nothing could be done
(every feed failed, the database is unusable, `terms test` found no match),
2 bad config, query or arguments, 130 interrupted by Ctrl-C (128 + SIGINT, as
shells report it; `watcher run` instead stops cleanly and exits 0).
"""

from __future__ import annotations

import os
import shutil
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import click

from watcher.cli.tables import FORMATS
from watcher.config.load import (
    ENV_CONFIG,
    Config,
    config_path,
    load_config,
    parse_duration,
)
from watcher.errors import ArgumentError, ConfigError, QueryError, WatcherError
from watcher.ops import logs
from watcher.ops.text import escape_controls
from watcher.store import Storage, open_storage

EXIT_FAILED = 1
EXIT_CONFIG = 2
EXIT_INTERRUPTED = 130
FORMAT = click.option(
    "--format", "form", type=click.Choice(FORMATS), default="table", show_default=True
)
# Ids and row limits as SQLite can hold them (a signed 64-bit integer): a larger
# number is a usage error here, not an OverflowError in the query.
COUNT = click.IntRange(min=1, max=2**63 - 1)


class Since(click.ParamType):  # type: ignore[type-arg]
    """A moment given as a duration back from now ("7d", "36h") or an ISO date or time."""

    name = "since"

    def convert(self, value: Any, param: Any, ctx: Any) -> datetime:
        if isinstance(value, datetime):
            return value
        text = str(value)
        try:
            return datetime.now(UTC) - timedelta(seconds=parse_duration(text))
        except ValueError as exc:
            problem = str(exc)
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            if "is not a duration" not in problem:  # a duration, but zero or too long
                self.fail(problem)
            self.fail(f"{text!r} is neither a duration (7d, 36h) nor a date (2026-11-01)")
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        try:
            return moment.astimezone(UTC)
        except OverflowError:  # 9999-12-31T23:00-05:00 is past the last moment Python knows
            self.fail(f"{text!r} is out of range")


class Until(Since):
    """Like `Since`, but a bare date means the end of that day: --until 2026-11-30 includes it."""

    name = "until"

    def convert(self, value: Any, param: Any, ctx: Any) -> datetime:
        moment = super().convert(value, param, ctx)
        if isinstance(value, str) and len(value.strip()) == len("2026-11-30"):
            try:
                moment += timedelta(days=1)
            except OverflowError:  # --until 9999-12-31: the end of time will do
                moment = datetime.max.replace(tzinfo=UTC)
        return moment


def marks() -> tuple[str, str]:
    """How matched words stand out: bold underline on a terminal, **stars** in a pipe or file."""
    return ("\x1b[1;4m", "\x1b[0m") if sys.stdout.isatty() else ("**", "**")


def terminal_width() -> int | None:
    """Columns of the terminal stdout shows on ($COLUMNS first); None for a pipe or a file."""
    if "COLUMNS" in os.environ or sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None


class Context:
    def __init__(self, path: str | None) -> None:
        self.path = config_path(path)
        self._config: Config | None = None

    def store(self) -> Storage:
        """The database, with a row for every configured feed and channel."""
        store = open_storage(self.config.database)
        try:
            with store.translated():
                store.sync(self.config.feeds, self.config.channels, datetime.now(UTC))
        except WatcherError:
            store.close()
            raise
        return store

    def reader(self) -> Storage:
        """The database, opened to read only: works while another process holds the write
        lock (feeds not polled yet have no row and read as new)."""
        return open_storage(self.config.database, readonly=True)

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.path)
        return self._config


def config_first(args: list[str]) -> list[str]:
    """`watcher poll --config X` read as `watcher --config X poll`: the option may go anywhere.

    Only before a `--`, after which every word is an argument.
    """
    moved: list[str] = []
    rest: list[str] = []
    index = 0
    while index < len(args):
        word = args[index]
        if word == "--":
            rest += args[index:]
            break
        if word == "--config" and index + 1 < len(args):
            moved += args[index : index + 2]
            index += 2
            continue
        (moved if word.startswith("--config=") else rest).append(word)
        index += 1
    return moved + rest


class _Group(click.Group):
    """Turns a `WatcherError` from any command into one line on stderr and an exit code."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if ctx.parent is None:  # the top-level `watcher` group holds --config
            args = config_first(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            ctx.exit(EXIT_INTERRUPTED)  # quietly: the user knows they pressed Ctrl-C
        except WatcherError as exc:
            click.echo(f"error: {escape_controls(str(exc))}", err=True)  # may quote feed text
            ctx.exit(
                EXIT_CONFIG
                if isinstance(exc, ArgumentError | ConfigError | QueryError)
                else EXIT_FAILED
            )


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_file",
    metavar="PATH",
    envvar=ENV_CONFIG,
    help=f"Config file, before or after the command (env {ENV_CONFIG};"
    " default config/watcher.toml).",
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for HTTP requests).")
@click.version_option(package_name="watcher")
@click.pass_context
def cli(ctx: click.Context, config_file: str | None, verbose: int) -> None:
    """Monitor news feeds for watch-terms and keep the hits in SQLite.

    \b
    Example:
        watcher poll --once && watcher hits --since 7d
    """
    logs.setup(verbose)
    ctx.obj = Context(config_file)
