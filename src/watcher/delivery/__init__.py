"""Delivery: one sender module per channel type, and the dispatcher that runs the outbox.

A sender hands one rendered digest to its channel and raises `DeliveryError`
when the channel did not accept it; it never touches the database. A new
channel type is a sender module here and its line in `SENDERS`, plus, in
channels.py, its settings class, its place in the `Settings` union, its keys
in `_CHANNEL_KEYS`, its reader in `_SETTINGS` and its name in the error that
lists the types.
"""

from __future__ import annotations

from typing import Protocol

from watcher.config.channels import ChannelConfig
from watcher.delivery.apprise import AppriseSender
from watcher.delivery.digest import Digest, Rendered
from watcher.delivery.email import EmailSender
from watcher.delivery.webhook import WebhookSender
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
