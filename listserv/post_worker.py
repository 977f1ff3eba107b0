"""The post worker: a child process that does the CPU-bound work on posts.

Parsing, TLP labels, de-attribution (with attachment cleaning) and rendering
the distribution copy run here (listserv/post_rendering.py), not on the
server's event loop: SMTP keeps being answered while a post is processed on
the other core, and whatever members send — decompression bombs,
pathological documents, parser bugs — can kill or hang only this child. It
runs under an address-space limit, and a job that overruns `timeout` kills
it; the next job starts a fresh one.

When the full job fails that way, the post is rendered again without an
archive form, so distribution never waits on a scrubber that cannot finish;
its archive copy is held for a moderator (fail closed, CHATHAM_HOUSE
decision 5).

The child keeps the compiled registry matcher between posts and is sent the
registry only when its fingerprint changes.

    idle ──job──► busy ──result──► idle
                    ├──error──────► idle (the job raised: the caller decides)
                    ├──timeout────► killed ──► restarted at the next job
                    └──died───────► killed
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import multiprocessing
import resource
from dataclasses import replace
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from filters.deattribute import ArchiveContext, ArchiveForm
from filters.identities import Registry
from listserv.malloc_tuning import tune_for_big_messages
from listserv.post_rendering import Rendering, RenderRequest

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 60.0
DEFAULT_MEMORY_LIMIT = 2 * 1024**3


class RenderError(RuntimeError):
    """A post could not be rendered at all (not even without its archive form)."""


class WorkerLost(RuntimeError):
    """The child overran its time or died."""


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
    tune_for_big_messages()
    # A runaway parser fails with MemoryError here instead of pushing the
    # whole machine out of memory.
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    from filters.deattribute import archive_form_or_hold
    from filters.matching import RegistryMatcher
    from listserv.post_rendering import render_post

    matcher: Any = None
    fingerprint: str | None = None
    while True:
        try:
            kind, job_fingerprint, registry, payload = connection.recv()
        except EOFError:
            return
        try:
            if registry is not None:
                matcher, fingerprint = None, None
                gc.unfreeze()
                matcher = RegistryMatcher.compile(registry)
                fingerprint = job_fingerprint
                # The matcher lives as long as the registry: keep the collector
                # from walking its objects at every pass.
                gc.freeze()
            if job_fingerprint is not None and job_fingerprint != fingerprint:
                connection.send(("need-registry", None))
                continue
            if kind == "render":
                result: object = render_post(payload, matcher)
            else:
                raw, ctx = payload
                result = archive_form_or_hold(raw, matcher, ctx)
        except BaseException as error:  # the caller decides; the child lives on
            connection.send(("error", f"{type(error).__name__}: {error}"[:300]))
            continue
        connection.send(("result", result))


class PostWorker:
    def __init__(
        self, *, timeout: float = DEFAULT_TIMEOUT, memory_limit: int = DEFAULT_MEMORY_LIMIT
    ) -> None:
        self._timeout = timeout
        self._memory_limit = memory_limit
        self._process: BaseProcess | None = None
        self._connection: Connection | None = None
        self._sent_fingerprint: str | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        await asyncio.to_thread(self._start)

    async def close(self) -> None:
        await asyncio.to_thread(self._stop_process)

    async def render(
        self, request: RenderRequest, registry: Registry, fingerprint: str
    ) -> Rendering:
        """The post's rendering; if scrubbing overran or crashed, with a held form."""
        async with self._lock:
            try:
                result = await self._job("render", request, registry, fingerprint)
            except WorkerLost as lost:
                if request.archive is None:
                    raise RenderError(str(lost)) from None
                reason = str(lost)
            else:
                assert isinstance(result, Rendering)
                return result
            log.warning("post worker: %s; rendering again without the archive form", reason)
            try:
                result = await self._job("render", replace(request, archive=None), None, None)
            except WorkerLost as lost:
                raise RenderError(str(lost)) from None
            assert isinstance(result, Rendering)
            return replace(result, form=held_form(request.archive, reason))

    async def archive_form(
        self, raw: bytes, registry: Registry, ctx: ArchiveContext
    ) -> ArchiveForm:
        """The archive form alone (the Scrubber protocol of listserv/archiving.py)."""
        async with self._lock:
            try:
                result = await self._job("archive", (raw, ctx), registry, registry.fingerprint())
            except (WorkerLost, RenderError) as error:
                return held_form(ctx, str(error))
            assert isinstance(result, ArchiveForm)
            return result

    async def _job(
        self, kind: str, payload: object, registry: Registry | None, fingerprint: str | None
    ) -> object:
        try:
            return await asyncio.wait_for(
                self._exchange(kind, payload, registry, fingerprint), self._timeout
            )
        except TimeoutError:
            self._stop_process()
            raise WorkerLost("the scrubber took too long") from None
        except (EOFError, OSError) as error:
            self._stop_process()
            log.warning("post worker died: %s", error)
            raise WorkerLost("the scrubber stopped unexpectedly") from None

    async def _exchange(
        self, kind: str, payload: object, registry: Registry | None, fingerprint: str | None
    ) -> object:
        connection = await asyncio.to_thread(self._start)
        send_registry = fingerprint is not None and self._sent_fingerprint != fingerprint
        for _ in range(2):
            job = (kind, fingerprint, registry if send_registry else None, payload)
            await asyncio.to_thread(connection.send, job)
            if send_registry:
                self._sent_fingerprint = fingerprint
            answer, result = await asyncio.to_thread(connection.recv)
            if answer == "result":
                return result
            if answer == "error":
                raise RenderError(str(result))
            send_registry = True
        raise RenderError("the worker could not load the registry")

    def _start(self) -> Connection:
        if self._process is not None and self._process.is_alive() and self._connection:
            return self._connection
        self._stop_process()
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        process = context.Process(
            target=_child_main,
            args=(child, self._memory_limit),
            name="listserv-post-worker",
            daemon=True,
        )
        process.start()
        child.close()
        self._process, self._connection = process, parent
        self._sent_fingerprint = None
        return parent

    def _stop_process(self) -> None:
        process, self._process = self._process, None
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()
        if process is not None and process.is_alive():
            process.kill()
            process.join(timeout=5)
