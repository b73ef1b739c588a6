"""Per-host limits: one semaphore per host in use, shared by every request to that host."""

from __future__ import annotations

import asyncio

from watcher.sources.hosts import HostLimits


def test_a_host_has_at_most_per_host_going_while_another_host_is_free() -> None:
    async def go() -> tuple[int, bool]:
        hosts = HostLimits(2)
        most = going = 0

        async def one() -> None:
            nonlocal most, going
            async with hosts.hold("a.test"):
                going += 1
                most = max(most, going)
                await asyncio.sleep(0.01)
                going -= 1

        await asyncio.gather(*(one() for _ in range(6)))
        async with hosts.hold("a.test"), hosts.hold("a.test"):  # a.test full: b.test still free
            b_free = await asyncio.wait_for(hosts.acquire("b.test"), 1)
            b_free()
            return most, True

    assert asyncio.run(go()) == (2, True)


def test_a_host_no_one_uses_any_more_is_forgotten() -> None:
    """Article links name hosts without end; a service that runs for months must not
    keep a semaphore for each host it ever saw."""

    async def go() -> tuple[int, int, int]:
        hosts = HostLimits(1)
        for number in range(1000):
            async with hosts.hold(f"host{number}.test"):
                pass
        release = await hosts.acquire("slow.test")
        waiter = asyncio.create_task(hosts.acquire("slow.test"))
        await asyncio.sleep(0)
        in_use = len(hosts)
        waiter.cancel()  # a fetch cancelled while it waited for its turn
        await asyncio.gather(waiter, return_exceptions=True)
        release()
        release()  # twice is once
        return in_use, len(hosts), hosts._hosts.get("slow.test") is None

    assert asyncio.run(go()) == (1, 0, True)


def test_a_turn_given_back_lets_the_next_waiter_in() -> None:
    async def go() -> list[str]:
        hosts = HostLimits(1)
        order: list[str] = []
        first = await hosts.acquire("a.test")

        async def second() -> None:
            async with hosts.hold("a.test"):
                order.append("second")

        task = asyncio.create_task(second())
        await asyncio.sleep(0.01)
        order.append("first done")
        first()
        await task
        return order

    assert asyncio.run(go()) == ["first done", "second"]
