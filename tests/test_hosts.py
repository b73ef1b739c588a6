"""Per-host limits: one semaphore per host, shared by every request to that host."""

from __future__ import annotations

import asyncio

from watcher.sources.hosts import HostLimits


def test_one_host_gets_one_semaphore_and_others_their_own() -> None:
    async def go() -> tuple[bool, bool]:
        hosts = HostLimits(2)
        return hosts["a.test"] is hosts["a.test"], hosts["a.test"] is hosts["b.test"]

    assert asyncio.run(go()) == (True, False)


def test_a_host_has_at_most_per_host_going_while_another_host_is_free() -> None:
    async def go() -> tuple[int, bool]:
        hosts = HostLimits(2)
        most = going = 0

        async def one() -> None:
            nonlocal most, going
            async with hosts["a.test"]:
                going += 1
                most = max(most, going)
                await asyncio.sleep(0.01)
                going -= 1

        await asyncio.gather(*(one() for _ in range(6)))
        async with hosts["a.test"], hosts["a.test"]:  # a.test full: b.test still free
            return most, not hosts["b.test"].locked()

    assert asyncio.run(go()) == (2, True)
