"""`watcher feeds ...`: list, add, remove, import, export, enable and disable feeds."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from watcher.app.oneshot import find_feed
from watcher.cli.base import (
    FORMAT,
    Context,
    cli,
)
from watcher.cli.render import plural, render_feeds
from watcher.config.edit import (
    NewFeed,
    add_feeds,
    from_opml,
    remove_feed,
    set_feed_enabled,
    to_opml,
)
from watcher.ops.text import escape_controls


@cli.group()
def feeds() -> None:
    """Inspect the configured feeds.

    \b
    Example:
        watcher feeds list
    """


@feeds.command("list")
@FORMAT
@click.pass_obj
def feeds_list(obj: Context, form: str) -> None:
    """Show each configured feed with its health, articles and hits.

    \b
    Example:
        watcher feeds list --format json
    """
    with obj.reader() as store:
        statuses = store.feeds.statuses(obj.config.feeds)
    click.echo(render_feeds(statuses, form))


@feeds.command("add")
@click.argument("url")
@click.option("--name", help="Name for the feed (default: the feed's own title).")
@click.pass_obj
def feeds_add(obj: Context, url: str, name: str | None) -> None:
    """Add a feed; a site's URL is resolved to the feed it announces.

    \b
    Example:
        watcher feeds add https://www.japantimes.co.jp/
        watcher feeds add https://example.org/rss.xml --name "Example News"
    """
    feed_url, title = asyncio.run(find_feed(obj.config, url))
    added = add_feeds(obj.path, [NewFeed(name or title or feed_url, feed_url)])
    if not added:
        click.echo(escape_controls(f"{feed_url} is already in {obj.path}"))
        return
    click.echo(escape_controls(f"added {added[0].name!r}: {feed_url} to {obj.path}"))


@feeds.command("remove")
@click.argument("name")
@click.pass_obj
def feeds_remove(obj: Context, name: str) -> None:
    """Remove a feed from the config file (its stored articles and hits stay).

    \b
    Example:
        watcher feeds remove "Kyodo News — All"
    """
    remove_feed(obj.path, name)
    click.echo(f"removed {name!r} from {obj.path}")


@feeds.command("import")
@click.argument("opml", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
def feeds_import(obj: Context, opml: Path) -> None:
    """Add the feeds of an OPML file (from another feed reader) that are not configured yet.

    \b
    Example:
        watcher feeds import subscriptions.opml
    """
    added = add_feeds(obj.path, from_opml(opml.read_bytes(), str(opml)))
    for feed in added:
        click.echo(escape_controls(f"added {feed.name!r}: {feed.url}"))  # from the OPML file
    click.echo(f"{plural(len(added), 'feed')} added to {obj.path}")


@feeds.command("export")
@click.pass_obj
def feeds_export(obj: Context) -> None:
    """Print the configured feeds as OPML, for any feed reader.

    \b
    Example:
        watcher feeds export > watcher.opml
    """
    click.echo(to_opml(obj.config))


@feeds.command("disable")
@click.argument("name")
@click.pass_obj
def feeds_disable(obj: Context, name: str) -> None:
    """Stop polling a feed: sets `enabled = false` in its [[feeds]] table.

    The config file keeps its comments and layout. A running service applies it
    on SIGHUP (`systemctl reload watcher`).

    \b
    Example:
        watcher feeds disable "Kyodo News — All"
    """
    set_feed_enabled(obj.path, name, enabled=False)
    click.echo(f"disabled {name!r} in {obj.path}")


@feeds.command("enable")
@click.argument("name")
@click.pass_obj
def feeds_enable(obj: Context, name: str) -> None:
    """Poll a disabled feed again: removes `enabled = false` from its [[feeds]] table.

    \b
    Example:
        watcher feeds enable "Kyodo News — All"
    """
    set_feed_enabled(obj.path, name, enabled=True)
    click.echo(f"enabled {name!r} in {obj.path}")
