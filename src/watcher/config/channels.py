"""The `[[channels]]` and `[delivery]` settings: where digests go, when, and with which secrets.

A channel names its secrets (`env:NAME` or `credential:NAME`) instead of
holding them, so the config file can be shared and committed; a literal
password in the file is an error.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from apscheduler.triggers.cron import CronTrigger

from watcher.config.check import Checker, Where
from watcher.errors import ConfigError

_ADDRESS = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+$")
_SECRET = re.compile(r"^(env|credential):([A-Za-z0-9_.@-]+)$")
_COMMON_KEYS = {"name", "type", "schedule", "timezone", "terms", "min_score", "send_empty"}
_CHANNEL_KEYS = {
    "email": {"host", "port", "security", "username", "password", "from", "to", "ca_file"},
    "webhook": {"url", "headers", "secret"},
    "apprise": {"urls"},
}
SMTP_PORTS = {"starttls": 587, "tls": 465, "none": 25}


@dataclass(frozen=True)
class Secret:
    """A secret the config names but never holds: `env:NAME` or `credential:NAME`.

    `credential:` reads a systemd credential ($CREDENTIALS_DIRECTORY/NAME, from
    LoadCredential= in the unit). The value is read only when it is used and
    never appears in a repr, a log line or an error.
    """

    ref: str

    def reveal(self) -> str:
        source, _, name = self.ref.partition(":")
        if source == "env":
            value = os.environ.get(name)
            if value is None:
                raise ConfigError(f"secret {self.ref}: environment variable {name} is not set")
            return value
        folder = os.environ.get("CREDENTIALS_DIRECTORY")
        if not folder:
            raise ConfigError(
                f"secret {self.ref}: $CREDENTIALS_DIRECTORY is not set"
                " (systemd sets it for LoadCredential=)"
            )
        try:
            return (Path(folder) / name).read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise ConfigError(
                f"secret {self.ref}: cannot read credential: {exc.strerror}"
            ) from None


def webhook_key(secret: Secret) -> bytes:
    """The HMAC key of a `whsec_<base64>` webhook secret (the prefix is optional)."""
    text = secret.reveal().strip().removeprefix("whsec_")
    try:
        key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(f"secret {secret.ref}: not a base64 webhook secret (whsec_...)") from None
    if not key:
        raise ConfigError(f"secret {secret.ref}: empty webhook secret")
    return key


def reveal(value: str | Secret) -> str:
    """A setting that may be plain or a secret, as its value."""
    return value.reveal() if isinstance(value, Secret) else value


@dataclass(frozen=True)
class EmailSettings:
    host: str
    port: int
    security: str  # "starttls", "tls" (implicit, port 465) or "none"
    sender: str
    to: tuple[str, ...]
    username: str | None = None
    password: Secret | None = None
    ca_file: Path | None = None  # trust this CA too (a private mail relay)


@dataclass(frozen=True)
class WebhookSettings:
    url: str
    headers: tuple[tuple[str, str | Secret], ...] = ()
    secret: Secret | None = None  # signs each body the Standard Webhooks way


@dataclass(frozen=True)
class AppriseSettings:
    urls: tuple[str | Secret, ...]


Settings = EmailSettings | WebhookSettings | AppriseSettings


@dataclass(frozen=True)
class ChannelConfig:
    """Where digests go, when, and which hits they carry."""

    name: str
    type: str  # "email", "webhook" or "apprise"
    schedule: str  # a cron expression, or "immediate" for an alert after each poll
    timezone: str
    settings: Settings
    terms: tuple[str, ...] = ()  # empty: every term
    min_score: float = 0.0
    send_empty: bool = False

    @property
    def immediate(self) -> bool:
        return self.schedule == "immediate"

    def secrets(self) -> list[Secret]:
        values: list[object] = list(vars(self.settings).values())
        if isinstance(self.settings, WebhookSettings):
            values += [value for _, value in self.settings.headers]
        if isinstance(self.settings, AppriseSettings):
            values += self.settings.urls
        return [value for value in values if isinstance(value, Secret)]

    def check_secrets(self) -> None:
        """Read each secret once and check its form: a mistake is a `ConfigError` before a send.

        A malformed webhook secret would otherwise fail every attempt, retried
        as if the receiver were down.
        """
        for secret in self.secrets():
            secret.reveal()
        if isinstance(self.settings, WebhookSettings) and self.settings.secret is not None:
            webhook_key(self.settings.secret)


@dataclass(frozen=True)
class DeliveryConfig:
    max_attempts: int = 10  # then the digest stays failed, visible in `watcher deliveries`
    retry_base: float = 60.0  # seconds before the first retry; doubled each time, jittered
    retry_max: float = 21600.0
    timezone: str = "UTC"  # of the channels' cron schedules, unless a channel sets its own
    failing_notice: float = 86400.0  # digests list feeds failing for longer than this
    backfill: float = 86400.0  # a new channel is first sent the hits of this long before it
    # Seconds a digest claimed for sending stays the sender's when several processes share a
    # database (issue 20): one killed mid-send leaves it to the others after this long.
    lease: float = 300.0


def delivery_config(check: Checker, table: dict[str, Any], timeout: float) -> DeliveryConfig:
    """`[delivery]`; `timeout` is [fetch]'s, which webhook posts are sent within."""
    at = Where("delivery")
    check.known(table, {field.name for field in fields(DeliveryConfig)}, at)
    retry_base = check.duration(table, "retry_base", at, default="1m")
    retry_max = check.duration(table, "retry_max", at, default="6h")
    if retry_base > retry_max:
        raise check.fail(at, "retry_base", "must not be longer than retry_max")
    return DeliveryConfig(
        max_attempts=check.integer(table, "max_attempts", at, 10, 1),
        retry_base=retry_base,
        retry_max=retry_max,
        timezone=check.timezone(table, "timezone", at, "UTC"),
        failing_notice=check.duration(table, "failing_notice", at, default="1d"),
        backfill=check.duration(table, "backfill", at, default="1d"),
        # A webhook post's deadline is the timeout. A send that outlasts the lease (a slow
        # SMTP server) may be sent again by another process, with the same id.
        lease=check.lease(table, at, "5m", timeout),
    )


def channel_configs(
    check: Checker, tables: list[dict[str, Any]], delivery: DeliveryConfig, terms: set[str]
) -> tuple[ChannelConfig, ...]:
    """Each `[[channels]]` table checked: its type's keys, schedule, terms and secrets."""
    channels: list[ChannelConfig] = []
    for index, table in enumerate(tables):
        at = Where("channels", index)
        kind = check.text(table, "type", at)
        if kind not in _CHANNEL_KEYS:
            raise check.fail(at, "type", f"{kind!r} is not one of: email, webhook, apprise")
        check.known(table, _COMMON_KEYS | _CHANNEL_KEYS[kind], at)
        name = check.text(table, "name", at)
        if any(channel.name == name for channel in channels):
            raise check.fail(at, "name", f"duplicate channel name {name!r}")
        timezone = check.timezone(table, "timezone", at, delivery.timezone)
        schedule = check.text(table, "schedule", at, default="0 7 * * *")
        if schedule != "immediate":
            try:
                CronTrigger.from_crontab(schedule, timezone=timezone)
            except ValueError as exc:
                raise check.fail(
                    at, "schedule", f"{schedule!r} is not a cron expression or immediate ({exc})"
                ) from None
        chosen = check.texts(table, "terms", at, required=False)
        for term in chosen:
            if term not in terms:
                raise check.fail(at, "terms", f"no term named {term!r}")
        min_score = table.get("min_score", 0)
        if isinstance(min_score, bool) or not isinstance(min_score, int | float):
            raise check.fail(at, "min_score", "must be a number")
        settings = _SETTINGS[kind]
        channels.append(
            ChannelConfig(
                name=name,
                type=kind,
                schedule=schedule,
                timezone=timezone,
                settings=settings(check, table, at),
                terms=chosen,
                min_score=float(min_score),
                send_empty=check.flag(table, "send_empty", at, False),
            )
        )
    return tuple(channels)


_SETTINGS: dict[str, Callable[[Checker, dict[str, Any], Where], Settings]]


def _secret(check: Checker, table: dict[str, Any], key: str, at: Where) -> Secret | None:
    if key not in table:
        return None
    text = check.text(table, key, at)
    if not _SECRET.match(text):
        raise check.fail(at, key, "write secrets as env:NAME or credential:NAME, never in the file")
    return Secret(text)


def _maybe_secret(text: str) -> str | Secret:
    """A value that may name a secret (an Authorization header, an apprise URL with a token)."""
    return Secret(text) if _SECRET.match(text) else text


def _email(check: Checker, table: dict[str, Any], at: Where) -> EmailSettings:
    security = check.text(table, "security", at, default="starttls")
    if security not in SMTP_PORTS:
        raise check.fail(at, "security", f"{security!r} is not one of: starttls, tls, none")
    sender = check.text(table, "from", at)
    if not _ADDRESS.match(sender):
        raise check.fail(at, "from", f"{sender!r} is not an email address")
    to = check.texts(table, "to", at)
    for address in to:
        if not _ADDRESS.match(address):
            raise check.fail(at, "to", f"{address!r} is not an email address")
    username = check.text(table, "username", at) if "username" in table else None
    password = _secret(check, table, "password", at)
    if (username is None) != (password is None):
        raise check.fail(at, "password", "give both username and password, or neither")
    ca_file = check.text(table, "ca_file", at) if "ca_file" in table else None
    return EmailSettings(
        host=check.text(table, "host", at),
        port=check.integer(table, "port", at, SMTP_PORTS[security], 1),
        security=security,
        sender=sender,
        to=to,
        username=username,
        password=password,
        ca_file=check.beside(ca_file) if ca_file else None,
    )


def _webhook(check: Checker, table: dict[str, Any], at: Where) -> WebhookSettings:
    url = check.http_url(table, "url", at)
    headers = table.get("headers", {})
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise check.fail(at, "headers", 'must be a table of strings like { X-Team = "desk" }')
    reserved = {"content-type", "webhook-id", "webhook-timestamp", "webhook-signature"}
    for key in headers:
        if key.lower() in reserved:
            raise check.fail(at, "headers", f"{key!r} is set by watcher itself")
    return WebhookSettings(
        url=url,
        headers=tuple((key, _maybe_secret(value)) for key, value in headers.items()),
        secret=_secret(check, table, "secret", at),
    )


def _apprise(check: Checker, table: dict[str, Any], at: Where) -> AppriseSettings:
    try:
        import apprise  # noqa: F401
    except ImportError:
        raise check.fail(
            at, "type", "apprise channels need the extra: pip install 'watcher[apprise]'"
        ) from None
    return AppriseSettings(urls=tuple(map(_maybe_secret, check.texts(table, "urls", at))))


_SETTINGS = {"email": _email, "webhook": _webhook, "apprise": _apprise}
