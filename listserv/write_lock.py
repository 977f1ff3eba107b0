"""The turn to write to SQLite, with SMTP intake served first.

SQLite has one writer at a time. Writers of this process queue on the event
loop (not in SQLite's busy handler, whose back-off sleeps up to 100 ms a
try). A client waiting for its `250` is waiting on the intake commit, while
the pipeline's and delivery's writes wait on nobody, so intake commits take
the next turn ahead of them: the lock is handed to the oldest urgent waiter
first, then to the oldest other one.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class WriteLock:
    def __init__(self) -> None:
        self._held = False
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._others: deque[asyncio.Future[None]] = deque()

    @asynccontextmanager
    async def turn(self, *, urgent: bool = False) -> AsyncIterator[None]:
        await self._acquire(urgent)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, urgent: bool) -> None:
        if not self._held and not self._urgent and not self._others:
            self._held = True
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        (self._urgent if urgent else self._others).append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release()  # it was handed to us as we were cancelled: pass it on
            else:
                (self._urgent if urgent else self._others).remove(waiter)
            raise

    def _release(self) -> None:
        for queue in (self._urgent, self._others):
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_result(None)  # the lock passes on, still held
                    return
        self._held = False
