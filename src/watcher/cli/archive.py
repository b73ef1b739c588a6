"""`watcher hits`, `show`, `search`, `stats` and `export`: reading the hit database."""

from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

import click

from watcher.app.search import search as search_articles
from watcher.cli.base import COUNT, FORMAT, Context, Since, Until, cli, marks, terminal_width
from watcher.cli.render import (
    periods,
    plural,
    render_article,
    render_hits,
    render_search,
    render_stats,
    write_hits,
)
from watcher.errors import ArgumentError, WatcherError
from watcher.match import Matcher
from watcher.store import Storage
from watcher.store.records import SORTS, HitQuery

STATS_SPAN = {"day": timedelta(days=30), "week": timedelta(weeks=26)}  # without --since

_FILTERS = (
    click.option(
        "--term", "terms", multiple=True, metavar="NAME", help="Only this term (repeatable)."
    ),
    click.option(
        "--feed", "feeds", multiple=True, metavar="NAME", help="Only this feed (repeatable)."
    ),
    click.option("--since", type=Since(), help="Found since a duration ago (7d) or a date."),
    click.option("--until", type=Until(), help="Found before a duration ago or a date (included)."),
    click.option(
        "--min-score", type=float, metavar="SCORE", help="Only hits scoring at least this."
    ),
    click.option("--delivered", is_flag=True, help="Only hits some channel was sent."),
    click.option("--undelivered", is_flag=True, help="Only hits no channel was sent yet."),
    click.option("--read", "read", is_flag=True, help="Only hits marked read."),
    click.option("--unread", is_flag=True, help="Only hits not marked read."),
    click.option("--judged", is_flag=True, help="Only hits with a verdict (`watcher mark`)."),
    click.option("--unjudged", is_flag=True, help="Only hits without a verdict."),
    click.option("--not-relevant", is_flag=True, help="Only hits judged not relevant."),
    click.option("--important", is_flag=True, help="Only hits judged important."),
)


def hit_filters(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options that narrow hits, shared by `hits` and `export`."""
    for option in reversed(_FILTERS):
        command = option(command)
    return command


def _query(obj: Context, store: Storage, **filters: Any) -> HitQuery:
    """The filters as a `HitQuery`, after checking that each term and feed exists."""
    _known(
        "term", filters["terms"], [t.name for t in obj.config.terms], store.archive.stored_terms()
    )
    _known(
        "feed", filters["feeds"], [f.name for f in obj.config.feeds], store.archive.stored_feeds()
    )
    delivered, undelivered = filters.pop("delivered"), filters.pop("undelivered", False)
    if delivered and undelivered:
        raise ArgumentError("--delivered and --undelivered exclude each other: give one")
    filters["delivered"] = True if delivered else False if undelivered else None
    read, unread = filters.pop("read", False), filters.pop("unread", False)
    if read and unread:
        raise ArgumentError("--read and --unread exclude each other: give one")
    filters["read"] = True if read else False if unread else None
    judged, unjudged = filters.pop("judged", False), filters.pop("unjudged", False)
    verdicts = tuple(
        verdict
        for verdict, wanted in (
            ("not_relevant", filters.pop("not_relevant", False)),
            ("important", filters.pop("important", False)),
        )
        if wanted
    )
    if unjudged and (judged or verdicts):
        raise ArgumentError("--unjudged lists hits without a verdict: leave out the verdicts")
    filters["judged"] = True if judged else False if unjudged else None
    filters["verdicts"] = verdicts
    since, until = filters["since"], filters["until"]
    if since is not None and until is not None and since >= until:
        raise ArgumentError(
            f"--since {since:%Y-%m-%d %H:%M} is not before --until {until:%Y-%m-%d %H:%M}"
        )
    return HitQuery(**filters)


def _known(kind: str, given: Sequence[str], configured: list[str], stored: list[str]) -> None:
    known = list(dict.fromkeys([*configured, *stored]))
    for name in given:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = (
                f"; did you mean {close[0]!r}?"
                if close
                else f" (known: {', '.join(map(repr, known))})"
            )
            raise ArgumentError(f"no {kind} named {name!r} in the config or the database{hint}")


@cli.command()
@hit_filters
@click.option(
    "--sort",
    type=click.Choice(SORTS),
    default="found",
    show_default=True,
    help="Newest found, newest published, or best score first.",
)
@click.option("--limit", type=COUNT, default=100, show_default=True)
@FORMAT
@click.pass_obj
def hits(obj: Context, /, form: str, **filters: Any) -> None:
    """List stored hits, newest first; `watcher show ID` prints one in full.

    \b
    Example:
        watcher hits --term "UNICORN antenna" --since 7d
        watcher hits --since 2026-11-01 --until 2026-11-30 --min-score 3 --undelivered
        watcher hits --sort score --format json --limit 20
        watcher hits --unread --since 1d
        watcher hits --judged --format json
    """
    with obj.store() as store:
        found = store.archive.hits(_query(obj, store, **filters))
    click.echo(render_hits(found, form, terminal_width()))
    if form == "table" and len(found) == filters["limit"]:
        click.echo(f"(the first {len(found)}; --limit for more, or `watcher export`)", err=True)


@cli.command()
@click.argument("number", metavar="ID", type=COUNT)
@click.option(
    "--article", is_flag=True, help="ID is an article's (from `watcher search`), not a hit's."
)
@FORMAT
@click.pass_obj
def show(obj: Context, number: int, article: bool, form: str) -> None:
    """Print a hit's article in full, every match of its terms marked.

    \b
    Example:
        watcher show 42
        watcher show --article 1234 --format json
    """
    with obj.store() as store:
        stored = store.archive.article(number) if article else store.archive.article_of_hit(number)
    if stored is None:
        where = "`watcher search`" if article else "`watcher hits`"
        raise ArgumentError(
            f"no {'article' if article else 'hit'} {number} in the database (see {where})"
        )
    hit_terms = {hit.term for hit in stored.hits}
    matcher = Matcher(term for term in obj.config.terms if term.name in hit_terms)
    spans = matcher.locate(stored.title, stored.text)
    click.echo(render_article(stored, spans, form, marks()))


@cli.command()
@click.argument("query")
@click.option("--feed", "feeds", multiple=True, metavar="NAME", help="Only this feed (repeatable).")
@click.option("--since", type=Since(), help="First seen since a duration ago (7d) or a date.")
@click.option(
    "--until", type=Until(), help="First seen before a duration ago or a date (included)."
)
@click.option("--limit", type=click.IntRange(min=1, max=1000), default=20, show_default=True)
@FORMAT
@click.pass_obj
def search(
    obj: Context,
    query: str,
    feeds: tuple[str, ...],
    since: datetime | None,
    until: datetime | None,
    limit: int,
    form: str,
) -> None:
    """Search every stored article, hit or not, best match first.

    QUERY is in the watch-term language (docs/queries.md), so a search shows
    what a new term would have caught. A broad query ranks the newest 5,000
    articles its words occur in; --since, --until or more words reach older
    ones. Exits 1 when nothing is found.

    \b
    Example:
        watcher search 'lithium NEAR/10 "rare earth*"'
        watcher search '=JWG OR "joint working group"' --since 30d --format json
    """
    with obj.store() as store:
        _known("feed", feeds, [f.name for f in obj.config.feeds], store.archive.stored_feeds())
        found = search_articles(
            store,
            query,
            since=since,
            until=until,
            feeds=feeds,
            limit=limit,
            aliases=obj.config.aliases,
        )
    click.echo(render_search(found, form, marks()))
    if not found:
        sys.exit(1)


@cli.command()
@click.option("--by", type=click.Choice(["day", "week"]), default="day", show_default=True)
@click.option("--term", "terms", multiple=True, metavar="NAME", help="Only this term (repeatable).")
@click.option(
    "--since",
    type=Since(),
    help="Found since a duration ago or a date [default: 30d by day, 26w by week].",
)
@click.option("--until", type=Until(), help="Found before a duration ago or a date (included).")
@FORMAT
@click.pass_obj
def stats(
    obj: Context,
    by: str,
    terms: tuple[str, ...],
    since: datetime | None,
    until: datetime | None,
    form: str,
) -> None:
    """Hits found per term per day or week (UTC), with a bar of each period's total.

    \b
    Example:
        watcher stats
        watcher stats --by week --since 2026-01-01 --format json
    """
    now = datetime.now(UTC)
    since = since or now - STATS_SPAN[by]
    with obj.store() as store:
        query = _query(
            obj,
            store,
            terms=terms,
            feeds=(),
            since=since,
            until=until,
            min_score=None,
            delivered=None,
        )
        # Nothing is found in the future: --until 9999-12-31 counts and shows up to today.
        end = None if query.until is None else min(query.until, now + timedelta(seconds=1))
        counts = store.archive.stats(since=query.since, until=end, terms=terms, by=by)
    shown = periods(since.date(), (min(end or now, now) - timedelta(seconds=1)).date(), by)
    click.echo(render_stats(counts, form, shown, [term.name for term in obj.config.terms], by))


def _write_file(output: Path, write: Callable[[TextIO], int]) -> int:
    """Write to `output` with `write`; a regular file is replaced only when complete.

    Anything else (a pipe, /dev/stdout, a device) is written in place: renaming
    a finished copy over it would put a regular file where the device was.
    """
    if not output.parent.is_dir():
        raise ArgumentError(f"--output {output}: no folder {output.parent}")
    in_place = output.exists() and not output.is_file()
    target = output if in_place else output.with_name(output.name + ".part")
    try:
        with target.open("w", encoding="utf-8", newline="") as out:
            count = write(out)
        if not in_place:
            os.replace(target, output)
    except OSError as exc:
        raise WatcherError(f"--output {output}: cannot write: {exc.strerror or exc}") from None
    finally:
        if not in_place:
            target.unlink(missing_ok=True)
    return count


@cli.command()
@hit_filters
@click.option(
    "--format",
    "form",
    type=click.Choice(["csv", "json", "ndjson"]),
    default="csv",
    show_default=True,
)
@click.option("--with-text", is_flag=True, help="Add each article's whole text.")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write to this file (replaced only when complete) instead of stdout.",
)
@click.pass_obj
def export(
    obj: Context, /, form: str, with_text: bool, output: Path | None, **filters: Any
) -> None:
    """Write every hit matching the filters, oldest first, for a spreadsheet or a script.

    \b
    Example:
        watcher export --since 2026-11-01 --until 2026-11-30 -o november.csv
        watcher export --format ndjson --term "UNICORN antenna" --with-text
    """
    with obj.store() as store:
        query = _query(obj, store, **filters, sort="oldest")
        found = store.archive.iter_hits(query, with_text=with_text)
        if output is None:
            count = write_hits(found, form, sys.stdout, with_text)
            sys.stdout.flush()
        else:
            count = _write_file(output, lambda out: write_hits(found, form, out, with_text))
    click.echo(f"exported {plural(count, 'hit')}" + (f" to {output}" if output else ""), err=True)
