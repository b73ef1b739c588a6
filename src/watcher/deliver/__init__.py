"""Delivery: one sender module per channel type, and the dispatcher that runs the outbox.

A sender hands one rendered digest to its channel and raises `DeliveryError`
when the channel did not accept it; it never touches the database. A new
channel type is one module and one line in `SENDERS`.
"""

from __future__ import annotations

from typing import Protocol

from watcher.channels import ChannelConfig
from watcher.deliver.apprise import AppriseSender
from watcher.deliver.email import EmailSender
from watcher.deliver.webhook import WebhookSender
from watcher.digest import Rendered
from watcher.models import Digest
from watcher.sources.http import Fetcher


class Sender(Protocol):
    async def send(self, digest: Digest, rendered: Rendered) -> None:
        """Hand the digest to the channel; raise `DeliveryError` unless it was accepted."""


SENDERS: dict[str, type[EmailSender] | type[WebhookSender] | type[AppriseSender]] = {
    "email": EmailSender,
    "webhook": WebhookSender,
    "apprise": AppriseSender,
}


def sender_for(channel: ChannelConfig, fetcher: Fetcher) -> Sender:
    """The sender for a channel's type, set up with its settings."""
    return SENDERS[channel.type](channel, fetcher)
