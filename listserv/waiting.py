"""How the workers wait: until woken, told to stop, or a poll interval passes.

The wake-up events cover work made in this process; the poll covers work made
by another process sharing the database, and retries that fall due.
"""

from __future__ import annotations

import asyncio


async def wait_for_work(wake: asyncio.Event, stopping: asyncio.Event, poll: float) -> None:
    wake.clear()
    waiters = [asyncio.ensure_future(wake.wait()), asyncio.ensure_future(stopping.wait())]
    _, pending = await asyncio.wait(waiters, timeout=poll, return_when=asyncio.FIRST_COMPLETED)
    for waiter in pending:
        waiter.cancel()
