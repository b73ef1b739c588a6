"""`[web]`: where the web desk listens, the address its links use, who may use it."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from watcher.config.check import Checker, Where

DEFAULT_LISTEN = "127.0.0.1:8580"


@dataclass(frozen=True)
class WebConfig:
    """The web desk's settings (`[web]`)."""

    enabled: bool = False  # `watcher run` serves the desk from the same process
    listen: str = DEFAULT_LISTEN  # host:port
    # The desk's address as a reader of a digest reaches it (behind a reverse
    # proxy, its public URL); digest links start with it.
    url: str = f"http://{DEFAULT_LISTEN}"
    # A password hash (argon2 or bcrypt); required to listen beyond loopback.
    password_hash: str | None = None
    read_only: bool = False  # a shared screen: pages, no triage or editing

    @property
    def host(self) -> str:
        return self.listen.rpartition(":")[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.listen.rpartition(":")[2])

    @property
    def loopback(self) -> bool:
        """Whether only this machine can reach the desk."""
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


def web_config(checker: Checker, table: dict[str, Any]) -> WebConfig:
    """`[web]` checked: a listen address, an http(s) URL, a password off loopback."""
    at = Where("web")
    checker.known(table, {"enabled", "listen", "url", "password_hash", "read_only"}, at)
    listen = checker.text(table, "listen", at, default=DEFAULT_LISTEN)
    host, colon, port = listen.rpartition(":")
    if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise checker.fail(at, "listen", f"{listen!r} is not host:port (such as {DEFAULT_LISTEN})")
    url = f"http://{listen}"
    if "url" in table:
        url = checker.http_url(table, "url", at)
    password_hash = None
    if "password_hash" in table:
        password_hash = checker.text(table, "password_hash", at)
    web = WebConfig(
        enabled=checker.flag(table, "enabled", at, False),
        listen=listen,
        url=url.rstrip("/"),
        password_hash=password_hash,
        read_only=checker.flag(table, "read_only", at, False),
    )
    if not web.loopback and web.password_hash is None:
        raise checker.fail(
            at,
            "listen",
            f"{listen!r} is reachable from other machines: set password_hash"
            " (see docs/web.md) or listen on 127.0.0.1",
        )
    return web
