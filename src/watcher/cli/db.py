"""`watcher db ...`: check the database file for damage, back it up while in use, and
copy a database between SQLite and PostgreSQL."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import click

from watcher.cli.base import COUNT, EXIT_FAILED, Context, cli
from watcher.errors import ArgumentError, StoreError
from watcher.store import Store, open_storage
from watcher.store.copy import BATCH, copy_database
from watcher.store.postgres.connection import shown


@cli.group()
def db() -> None:
    """Check and back up the database.

    \b
    Example:
        watcher db check
        watcher db backup /var/backups/watcher-2026-11-23.db
        watcher db copy state/watcher.db postgresql://watcher@db.example/watcher
    """


@db.command()
@click.pass_obj
def check(obj: Context) -> None:
    """Look for damage in the database file (SQLite's quick_check); exit 1 if any.

    The service runs the same check at start and daily, and stops writing to a
    damaged file. docs/operations.md says how to recover one.

    \b
    Example:
        watcher db check
    """
    with open_storage(obj.config.database) as store:
        problems = store.check(datetime.now(UTC))
        path = store.location
    if not problems:
        click.echo(f"{path}: ok")
        return
    for problem in problems:
        click.echo(f"{path}: {problem}", err=True)
    click.echo(
        f"{path}: damaged: stop the service, `watcher db backup` what can be read, and see"
        " 'A damaged database' in docs/operations.md",
        err=True,
    )
    raise SystemExit(EXIT_FAILED)


@db.command()
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def backup(obj: Context, target: Path) -> None:
    """Copy the database to TARGET (a new file), safely while the service runs.

    Uses SQLite's online backup, so the copy is consistent even while polls write.

    \b
    Example:
        watcher db backup /var/backups/watcher-2026-11-23.db
    """
    if obj.config.db_url is not None:
        raise ArgumentError(
            "watcher db backup copies an SQLite file; back up PostgreSQL with pg_dump"
            " (or `watcher db copy URL FILE`)"
        )
    with Store.open(obj.config.db_path) as store:
        store.backup(target)
    click.echo(f"backed up {obj.config.db_path} to {target}")


@db.command()
@click.argument("source")
@click.argument("target")
@click.option(
    "--batch", type=COUNT, default=BATCH, show_default=True, help="Rows per batch (one commit)."
)
def copy(source: str, target: str, batch: int) -> None:
    """Copy every table from SOURCE to TARGET: SQLite files or postgresql:// URLs.

    Either way round; ids are kept, an SQLite target's search index is rebuilt.
    TARGET must be new and empty, or a copy of SOURCE interrupted earlier: run
    again, it goes on where it stopped. Both must be at this watcher's schema
    version. Stop the service while copying: the copy reads one snapshot, so
    rows written after it starts are left behind. Progress goes to stderr; the
    rows counted on both sides, table by table, to stdout (exit 1 if they differ).

    \b
    Example:
        watcher db copy state/watcher.db postgresql://watcher@db.example/watcher
        watcher db copy postgresql://watcher@db.example/watcher /var/backups/watcher.db
    """
    meter = Meter()
    try:
        counts = copy_database(source, target, datetime.now(UTC), batch=batch, progress=meter)
    except KeyboardInterrupt:
        meter.end()
        click.echo("interrupted: run the same command again to go on from there", err=True)
        raise
    finally:
        meter.end()
    click.echo(f"{'table':<16} {'source':>9} {'target':>9}")
    for count in counts:
        flag = "" if count.source == count.target else "  differs"
        click.echo(f"{count.table:<16} {count.source:>9} {count.target:>9}{flag}")
    differ = [count.table for count in counts if count.source != count.target]
    if differ:
        raise StoreError(
            f"row counts differ in {', '.join(differ)}: was {shown(target)} empty (or an"
            f" interrupted copy of {shown(source)}) before the copy?"
        )
    rows = sum(count.target for count in counts)
    click.echo(f"copied {shown(source)} to {shown(target)}: {rows} rows, counts match")


class Meter:
    """Rows copied out of the table's rows, on stderr: one line redrawn on a terminal;
    elsewhere (a log, a pipe) a line every few seconds and one as each table is done."""

    EVERY = 5.0  # seconds between lines when stderr is not a terminal

    def __init__(self) -> None:
        self.live = sys.stderr.isatty()
        self.shown: tuple[str, int] | None = None
        self.at = time.monotonic()
        self.open = False  # a redrawn line waits for its newline

    def __call__(self, table: str, done: int, total: int) -> None:
        if self.shown == (table, done):
            return
        if self.live:
            if self.open and self.shown and self.shown[0] != table:
                click.echo("", err=True)
            click.echo(f"\r{table}: {done}/{total}\x1b[K", nl=False, err=True)
            self.open = True
        elif done >= total or time.monotonic() - self.at >= self.EVERY:
            click.echo(f"{table}: {done}/{total}", err=True)
            self.at = time.monotonic()
        else:
            return
        self.shown = (table, done)

    def end(self) -> None:
        if self.open:
            click.echo("", err=True)
            self.open = False
