"""Webhook digests: a JSON body, signed the Standard Webhooks way when a secret is set.

https://www.standardwebhooks.com/ : `webhook-id` (the digest id, the same on
every retry so receivers can drop repeats), `webhook-timestamp` (Unix seconds
of this attempt) and `webhook-signature` ("v1," + base64 HMAC-SHA256 over
"id.timestamp.body", keyed with the base64-decoded `whsec_` secret).
docs/webhooks.md describes the body.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time

from watcher.channels import ChannelConfig, Secret, WebhookSettings, reveal
from watcher.digest import Rendered, to_json
from watcher.errors import ConfigError, DeliveryError, FetchError
from watcher.fetch import Fetcher
from watcher.models import Digest


def body(digest: Digest) -> bytes:
    return json.dumps(to_json(digest), ensure_ascii=False, separators=(",", ":")).encode()


def signing_key(secret: Secret) -> bytes:
    """The HMAC key of a `whsec_<base64>` secret (the prefix is optional)."""
    text = secret.reveal().strip().removeprefix("whsec_")
    try:
        key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(f"secret {secret.ref}: not a base64 webhook secret (whsec_...)") from None
    if not key:
        raise ConfigError(f"secret {secret.ref}: empty webhook secret")
    return key


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
            key = signing_key(self.settings.secret)
            headers["webhook-signature"] = signature(key, digest.id, timestamp, payload)
        try:
            await self.fetcher.post(self.settings.url, payload, headers)
        except FetchError as exc:
            raise DeliveryError(str(exc), retry_after=exc.retry_after) from None
