"""The `watcher` command: parse arguments, call the library, print.

Exit codes: 0 success (also when some feeds failed), 1 nothing could be done
(every feed failed, the database is unusable, `terms test` found no match),
2 bad config, query or arguments.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

import click

from watcher import logs
from watcher.config import (
    ENV_CONFIG,
    Config,
    FeedConfig,
    config_path,
    load_config,
    parse_duration,
)
from watcher.deliver.dispatch import Dispatcher, Outcome, deliver_now
from watcher.digest import render, to_json
from watcher.errors import ConfigError, FetchError, QueryError, WatcherError
from watcher.feedlist import NewFeed, add_feeds, from_opml, remove_feed, set_feed_enabled, to_opml
from watcher.formats import (
    FORMATS,
    render_deliveries,
    render_feeds,
    render_hits,
    render_matches,
    render_status,
    render_terms,
)
from watcher.pipeline import PollResult, fetch_article, find_feed, poll_once
from watcher.service import serve, service_status
from watcher.store import Store
from watcher.terms import Matcher, compile_term

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


class _Context:
    def __init__(self, path: str | None) -> None:
        self.path = config_path(path)
        self._config: Config | None = None

    def store(self) -> Store:
        """The database, with a row for every configured feed and channel."""
        store = Store.open(self.config.db_path)
        store.sync_config(self.config, datetime.now(UTC))
        return store

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
            ctx.exit(EXIT_CONFIG if isinstance(exc, ConfigError | QueryError) else EXIT_FAILED)


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
    ctx.obj = _Context(config_file)


@cli.command()
@click.option("--once", is_flag=True, help="Poll every feed once and exit (the service is `run`).")
@click.option("--feed", "feeds", multiple=True, metavar="NAME", help="Only this feed (repeatable).")
@click.pass_obj
def poll(obj: _Context, once: bool, feeds: tuple[str, ...]) -> None:
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
        logging.getLogger("watcher.pipeline").setLevel(logging.ERROR)
    results = asyncio.run(_poll_with_progress(config, selected))
    failed = [result for result in results if result.failed]
    for result in failed:
        click.echo(f"failed: {result.feed}: {result.error}", err=True)
    click.echo(_summary(results), err=True)
    immediate = [channel for channel in config.channels if channel.immediate]
    if immediate:
        _report(asyncio.run(deliver_now(config, immediate)))
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
        f"polled {len(results)} feeds: {len(ok)} ok ({unchanged} unchanged), "
        f"{len(results) - len(ok)} failed; "
        f"{sum(r.new_articles for r in results)} new articles, "
        f"{sum(r.updated_articles for r in results)} updated, "
        f"{sum(r.hits for r in results)} new hits"
    )


@cli.command()
@click.option("--term", "terms", multiple=True, metavar="NAME", help="Only this term (repeatable).")
@click.option("--feed", "feeds", multiple=True, metavar="NAME", help="Only this feed (repeatable).")
@click.option("--since", type=Since(), help="Found since a duration ago (7d) or a date.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many (newest first).")
@FORMAT
@click.pass_obj
def hits(
    obj: _Context,
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
def feeds_list(obj: _Context, form: str) -> None:
    """Show each configured feed with its health, articles and hits.

    \b
    Example:
        watcher feeds list --format json
    """
    with obj.store() as store:
        statuses = store.feed_statuses(obj.config.feeds)
    click.echo(render_feeds(statuses, form))


@cli.command()
@FORMAT
@click.pass_obj
def status(obj: _Context, form: str) -> None:
    """Show whether the service runs, hits today, and every feed's health and next poll.

    Reads the database, so it works while the service runs.

    \b
    Example:
        watcher status
        watcher status --format json
    """
    with obj.store() as store:
        feeds = store.feed_statuses(obj.config.feeds)
        summary = service_status(store, feeds, datetime.now(UTC))
    click.echo(render_status(summary, form))
    if form == "table":
        click.echo("\n" + render_feeds(feeds, form))


@cli.group()
def terms() -> None:
    """Inspect and try the watch-terms.

    \b
    Example:
        watcher terms list
        watcher terms test '"rare earth*" NEAR/5 Japan' --text "Japan's rare earths deal"
    """


@terms.command("list")
@FORMAT
@click.pass_obj
def terms_list(obj: _Context, form: str) -> None:
    """Show each configured watch-term and its query.

    \b
    Example:
        watcher terms list --format json
    """
    click.echo(render_terms(obj.config.terms, form))


@terms.command("test")
@click.argument("query", required=False)
@click.option("--term", "term_name", metavar="NAME", help="Try a configured term instead of QUERY.")
@click.option("--text", help="Text to match against.")
@click.option("--title", default="", help="A headline to go with --text or --file.")
@click.option(
    "--file", "path", type=click.File(encoding="utf-8"), help="A text file (- for stdin)."
)
@click.option("--url", help="A page to fetch and extract, as a poll would.")
@click.pass_obj
def terms_test(
    obj: _Context,
    query: str | None,
    term_name: str | None,
    text: str | None,
    title: str,
    path: TextIO | None,
    url: str | None,
) -> None:
    """Show how a query or term matches a text: clauses, highlights and score.

    Exits 0 when it matches, 1 when it does not.

    \b
    Example:
        watcher terms test --term "UNICORN antenna" --url https://example.org/story
        watcher terms test '=UNICORN NEAR/5 (mast OR antenna)' --text "The UNICORN mast"
    """
    if (query is None) == (term_name is None):
        raise click.UsageError("give either QUERY or --term NAME")
    if sum(source is not None for source in (text, path, url)) != 1:
        raise click.UsageError("give exactly one of --text, --file or --url")
    chosen = (
        [compile_term("QUERY", query)]
        if query is not None
        else obj.config.select_terms([term_name or ""])
    )
    if url is not None:
        article = asyncio.run(fetch_article(obj.config, url))
        if article.source != "page":
            raise FetchError(f"{url}: {article.note}")
        title, body = article.title, article.text
    else:
        body = path.read() if path is not None else text or ""
    matches = Matcher(chosen).match(title, body)
    color = sys.stdout.isatty()
    mark = ("\x1b[1;4m", "\x1b[0m") if color else ("**", "**")  # bold underline on a terminal
    click.echo(render_matches(matches, mark))
    if not matches:
        sys.exit(EXIT_FAILED)


@feeds.command("add")
@click.argument("url")
@click.option("--name", help="Name for the feed (default: the feed's own title).")
@click.pass_obj
def feeds_add(obj: _Context, url: str, name: str | None) -> None:
    """Add a feed; a site's URL is resolved to the feed it announces.

    \b
    Example:
        watcher feeds add https://www.japantimes.co.jp/
        watcher feeds add https://example.org/rss.xml --name "Example News"
    """
    feed_url, title = asyncio.run(find_feed(obj.config, url))
    added = add_feeds(obj.path, [NewFeed(name or title or feed_url, feed_url)])
    if not added:
        click.echo(f"{feed_url} is already in {obj.path}")
        return
    click.echo(f"added {added[0].name!r}: {feed_url} to {obj.path}")


@feeds.command("remove")
@click.argument("name")
@click.pass_obj
def feeds_remove(obj: _Context, name: str) -> None:
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
def feeds_import(obj: _Context, opml: Path) -> None:
    """Add the feeds of an OPML file (from another feed reader) that are not configured yet.

    \b
    Example:
        watcher feeds import subscriptions.opml
    """
    added = add_feeds(obj.path, from_opml(opml.read_bytes(), str(opml)))
    for feed in added:
        click.echo(f"added {feed.name!r}: {feed.url}")
    click.echo(f"{len(added)} feeds added to {obj.path}")


@feeds.command("export")
@click.pass_obj
def feeds_export(obj: _Context) -> None:
    """Print the configured feeds as OPML, for any feed reader.

    \b
    Example:
        watcher feeds export > watcher.opml
    """
    click.echo(to_opml(obj.config))


@feeds.command("disable")
@click.argument("name")
@click.pass_obj
def feeds_disable(obj: _Context, name: str) -> None:
    """Stop polling a feed: sets `enabled = false` in its [[feeds]] table.

    The config file keeps its comments and layout. Restart the service to apply.

    \b
    Example:
        watcher feeds disable "Kyodo News — All"
    """
    set_feed_enabled(obj.path, name, enabled=False)
    click.echo(f"disabled {name!r} in {obj.path}")


@feeds.command("enable")
@click.argument("name")
@click.pass_obj
def feeds_enable(obj: _Context, name: str) -> None:
    """Poll a disabled feed again: removes `enabled = false` from its [[feeds]] table.

    \b
    Example:
        watcher feeds enable "Kyodo News — All"
    """
    set_feed_enabled(obj.path, name, enabled=True)
    click.echo(f"enabled {name!r} in {obj.path}")


@cli.group()
def digest() -> None:
    """Preview or send the digests of the configured [[channels]].

    \b
    Example:
        watcher digest preview --channel desk
        watcher digest send
    """


CHANNEL = click.option(
    "--channel", "channels", multiple=True, metavar="NAME", help="Only this channel (repeatable)."
)
SINCE_HITS = click.option(
    "--since",
    type=Since(),
    help="Also take undelivered hits found since then, before the channel was configured.",
)


@digest.command("preview")
@CHANNEL
@SINCE_HITS
@click.option(
    "--as",
    "kind",
    type=click.Choice(["text", "html", "json"]),
    default="text",
    show_default=True,
    help="The plain-text part, the HTML part, or the webhook body.",
)
@click.pass_obj
def digest_preview(
    obj: _Context, channels: tuple[str, ...], since: datetime | None, kind: str
) -> None:
    """Show the digest each channel would get now; nothing is sent or marked.

    \b
    Example:
        watcher digest preview --channel desk
        watcher digest preview --channel desk --as html > digest.html
    """
    chosen = obj.config.select_channels(channels)
    with obj.store() as store:
        dispatcher = Dispatcher(obj.config, store, fetcher=None)
        for channel in chosen:
            preview = dispatcher.preview(channel, since)
            if kind == "json":
                click.echo(json.dumps(to_json(preview), ensure_ascii=False, indent=2))
            else:
                rendered = render(preview)
                click.echo(rendered.text if kind == "text" else rendered.html)


@digest.command("send")
@CHANNEL
@SINCE_HITS
@click.option("--retry-failed", is_flag=True, help="Give failed digests a new round of attempts.")
@click.pass_obj
def digest_send(
    obj: _Context, channels: tuple[str, ...], since: datetime | None, retry_failed: bool
) -> None:
    """Send each channel's undelivered hits now, and any digest waiting for a retry.

    Exits 0 when everything due was delivered, 1 when a digest failed.

    \b
    Example:
        watcher digest send --channel desk
        watcher digest send --retry-failed
    """
    config = obj.config
    chosen = config.select_channels(channels)
    config.check_secrets()
    outcomes = asyncio.run(deliver_now(config, chosen, since, retry_failed))
    _report(outcomes)
    if not outcomes:
        click.echo("nothing to send", err=True)
    if any(outcome.status != "sent" for outcome in outcomes):
        sys.exit(EXIT_FAILED)


def _report(outcomes: list[Outcome]) -> None:
    for outcome in outcomes:
        line = (
            f"{outcome.status}: digest {outcome.digest} to {outcome.channel}, {outcome.hits} hits"
        )
        if outcome.error:
            line += f": {outcome.error}"
        click.echo(line, err=True)


@cli.command()
@click.option(
    "--status", type=click.Choice(["pending", "sent", "failed"]), help="Only digests in this state."
)
@CHANNEL
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@FORMAT
@click.pass_obj
def deliveries(
    obj: _Context, status: str | None, channels: tuple[str, ...], limit: int, form: str
) -> None:
    """List digests in the outbox, newest first: pending, sent and failed.

    \b
    Example:
        watcher deliveries --status failed
    """
    with obj.store() as store:
        found = store.outbox.deliveries(status=status, channels=channels, limit=limit)
    click.echo(render_deliveries(found, form))


@cli.command()
@click.pass_obj
def run(obj: _Context) -> None:
    """Run the service: poll each feed on its interval until SIGTERM or Ctrl-C.

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
        f"watcher: {sum(f.enabled for f in config.feeds)} feeds, {len(config.terms)} terms, "
        f"database {config.db_path}; Ctrl-C stops",
        err=True,
    )
    asyncio.run(serve(config))


def main() -> None:
    """Entry point of the `watcher` console script."""
    cli(prog_name="watcher")
