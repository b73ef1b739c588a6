"""`watcher terms ...`: list the watch-terms and try them on a text or page."""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

import click

from watcher.cli.base import (
    EXIT_FAILED,
    FORMAT,
    Context,
    cli,
    marks,
)
from watcher.errors import FetchError
from watcher.formats import (
    render_matches,
    render_terms,
)
from watcher.pipeline import fetch_article
from watcher.terms import Matcher, compile_term


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
def terms_list(obj: Context, form: str) -> None:
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
    obj: Context,
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
        [compile_term("QUERY", query, obj.config.aliases)]
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
    click.echo(render_matches(matches, marks()))
    if not matches:
        sys.exit(EXIT_FAILED)
