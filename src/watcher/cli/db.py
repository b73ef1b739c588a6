"""`watcher db ...`: check the database file for damage, and back it up while in use."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from watcher.cli.base import EXIT_FAILED, Context, cli
from watcher.store import Store


@cli.group()
def db() -> None:
    """Check and back up the database.

    \b
    Example:
        watcher db check
        watcher db backup /var/backups/watcher-2026-11-23.db
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
    with Store.open(obj.config.db_path) as store:
        problems = store.check(datetime.now(UTC))
        path = store.path
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
    with Store.open(obj.config.db_path) as store:
        store.backup(target)
    click.echo(f"backed up {obj.config.db_path} to {target}")
