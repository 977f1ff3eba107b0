"""Archive forms are made in a child process, with time and memory limits.

De-attribution parses whatever members send: PDFs, office files, images,
deeply nested MIME. A decompression bomb, a pathological document or a bug
in a parser must not take the list server down, so the pure function
`filters.deattribute.archive_form_or_hold` runs in one child process per
worker, which is killed and restarted when it overruns `timeout` or dies.
Either way the post's archive copy is held for a moderator (fail closed,
CHATHAM_HOUSE decision 5); distribution is never affected.

The child keeps the compiled registry matcher between posts and is sent the
registry only when its fingerprint changes.

    idle ──job──► busy ──form──► idle
                    ├──timeout──► killed ──► (restarted at the next job)
                    └──died─────► killed
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import multiprocessing
import resource
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from filters.deattribute import ArchiveContext, ArchiveForm
from filters.identities import Registry

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 60.0
DEFAULT_MEMORY_LIMIT = 2 * 1024**3


def held_form(ctx: ArchiveContext, reason: str) -> ArchiveForm:
    """An empty archive form that says why the copy is held; nothing of the post."""
    return ArchiveForm(
        message=b"",
        message_id="",
        in_reply_to=None,
        references=(),
        subject="",
        date=ctx.received_at,
        text="",
        attachments=(),
        flags=(),
        hold_reason=reason,
    )


def _child_main(connection: Connection, memory_limit: int) -> None:
    # Limit the address space so a runaway parser fails with MemoryError here
    # instead of pushing the server out of memory.
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    from filters.deattribute import archive_form_or_hold
    from filters.matching import RegistryMatcher

    matcher: Any = None
    fingerprint = None
    while True:
        try:
            job = connection.recv()
        except EOFError:
            return
        registry_fingerprint, registry, raw, ctx = job
        try:
            if registry is not None:
                matcher = RegistryMatcher.compile(registry)
                fingerprint = registry_fingerprint
                # The matcher lives as long as the registry does: keep the
                # collector from walking its millions of objects at every pass.
                gc.freeze()
            if fingerprint != registry_fingerprint or matcher is None:
                connection.send(("need-registry", None))
                continue
            form = archive_form_or_hold(raw, matcher, ctx)
        except BaseException as error:  # fail closed, whatever happened
            form = held_form(ctx, f"the scrubber failed: {type(error).__name__}")
        connection.send(("form", form))


class ScrubWorker:
    def __init__(
        self, *, timeout: float = DEFAULT_TIMEOUT, memory_limit: int = DEFAULT_MEMORY_LIMIT
    ) -> None:
        self._timeout = timeout
        self._memory_limit = memory_limit
        self._process: BaseProcess | None = None
        self._connection: Connection | None = None
        self._sent_fingerprint: str | None = None
        self._lock = asyncio.Lock()

    def _start(self) -> Connection:
        if self._process is not None and self._process.is_alive() and self._connection:
            return self._connection
        self._stop_process()
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        process = context.Process(
            target=_child_main, args=(child, self._memory_limit), name="listserv-scrub", daemon=True
        )
        process.start()
        child.close()
        self._process, self._connection = process, parent
        self._sent_fingerprint = None
        return parent

    async def start(self) -> None:
        await asyncio.to_thread(self._start)

    async def archive_form(
        self, raw: bytes, registry: Registry, ctx: ArchiveContext
    ) -> ArchiveForm:
        async with self._lock:
            try:
                return await asyncio.wait_for(self._run(raw, registry, ctx), self._timeout)
            except TimeoutError:
                log.warning("archive scrubbing overran %.0f s; worker restarted", self._timeout)
                self._stop_process()
                return held_form(ctx, "the scrubber took too long")
            except (EOFError, OSError, BrokenPipeError) as error:
                log.warning("archive scrubbing worker died (%s); restarted", error)
                self._stop_process()
                return held_form(ctx, "the scrubber stopped unexpectedly")

    async def _run(self, raw: bytes, registry: Registry, ctx: ArchiveContext) -> ArchiveForm:
        connection = await asyncio.to_thread(self._start)
        fingerprint = registry.fingerprint()
        send_registry = self._sent_fingerprint != fingerprint
        for _ in range(2):
            job = (fingerprint, registry if send_registry else None, raw, ctx)
            await asyncio.to_thread(connection.send, job)
            self._sent_fingerprint = fingerprint
            kind, payload = await asyncio.to_thread(connection.recv)
            if kind == "form":
                assert isinstance(payload, ArchiveForm)
                return payload
            send_registry = True
        return held_form(ctx, "the scrubber could not load the registry")

    def _stop_process(self) -> None:
        process, self._process = self._process, None
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()
        if process is not None and process.is_alive():
            process.kill()
            process.join(timeout=5)

    async def close(self) -> None:
        await asyncio.to_thread(self._stop_process)
