"""The SQLite write lock hands the next turn to intake commits first."""

from __future__ import annotations

import asyncio

import pytest

from listserv.write_lock import WriteLock


async def test_urgent_waiters_go_first_and_order_is_kept_within_each_kind() -> None:
    lock = WriteLock()
    order: list[str] = []
    release = asyncio.Event()

    async def holder() -> None:
        async with lock.turn():
            await release.wait()

    async def writer(name: str, urgent: bool) -> None:
        async with lock.turn(urgent=urgent):
            order.append(name)

    first = asyncio.create_task(holder())
    await asyncio.sleep(0)
    tasks = [
        asyncio.create_task(writer("pipeline-1", False)),
        asyncio.create_task(writer("intake-1", True)),
        asyncio.create_task(writer("delivery-1", False)),
        asyncio.create_task(writer("intake-2", True)),
    ]
    await asyncio.sleep(0)
    release.set()
    await asyncio.gather(first, *tasks)
    assert order == ["intake-1", "intake-2", "pipeline-1", "delivery-1"]


async def test_a_cancelled_waiter_neither_blocks_nor_loses_the_lock() -> None:
    lock = WriteLock()
    release = asyncio.Event()

    async def holder() -> None:
        async with lock.turn():
            await release.wait()

    async def waiter() -> None:
        async with lock.turn(urgent=True):
            pass

    first = asyncio.create_task(holder())
    await asyncio.sleep(0)
    cancelled = asyncio.create_task(waiter())
    await asyncio.sleep(0)
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    release.set()
    await first
    async with asyncio.timeout(1):
        async with lock.turn():
            pass
