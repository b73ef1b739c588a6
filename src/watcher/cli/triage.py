"""`watcher mark`, `mute` and `snooze`: triage from the command line (as on the web desk)."""

from __future__ import annotations

import difflib
from datetime import UTC, datetime, timedelta
from typing import Any

import click

from watcher.app.triage import (
    Verdict,
    judge_article,
    judge_hits,
    mark_read,
    mute_story,
    muted_stories,
    snooze_term,
    snoozed_terms,
    unmute_story,
    wake_term,
)
from watcher.cli.base import COUNT, Context, cli
from watcher.config.load import parse_duration
from watcher.errors import ArgumentError
from watcher.ops.text import escape_controls
from watcher.store import Storage

_VERDICTS: dict[str, Verdict | None] = {
    "relevant": "relevant",
    "not_relevant": "not_relevant",
    "important": "important",
    "clear": None,
}


class Duration(click.ParamType):  # type: ignore[type-arg]
    """A length of time as the config writes it: "90m", "36h", "7d"."""

    name = "duration"

    def convert(self, value: Any, param: Any, ctx: Any) -> timedelta:
        if isinstance(value, timedelta):
            return value
        try:
            return timedelta(seconds=parse_duration(str(value)))
        except ValueError as exc:
            self.fail(str(exc))


@cli.command()
@click.argument("numbers", metavar="ID...", type=COUNT, nargs=-1, required=True)
@click.option("--read", "read", flag_value=True, default=None, help="Mark read.")
@click.option("--unread", "read", flag_value=False, help="Mark unread again.")
@click.option("--relevant", "verdict", flag_value="relevant", help="Judge relevant.")
@click.option("--not-relevant", "verdict", flag_value="not_relevant", help="Judge not relevant.")
@click.option("--important", "verdict", flag_value="important", help="Judge important.")
@click.option("--clear", "verdict", flag_value="clear", help="Forget the verdict.")
@click.option(
    "--article",
    "term",
    metavar="TERM",
    help="The IDs are articles' (from `watcher search`), judged for this term.",
)
@click.pass_obj
def mark(
    obj: Context,
    numbers: tuple[int, ...],
    read: bool | None,
    verdict: str | None,
    term: str | None,
) -> None:
    """Mark hits read or unread, and judge them relevant, not relevant or important.

    Digests leave out hits judged not relevant; `watcher terms eval --judged`
    turns the verdicts into each term's precision. With --article, judge
    articles a term missed (found by `watcher search`): one judged relevant
    counts as the term's miss.

    \b
    Example:
        watcher mark 42 --not-relevant
        watcher mark 42 43 44 --read --important
        watcher mark --article "UNICORN antenna" 1234 --relevant
    """
    if read is None and verdict is None:
        raise ArgumentError(
            "say what to mark: --read, --unread, --relevant, --not-relevant, --important or --clear"
        )
    now = datetime.now(UTC)
    if term is not None:
        if verdict is None:
            raise ArgumentError("--article judges articles: give a verdict, not --read/--unread")
        _known_term(obj, term)
        with obj.store() as store:
            for number in numbers:
                judge_article(store, number, term, _VERDICTS[verdict], now)
        click.echo(f"judged {_count(numbers, 'article')} for {term!r}: {_said(verdict)}")
        return
    with obj.store() as store:
        if read is not None:
            mark_read(store, numbers, now, read=read)
        if verdict is not None:
            judge_hits(store, numbers, _VERDICTS[verdict], now)
    done = [] if read is None else ["read" if read else "unread"]
    if verdict is not None:
        done.append(_said(verdict))
    click.echo(f"marked {_count(numbers, 'hit')}: {', '.join(done)}")


@cli.command()
@click.argument("number", metavar="[ID]", type=COUNT, required=False)
@click.option(
    "--story", is_flag=True, help="ID is a story's (`cluster` in `watcher hits`), not a hit's."
)
@click.option("--for", "length", type=Duration(), help="For this long (7d); without: for ever.")
@click.option("--off", is_flag=True, help="End the mute now.")
@click.pass_obj
def mute(
    obj: Context, number: int | None, story: bool, length: timedelta | None, off: bool
) -> None:
    """Mute the story a hit belongs to: its copies are stored and listed, not sent.

    Without ID, list the stories muted now.

    \b
    Example:
        watcher mute 42 --for 7d
        watcher mute --story 17 --off
        watcher mute
    """
    now = datetime.now(UTC)
    if number is None:
        with obj.reader() as store:
            muted = muted_stories(store, now)
        for item in muted:
            until = f"until {_minute(item.until)}" if item.until else "for ever"
            click.echo(f"story {item.cluster}  {until}  {escape_controls(item.title)}")
        if not muted:
            click.echo("no story is muted")
        return
    if off and length is not None:
        raise ArgumentError("--off and --for exclude each other: give one")
    with obj.store() as store:
        cluster = number if story else _story_of(store, number)
        if off:
            unmute_story(store, cluster, now)
            click.echo(f"story {cluster} is no longer muted")
            return
        mute_story(store, cluster, now, now + length if length else None)
    until = f"until {_minute(now + length)}" if length else "for ever"
    click.echo(f"story {cluster} muted {until}")


@cli.command()
@click.argument("term", required=False)
@click.option("--for", "length", type=Duration(), help="For this long (2d).")
@click.option("--off", is_flag=True, help="Wake the term now.")
@click.pass_obj
def snooze(obj: Context, term: str | None, length: timedelta | None, off: bool) -> None:
    """Snooze a watch-term for a while: its hits are stored and listed, not sent.

    Without TERM, list the terms snoozed now.

    \b
    Example:
        watcher snooze "UNICORN antenna" --for 2d
        watcher snooze "UNICORN antenna" --off
        watcher snooze
    """
    now = datetime.now(UTC)
    if term is None:
        with obj.reader() as store:
            snoozed = snoozed_terms(store, now)
        for item in snoozed:
            click.echo(f"{escape_controls(item.term)}  until {_minute(item.until)}")
        if not snoozed:
            click.echo("no term is snoozed")
        return
    if off == (length is not None):
        raise ArgumentError("give --for DURATION to snooze, or --off to wake the term")
    with obj.store() as store:
        if off:
            wake_term(store, term, now)
            click.echo(f"{term!r} is awake")
            return
        _known_term(obj, term)
        assert length is not None
        snooze_term(store, term, now + length, now)
    click.echo(f"{term!r} snoozed until {_minute(now + length)}")


def _story_of(store: Storage, hit_id: int) -> int:
    """The story (cluster) of a hit."""
    found = store.archive.hits(ids=[hit_id])
    if not found:
        raise ArgumentError(f"no hit {hit_id} in the database (see `watcher hits`)")
    if found[0].cluster is None:  # every stored article has one since m003
        raise ArgumentError(f"hit {hit_id} belongs to no story")
    return found[0].cluster


def _known_term(obj: Context, term: str) -> None:
    names = [t.name for t in obj.config.terms]
    if term not in names:
        close = difflib.get_close_matches(term, names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ArgumentError(f"no term named {term!r} in the config{hint}")


def _said(verdict: str) -> str:
    return "verdict cleared" if verdict == "clear" else verdict.replace("_", " ")


def _count(numbers: tuple[int, ...], noun: str) -> str:
    return f"{noun} {numbers[0]}" if len(numbers) == 1 else f"{len(numbers)} {noun}s"


def _minute(moment: datetime | str) -> str:
    """ "2026-11-27 08:30 UTC" """
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
