"""`watcher poll`, `run`, `status` and `housekeeping`: polling, the service and its upkeep."""

from __future__ import annotations

import asyncio
import logging
import sys
from datetime import UTC, datetime

import click

from watcher.app.housekeeping import housekeep
from watcher.app.oneshot import poll_once
from watcher.app.service import serve
from watcher.app.status import service_status
from watcher.cli.base import EXIT_FAILED, FORMAT, Context, cli
from watcher.cli.digest import report_outcomes
from watcher.cli.render import plural, render_feeds, render_status
from watcher.config.load import Config, FeedConfig
from watcher.delivery.dispatch import deliver_now
from watcher.models import PollResult
from watcher.ops.text import escape_controls
from watcher.store import open_storage
from watcher.store.postgres.connection import shown


@cli.command()
@click.option(
    "--once",
    is_flag=True,
    help="Accepted for scripts; `poll` always polls once and exits (the service is `run`).",
)
@click.option("--feed", "feeds", multiple=True, metavar="NAME", help="Only this feed (repeatable).")
@click.pass_obj
def poll(obj: Context, once: bool, feeds: tuple[str, ...]) -> None:
    """Poll every enabled feed once: fetch, extract, match, store.

    Exits 0 when at least one feed could be polled, 1 when none could.

    \b
    Example:
        watcher poll --once
        watcher poll --once --feed "The Hindu — National"
    """
    config = obj.config
    selected = config.select_feeds(feeds)
    if not logging.getLogger().isEnabledFor(logging.INFO):
        # Failed feeds are listed after the progress bar; a warning each would break it up.
        logging.getLogger("watcher.app.poll").setLevel(logging.ERROR)
    results = asyncio.run(_poll_with_progress(config, selected))
    failed = [result for result in results if result.failed]
    for result in failed:
        click.echo(escape_controls(f"failed: {result.feed}: {result.error}"), err=True)
    click.echo(_summary(results), err=True)
    immediate = [channel for channel in config.channels if channel.immediate]
    if immediate:
        config.check_secrets(immediate)  # after the poll: its hits are stored either way
        report_outcomes(asyncio.run(deliver_now(config, immediate)))
    if len(failed) == len(results):
        sys.exit(EXIT_FAILED)


async def _poll_with_progress(config: Config, feeds: list[FeedConfig]) -> list[PollResult]:
    if not sys.stderr.isatty():
        return await poll_once(config, feeds)
    with click.progressbar(
        length=len(feeds), label="polling", file=sys.stderr, show_pos=True, item_show_func=str
    ) as bar:

        def advance(result: PollResult) -> None:
            bar.update(1, result.feed[:30])

        return await poll_once(config, feeds, on_done=advance)


def _summary(results: list[PollResult]) -> str:
    ok = [r for r in results if not r.failed]
    unchanged = sum(1 for r in results if r.status == "not_modified")
    return (
        f"polled {plural(len(results), 'feed')}: {len(ok)} ok ({unchanged} unchanged), "
        f"{len(results) - len(ok)} failed; "
        f"{plural(sum(r.new_articles for r in results), 'new article')}, "
        f"{sum(r.updated_articles for r in results)} updated, "
        f"{plural(sum(r.hits for r in results), 'new hit')}"
    )


@cli.command()
@FORMAT
@click.pass_obj
def status(obj: Context, form: str) -> None:
    """Show whether the service runs, hits today, and every feed's health and next poll.

    Reads the database, so it works while the service runs.

    \b
    Example:
        watcher status
        watcher status --format json
    """
    with obj.reader() as store:
        feeds = store.feeds.statuses(obj.config.feeds)
        summary = service_status(store, feeds, datetime.now(UTC))
    click.echo(render_status(summary, form))
    if form == "table":
        click.echo("\n" + render_feeds(feeds, form))


@cli.command()
@click.pass_obj
def run(obj: Context) -> None:
    """Run the service: poll each feed on its interval until SIGTERM or Ctrl-C.

    With [web] enabled it also serves the web desk (docs/web.md) and logs its address.

    \b
    Example:
        watcher run
        watcher --config /etc/watcher/watcher.toml run
    """
    config = obj.config
    config.check_secrets()
    root = logging.getLogger()
    root.setLevel(min(root.level, logging.INFO))  # a service reports each poll by default
    click.echo(
        f"watcher: {plural(sum(f.enabled for f in config.feeds), 'feed')}, "
        f"{plural(len(config.terms), 'term')}, "
        f"database {config.db_path if config.db_url is None else shown(config.db_url)};"
        " Ctrl-C stops",
        err=True,
    )
    companions = []
    if config.web.enabled:
        from watcher.web.server import beside_service  # uvicorn and Starlette load only here

        companions.append(beside_service)
    asyncio.run(serve(config, companions=companions))


@cli.command()
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; delete nothing.")
@click.option("--rebuild-search", is_flag=True, help="Also rebuild the search index from scratch.")
@click.pass_obj
def housekeeping(obj: Context, dry_run: bool, rebuild_search: bool) -> None:
    """Delete old articles no term hit, and the old poll log, as [retention] says.

    Hits, their articles and copies of their stories are never deleted. The
    service does this daily on its own; this runs it now, also beside the
    running service.

    \b
    Example:
        watcher housekeeping --dry-run
        watcher housekeeping
    """
    config = obj.config
    now = datetime.now(UTC)
    kept = config.retention
    if kept.articles is None and kept.polls is None:
        click.echo("[retention] keeps everything: nothing to delete", err=True)
    verb = "would delete" if dry_run else "deleted"
    if dry_run or not sys.stderr.isatty():
        pruned = housekeep(config, now, dry_run=dry_run)
    else:
        total = housekeep(config, now, dry_run=True).articles
        with click.progressbar(length=total, label="deleting articles", file=sys.stderr) as bar:
            done = 0

            def advance(count: int) -> None:
                nonlocal done
                bar.update(count - done)
                done = count

            pruned = housekeep(config, now, progress=advance)
    click.echo(
        f"{verb} {plural(pruned.articles, 'article')} without hits"
        f" and {plural(pruned.polls, 'poll')}",
        err=True,
    )
    if rebuild_search and not dry_run:
        with open_storage(config.database) as store:
            indexed = store.fulltext.rebuild()
            store.fulltext.check()
        click.echo(f"search index rebuilt: {plural(indexed, 'article')}", err=True)
