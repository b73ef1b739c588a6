"""`watcher hits`: reading the stored hits."""

from __future__ import annotations

from datetime import datetime

import click

from watcher.cli.base import (
    FORMAT,
    Context,
    Since,
    cli,
)
from watcher.formats import render_hits
from watcher.store import Store


@cli.command()
@click.option("--term", "terms", multiple=True, metavar="NAME", help="Only this term (repeatable).")
@click.option("--feed", "feeds", multiple=True, metavar="NAME", help="Only this feed (repeatable).")
@click.option("--since", type=Since(), help="Found since a duration ago (7d) or a date.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many (newest first).")
@FORMAT
@click.pass_obj
def hits(
    obj: Context,
    terms: tuple[str, ...],
    feeds: tuple[str, ...],
    since: datetime | None,
    limit: int | None,
    form: str,
) -> None:
    """List stored hits, newest first.

    \b
    Example:
        watcher hits --term "UNICORN antenna" --since 7d
        watcher hits --format json --limit 20
    """
    with Store.open(obj.config.db_path) as store:
        found = store.hits(terms=terms, feeds=feeds, since=since, limit=limit)
    click.echo(render_hits(found, form))
