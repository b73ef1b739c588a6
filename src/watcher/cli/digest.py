"""`watcher digest ...` and `watcher deliveries`: digests and the outbox."""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime

import click

from watcher.cli.base import (
    COUNT,
    EXIT_FAILED,
    FORMAT,
    Context,
    Since,
    cli,
)
from watcher.cli.render import plural, render_deliveries
from watcher.cli.tables import json_text
from watcher.delivery.digest import render, to_json
from watcher.delivery.dispatch import Dispatcher, Outcome, deliver_now
from watcher.ops.text import escape_controls


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
    obj: Context, channels: tuple[str, ...], since: datetime | None, kind: str
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
                click.echo(json_text(to_json(preview), indent=2))
            else:
                rendered = render(preview)
                click.echo(rendered.text if kind == "text" else rendered.html)


@digest.command("send")
@CHANNEL
@SINCE_HITS
@click.option("--retry-failed", is_flag=True, help="Give failed digests a new round of attempts.")
@click.pass_obj
def digest_send(
    obj: Context, channels: tuple[str, ...], since: datetime | None, retry_failed: bool
) -> None:
    """Send each channel's undelivered hits now, and every digest waiting for a retry.

    Exits 0 when everything due was delivered, 1 when a digest failed.

    \b
    Example:
        watcher digest send --channel desk
        watcher digest send --retry-failed
    """
    config = obj.config
    chosen = config.select_channels(channels)
    config.check_secrets(chosen)
    outcomes = asyncio.run(deliver_now(config, chosen, since, retry_failed))
    report_outcomes(outcomes)
    if not outcomes:
        click.echo("nothing to send", err=True)
    if any(outcome.status != "sent" for outcome in outcomes):
        sys.exit(EXIT_FAILED)


def report_outcomes(outcomes: list[Outcome]) -> None:
    for outcome in outcomes:
        line = (
            f"{outcome.status}: digest {outcome.digest} to {outcome.channel}, "
            f"{plural(outcome.hits, 'hit')}"
        )
        if outcome.error:
            line += f": {outcome.error}"
        click.echo(escape_controls(line), err=True)  # a receiver's answer is not ours


@cli.command()
@click.option(
    "--status", type=click.Choice(["pending", "sent", "failed"]), help="Only digests in this state."
)
@CHANNEL
@click.option("--limit", type=COUNT, default=50, show_default=True)
@FORMAT
@click.pass_obj
def deliveries(
    obj: Context, status: str | None, channels: tuple[str, ...], limit: int, form: str
) -> None:
    """List digests in the outbox, newest first: pending, sent and failed.

    \b
    Example:
        watcher deliveries --status failed
    """
    with obj.store() as store:
        found = store.outbox.deliveries(status=status, channels=channels, limit=limit)
    click.echo(render_deliveries(found, form))
