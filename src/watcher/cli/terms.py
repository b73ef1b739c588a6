"""`watcher terms ...`: list the watch-terms and try them on a text or page."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import click

from watcher.app.judged import JudgedScore, judged_scores
from watcher.app.oneshot import fetch_article
from watcher.cli.base import (
    EXIT_FAILED,
    FORMAT,
    Context,
    cli,
    marks,
    terminal_width,
)
from watcher.cli.render import (
    render_matches,
    render_terms,
)
from watcher.errors import ArgumentError, FetchError
from watcher.match import (
    PARTS,
    Matcher,
    compile_term,
    evaluate,
    explain_miss,
    render_evaluation,
    render_miss,
)
from watcher.ops.text import escape_controls


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
@click.argument("directory", type=click.Path(path_type=Path), required=False)
@click.option(
    "--judged", is_flag=True, help="Score the terms on the judgements stored by `watcher mark`."
)
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
    obj: Context,
    directory: Path | None,
    judged: bool,
    part: str,
    min_recall: float,
    min_precision: float,
    form: str,
) -> None:
    """Score every term on a folder of labelled texts: recall, precision, misses by file.

    The folder holds NNN.txt files in the format of tests/corpus/ (see
    docs/queries.md). With --judged instead, score them on the database's
    judgements (`watcher mark`): precision from the hits judged, recall from
    the articles judged relevant that a term missed. Exits 1 when a term
    falls below --min-recall or --min-precision.

    \b
    Example:
        watcher terms eval tests/corpus --part held-out --min-recall 0.95 --min-precision 0.9
        watcher terms eval --judged --min-precision 0.8
    """
    if (directory is None) == (not judged):
        raise ArgumentError("give a DIRECTORY of labelled texts, or --judged")
    if judged:
        with obj.reader() as store:
            scores = judged_scores(store, [term.name for term in obj.config.terms])
        failing = [
            score.term
            for score in scores
            if (score.precision is not None and score.precision < min_precision)
            or (score.recall is not None and score.recall < min_recall)
        ]
        click.echo(render_judged(scores, form, failing))
        if failing:
            sys.exit(EXIT_FAILED)
        return
    assert directory is not None
    evaluation = evaluate(obj.config.terms, directory, part)
    shortfalls = evaluation.shortfalls(min_recall, min_precision)
    click.echo(render_evaluation(evaluation, form, shortfalls))
    if shortfalls:
        sys.exit(EXIT_FAILED)


def render_judged(scores: Sequence[JudgedScore], form: str, failing: Sequence[str]) -> str:
    """The judged scores as a table with the counts each figure rests on, or as JSON."""
    if form == "json":
        return json.dumps(
            {
                "terms": [
                    {
                        "term": s.term,
                        "judged": s.judged,
                        "relevant": s.relevant,
                        "important": s.important,
                        "not_relevant": s.not_relevant,
                        "missed": s.missed,
                        "passed": s.passed,
                        "precision": s.precision,
                        "recall": s.recall,
                    }
                    for s in scores
                ],
                "shortfalls": list(failing),
            },
            ensure_ascii=False,
            indent=2,
        )
    if not scores:
        return "no judgements yet: mark hits with `watcher mark ID --relevant|--not-relevant`"
    width = max([len("term"), *(len(s.term) for s in scores)])
    lines = [
        f"{'term':<{width}}  judged  relevant  not relevant  precision  missed  recall",
        *(
            f"{escape_controls(s.term):<{width}}  {s.judged:>6}  {s.relevant:>8}"
            f"  {s.not_relevant:>12}  {_ratio(s.precision):>9}  {s.missed:>6}"
            f"  {_ratio(s.recall):>6}"
            for s in scores
        ),
        "",
        "precision: relevant / judged hits; recall: relevant / (relevant + missed), where",
        "missed counts articles judged relevant that the term did not hit (`watcher mark",
        "--article TERM ID`); recall shows once an article the term missed was judged.",
    ]
    if failing:
        lines.append("below the minimum: " + ", ".join(map(escape_controls, failing)))
    return "\n".join(lines)


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


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
