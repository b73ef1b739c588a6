"""The `watcher` command group, its shared options and how errors become exit codes.

Exit codes: 0 success (also when some feeds failed), 1 nothing could be done
(every feed failed, the database is unusable, `terms test` found no match),
2 bad config, query or arguments.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import click

from watcher import logs
from watcher.config import (
    ENV_CONFIG,
    Config,
    config_path,
    load_config,
    parse_duration,
)
from watcher.errors import ArgumentError, ConfigError, QueryError, WatcherError
from watcher.formats import FORMATS
from watcher.store import Store

EXIT_FAILED = 1
EXIT_CONFIG = 2
FORMAT = click.option(
    "--format", "form", type=click.Choice(FORMATS), default="table", show_default=True
)


class Since(click.ParamType):  # type: ignore[type-arg]
    """A moment given as a duration back from now ("7d", "36h") or an ISO date or time."""

    name = "since"

    def convert(self, value: Any, param: Any, ctx: Any) -> datetime:
        if isinstance(value, datetime):
            return value
        text = str(value)
        try:
            return datetime.now(UTC) - timedelta(seconds=parse_duration(text))
        except ValueError:
            pass
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            self.fail(f"{text!r} is neither a duration (7d, 36h) nor a date (2026-11-01)")
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Until(Since):
    """Like `Since`, but a bare date means the end of that day: --until 2026-11-30 includes it."""

    name = "until"

    def convert(self, value: Any, param: Any, ctx: Any) -> datetime:
        moment = super().convert(value, param, ctx)
        if isinstance(value, str) and len(value.strip()) == len("2026-11-30"):
            moment += timedelta(days=1)
        return moment


def marks() -> tuple[str, str]:
    """How matched words stand out: bold underline on a terminal, **stars** in a pipe or file."""
    return ("\x1b[1;4m", "\x1b[0m") if sys.stdout.isatty() else ("**", "**")


class Context:
    def __init__(self, path: str | None) -> None:
        self.path = config_path(path)
        self._config: Config | None = None

    def store(self) -> Store:
        """The database, with a row for every configured feed and channel."""
        store = Store.open(self.config.db_path)
        store.sync_config(self.config, datetime.now(UTC))
        return store

    def reader(self) -> Store:
        """The database, opened to read only: works while another process holds the write
        lock (feeds not polled yet have no row and read as new)."""
        return Store.open(self.config.db_path, readonly=True)

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.path)
        return self._config


class _Group(click.Group):
    """Turns a `WatcherError` from any command into one line on stderr and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except WatcherError as exc:
            click.echo(f"error: {exc}", err=True)
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
    help=f"Config file (env {ENV_CONFIG}; default config/watcher.toml).",
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
