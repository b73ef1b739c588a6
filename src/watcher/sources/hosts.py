"""How many requests or pages one host may have going at once: one semaphore per host."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass


@dataclass
class _Host:
    semaphore: asyncio.Semaphore
    users: int = 0  # holding a turn or waiting for one


class HostLimits:
    """At most `per_host` at once for each host.

    A host's semaphore exists while someone holds or awaits a turn there, and
    goes with its last user: article links name hosts without end, and a
    service runs for months.

    Each fetcher and each page gate keeps its own: they bound different things
    (requests in flight, pages in hand) by the same per-host setting.
    """

    def __init__(self, per_host: int) -> None:
        self.per_host = per_host
        self._hosts: dict[str, _Host] = {}

    def __len__(self) -> int:
        """How many hosts are in use now."""
        return len(self._hosts)

    async def acquire(self, host: str) -> Callable[[], None]:
        """Wait for a turn at `host` ("" for a URL without one); returns what gives it
        back (calling it again does nothing)."""
        entry = self._hosts.get(host)
        if entry is None:
            entry = self._hosts[host] = _Host(asyncio.Semaphore(self.per_host))
        entry.users += 1
        try:
            await entry.semaphore.acquire()
        except BaseException:  # cancelled while waiting: it never had a turn
            self._leave(host, entry)
            raise
        held = True

        def release() -> None:
            nonlocal held
            if held:
                held = False
                entry.semaphore.release()
                self._leave(host, entry)

        return release

    @contextlib.asynccontextmanager
    async def hold(self, host: str) -> AsyncIterator[None]:
        """A turn at `host` for the block."""
        release = await self.acquire(host)
        try:
            yield
        finally:
            release()

    def _leave(self, host: str, entry: _Host) -> None:
        entry.users -= 1
        if entry.users == 0:
            del self._hosts[host]
