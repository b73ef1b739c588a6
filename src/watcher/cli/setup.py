"""`watcher init`: a first config for a new install."""

from __future__ import annotations

from pathlib import Path

import click

from watcher.cli.base import Context, cli
from watcher.config.load import load_config
from watcher.config.sample import DEFAULT_DB, write_sample


@cli.command()
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--db",
    default=DEFAULT_DB,
    show_default=True,
    help="The [storage] path to write; a relative one starts at the new file's folder.",
)
@click.pass_obj
def init(obj: Context, path: Path | None, db: str) -> None:
    """Write a sample config (news feeds and the seeded watch-terms) to start from.

    PATH defaults to the --config path. An existing file is never overwritten.

    \b
    Example:
        watcher init watcher.toml && watcher --config watcher.toml poll --once
        watcher init /etc/watcher/watcher.toml --db /var/lib/watcher/watcher.db
    """
    target = path or obj.path
    write_sample(target, db)
    config = load_config(target)
    click.echo(f"wrote {target} (database {config.db_path}); edit its feeds and terms", err=True)
