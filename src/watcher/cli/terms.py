"""`watcher terms ...`: list the watch-terms and try them on a text or page."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TextIO

import click

from watcher.app.oneshot import fetch_article
from watcher.cli.base import (
    EXIT_FAILED,
    FORMAT,
    Context,
    cli,
    marks,
    terminal_width,
)
from watcher.errors import FetchError
from watcher.formats import (
    render_matches,
    render_terms,
)
from watcher.match import (
    PARTS,
    Matcher,
    compile_term,
    evaluate,
    explain_miss,
    render_evaluation,
    render_miss,
)


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
    click.echo(render_terms(obj.config.terms, form, terminal_width()))


@terms.command("eval")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option(
    "--part",
    type=click.Choice(PARTS),
    default="all",
    show_default=True,
    help="held-out: files numbered 003, 006, ... (divisible by 3); tuning: the others.",
)
@click.option("--min-recall", type=click.FloatRange(0, 1), default=0.0, help="Exit 1 below this.")
@click.option(
    "--min-precision", type=click.FloatRange(0, 1), default=0.0, help="Exit 1 below this."
)
@click.option("--format", "form", type=click.Choice(["text", "json"]), default="text")
@click.pass_obj
def terms_eval(
    obj: Context, directory: Path, part: str, min_recall: float, min_precision: float, form: str
) -> None:
    """Score every term on a folder of labelled texts: recall, precision, misses by file.

    The folder holds NNN.txt files in the format of tests/corpus/ (see
    docs/queries.md). Exits 1 when a term falls below --min-recall or
    --min-precision.

    \b
    Example:
        watcher terms eval tests/corpus --part held-out --min-recall 0.95 --min-precision 0.9
    """
    evaluation = evaluate(obj.config.terms, directory, part)
    shortfalls = evaluation.shortfalls(min_recall, min_precision)
    click.echo(render_evaluation(evaluation, form, shortfalls))
    if shortfalls:
        sys.exit(EXIT_FAILED)


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

    Without a match, shows why: which parts of the query were found (where,
    with a snippet), which were not, and how near the sides of each NEAR came.
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
        for term in chosen:
            click.echo(f"why {term.name} does not match:")
            click.echo(render_miss(explain_miss(term, title, body), marks()))
        sys.exit(EXIT_FAILED)
