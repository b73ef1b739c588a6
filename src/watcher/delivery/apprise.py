"""Chat and push digests through apprise (Slack, Telegram, Discord, Teams, ...).

Optional: `pip install 'watcher[apprise]'`. Apprise URLs often carry tokens,
so each may be a secret (`env:NAME`). Apprise is blocking: it runs in a
worker thread. It only says whether every service accepted, not which
refused, so a failure is retried for all of them.
"""

from __future__ import annotations

import asyncio

from watcher.config.channels import AppriseSettings, ChannelConfig, reveal
from watcher.delivery.digest import Digest, Rendered
from watcher.errors import DeliveryError
from watcher.sources.http import Fetcher


class AppriseSender:
    def __init__(self, channel: ChannelConfig, fetcher: Fetcher) -> None:
        assert isinstance(channel.settings, AppriseSettings)
        self.channel = channel
        self.settings = channel.settings

    async def send(self, digest: Digest, rendered: Rendered) -> None:
        urls = [reveal(url) for url in self.settings.urls]
        await asyncio.to_thread(self._send, urls, rendered)

    def _send(self, urls: list[str], rendered: Rendered) -> None:
        import apprise

        notifier = apprise.Apprise()
        for index, url in enumerate(urls):
            if not notifier.add(url):
                raise DeliveryError(
                    f"channel {self.channel.name!r}: urls[{index}] is not a URL apprise knows"
                )
        accepted = notifier.notify(
            title=rendered.subject, body=rendered.text, body_format=apprise.NotifyFormat.TEXT
        )
        if not accepted:
            raise DeliveryError(
                f"channel {self.channel.name!r}: apprise could not notify every service"
            )
