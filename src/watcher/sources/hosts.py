"""How many requests or pages one host may have going at once: one semaphore per host."""

from __future__ import annotations

import asyncio


class HostLimits:
    """At most `per_host` at once for each host, a semaphore made on a host's first use.

    Each fetcher and each page gate keeps its own: they bound different things
    (requests in flight, pages in hand) by the same per-host setting.
    """

    def __init__(self, per_host: int) -> None:
        self.per_host = per_host
        self._hosts: dict[str, asyncio.Semaphore] = {}

    def __getitem__(self, host: str) -> asyncio.Semaphore:
        """The semaphore of `host` (an empty string for a URL without one)."""
        found = self._hosts.get(host)
        if found is None:
            found = self._hosts[host] = asyncio.Semaphore(self.per_host)
        return found
