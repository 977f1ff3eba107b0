"""Serving the web app with uvicorn on the server's own event loop.

    start_web() ──► socket bound (port 0 → a free port) ──► uvicorn task serving
    stopping set ──► should_exit ──► no new connections; open requests finish
                                     (at most GRACEFUL_SECONDS) ──► task ends

The listserv server owns SIGTERM/SIGINT (listserv/server.py sets `stopping`),
so uvicorn's own signal handling is switched off. Its access log is off too:
web access logs are personal data (CHATHAM_HOUSE §2.6), and a client address
next to an archive path says who read what.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Generator
from typing import Any

import uvicorn

from listserv.config import Settings
from listserv.db import Database
from listserv.directory import Directory
from listserv.errors import ConfigError
from listserv.keys import Keys
from listserv.web.app import create_app

log = logging.getLogger(__name__)

GRACEFUL_SECONDS = 5


class EmbeddedServer(uvicorn.Server):
    """uvicorn without its signal handlers, telling us when it accepts connections."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # the listserv server handles signals and sets `stopping`

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.ready.set()


def bind(host: str, port: int) -> socket.socket:
    """A listening socket (port 0: the kernel picks a free one), or ConfigError."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError as error:
        sock.close()
        raise ConfigError(f"[web] cannot listen on {host}:{port}: {error.strerror}") from None
    sock.set_inheritable(True)
    return sock


async def start_web(
    settings: Settings,
    db: Database,
    directory: Directory,
    keys: Keys,
    stopping: asyncio.Event,
    *,
    delivery_wake: asyncio.Event | None = None,
) -> tuple[asyncio.Task[Any], tuple[str, int]]:
    """Serve the web app until `stopping` is set; the task and the bound address.

    With `delivery_wake` (the server's event for the delivery worker), a
    sign-in mail leaves at once instead of at the worker's next poll.
    """
    app = create_app(
        settings, db, keys, on_notice_queued=delivery_wake.set if delivery_wake else None
    )
    config = uvicorn.Config(
        app,
        access_log=False,
        log_config=None,  # keep the process's logging set-up
        lifespan="off",
        server_header=False,
        proxy_headers=True,  # trusts X-Forwarded-For from forwarded_allow_ips (127.0.0.1)
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
    )
    server = EmbeddedServer(config)
    sock = bind(settings.web.host, settings.web.port)
    address = sock.getsockname()[:2]

    async def serve() -> None:
        async def stop_when_asked() -> None:
            await stopping.wait()
            server.should_exit = True

        watcher = asyncio.create_task(stop_when_asked())
        try:
            await server.serve(sockets=[sock])
        finally:
            watcher.cancel()
            sock.close()

    task = asyncio.create_task(serve(), name="web")
    ready = asyncio.create_task(server.ready.wait())
    await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
    if not ready.done():
        ready.cancel()
        task.result()  # raises why uvicorn did not start
        raise RuntimeError("the web server stopped before it started")
    log.info("web listening on %s:%d", address[0], address[1])
    return task, (str(address[0]), int(address[1]))
