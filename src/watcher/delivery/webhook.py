"""Webhook digests: a JSON body, signed the Standard Webhooks way when a secret is set.

https://www.standardwebhooks.com/ : `webhook-id` (the digest id, the same on
every retry so receivers can drop repeats), `webhook-timestamp` (Unix seconds
of this attempt) and `webhook-signature` ("v1," + base64 HMAC-SHA256 over
"id.timestamp.body", keyed with the base64-decoded `whsec_` secret).
docs/webhooks.md describes the body.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

from watcher.config.channels import ChannelConfig, WebhookSettings, reveal, webhook_key
from watcher.delivery.digest import Digest, Rendered, to_json
from watcher.errors import DeliveryError, FetchError
from watcher.sources.http import Fetcher


def body(digest: Digest) -> bytes:
    return json.dumps(to_json(digest), ensure_ascii=False, separators=(",", ":")).encode()


def signature(key: bytes, message_id: str, timestamp: int, payload: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + payload
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


class WebhookSender:
    def __init__(self, channel: ChannelConfig, fetcher: Fetcher) -> None:
        assert isinstance(channel.settings, WebhookSettings)
        self.settings = channel.settings
        self.fetcher = fetcher

    async def send(self, digest: Digest, rendered: Rendered) -> None:
        payload = body(digest)
        timestamp = int(time.time())
        headers = {name: reveal(value) for name, value in self.settings.headers}
        headers |= {
            "Content-Type": "application/json",
            "webhook-id": digest.id,
            "webhook-timestamp": str(timestamp),
        }
        if self.settings.secret is not None:
            key = webhook_key(self.settings.secret)
            headers["webhook-signature"] = signature(key, digest.id, timestamp, payload)
        try:
            await self.fetcher.post(self.settings.url, payload, headers)
        except FetchError as exc:
            raise DeliveryError(str(exc), retry_after=exc.retry_after) from None
