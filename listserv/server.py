"""`listserv serve`: intake, pipeline, delivery and web on one asyncio loop.

    SMTP intake ─commit─► inbound rows ─► Pipeline ─► delivery batches ─► DeliveryWorker ─► relay
                                           │                                  (or ./outbox)
                                           └─► PostWorker (child process): parse, scrub, render

SIGTERM or SIGINT: stop accepting connections and new messages, let every
message in its DATA phase get its commit and answer, finish the processing
and delivery transactions under way, and exit 0 within a few seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from listserv.archiving import Archiver
from listserv.config import Settings
from listserv.db import Database, require_current_schema
from listserv.delivery import DeliveryWorker
from listserv.directory import Directory
from listserv.intake import IntakeHandler, ListservSMTP
from listserv.intake_queue import IntakeQueue
from listserv.keys import Keys
from listserv.pipeline import Pipeline
from listserv.post_worker import PostWorker
from listserv.transports import MaildirOutbox, SmtpRelay, Transport
from listserv.web.server import start_web

log = logging.getLogger(__name__)

SHUTDOWN_GRACE_SECONDS = 8.0


@dataclass(frozen=True, slots=True)
class Listening:
    smtp: tuple[str, int]
    web: tuple[str, int] | None


def transport_factory(settings: Settings) -> Callable[[], Transport]:
    delivery = settings.delivery
    if delivery.mode == "maildir":
        outbox = settings.outbox_path
        return lambda: MaildirOutbox(outbox)
    return lambda: SmtpRelay(delivery.relay_host, delivery.relay_port)


async def serve(
    settings: Settings,
    *,
    stopping: asyncio.Event | None = None,
    on_ready: Callable[[Listening], None] | None = None,
) -> None:
    stopping = stopping or asyncio.Event()
    loop = asyncio.get_running_loop()
    db = Database(settings.database_url)
    worker = PostWorker()
    try:
        await require_current_schema(db)
        keys = Keys.load(settings.secret_key_path)
        directory = Directory(db)
        await directory.current()
        await worker.start()
        committed, delivery_wake = asyncio.Event(), asyncio.Event()
        queue = IntakeQueue(db, on_commit=committed)
        handler = IntakeHandler(directory, queue)
        archiver = Archiver(keys, worker, base_url=settings.web.base_url)
        pipeline = Pipeline(
            db,
            directory,
            archiver,
            worker,
            settings,
            wake=committed,
            delivery_wake=delivery_wake,
        )
        delivery = DeliveryWorker(
            db, settings.delivery, transport_factory(settings), wake=delivery_wake
        )
        smtp_server = await loop.create_server(
            lambda: ListservSMTP(
                handler,
                data_size_limit=settings.smtp.max_message_size,
                enable_SMTPUTF8=True,
                hostname=settings.smtp.hostname,
                ident="listserv",
                loop=loop,
            ),
            host=settings.smtp.host,
            port=settings.smtp.port,
        )
        web = (
            await start_web(settings, db, directory, keys, stopping, delivery_wake=delivery_wake)
            if settings.web.enabled
            else None
        )
        tasks = {
            "intake-commit": asyncio.create_task(queue.run()),
            "pipeline": asyncio.create_task(pipeline.run(stopping)),
            "delivery": asyncio.create_task(delivery.run(stopping)),
        }
        if web is not None:
            tasks["web"] = web[0]
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stopping.set)
        smtp_address = smtp_server.sockets[0].getsockname()[:2]
        listening = Listening(smtp=smtp_address, web=web[1] if web else None)
        _announce(listening)
        if on_ready is not None:
            on_ready(listening)
        watcher = asyncio.create_task(_watch(tasks, stopping))
        await stopping.wait()
        log.info("stopping: no new connections or messages")
        handler.accepting = False
        smtp_server.close()
        queue.close()
        await _finish(tasks, SHUTDOWN_GRACE_SECONDS)
        watcher.cancel()
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
        await worker.close()
        await db.dispose()
    log.info("stopped")


async def _watch(tasks: dict[str, asyncio.Task[Any]], stopping: asyncio.Event) -> None:
    """A worker that dies is a bug: log it and stop, rather than limp on."""
    done, _ = await asyncio.wait(tasks.values(), return_when=asyncio.FIRST_EXCEPTION)
    for task in done:
        if not task.cancelled() and task.exception() is not None:
            log.error("worker %s failed", task.get_name(), exc_info=task.exception())
    stopping.set()


async def _finish(tasks: dict[str, asyncio.Task[Any]], grace: float) -> None:
    _, late = await asyncio.wait(tasks.values(), timeout=grace)
    for task in late:
        task.cancel()
    if late:
        await asyncio.wait(late, timeout=2)


def _announce(listening: Listening) -> None:
    host, port = listening.smtp
    web = f" web=http://{listening.web[0]}:{listening.web[1]}" if listening.web else ""
    line = f"listserv ready: smtp={host}:{port}{web}"
    log.info(line)
    print(line, file=sys.stdout, flush=True)
