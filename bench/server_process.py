"""The real `listserv serve` as a child process, and its memory watched from outside.

    BenchServer.prepare()  migrate a fresh SQLite database, create the secret
                           key, lists and members (through listserv's own code)
    BenchServer.start()    `python -m listserv --config … serve`; waits for
                           "listserv ready: smtp=HOST:PORT" in its output
    BenchServer.stop()     SIGTERM, as an operator would; SIGKILL if it hangs
    start_warmed()         all of that plus a relay sink and `warm_up()`: two posts
                           waited for, so the measured part sees the steady state

`RssSampler` polls the resident set size of the server and all its children
(the scrub worker is a child process) with psutil in a background thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import insert

from bench.population import Person
from bench.report import Phases
from bench.sink import SinkProcess
from bench.smtp_load import send_one
from listserv import registry
from listserv.config import load_settings
from listserv.db import Database
from listserv.keys import Keys
from listserv.models import Member, NonMemberPolicy, utcnow

READY = re.compile(r"listserv ready: smtp=([\d.]+):(\d+)")
MAX_RECIPIENTS_PER_TRANSACTION = 100  # the [delivery] default
MAX_CONNECTIONS = 2  # the [delivery] default
TIMELINE_SECONDS = 0.25
MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class DeliveryShape:
    """How listserv talks to its relay; the direct baseline copies it."""

    max_recipients_per_transaction: int = MAX_RECIPIENTS_PER_TRANSACTION
    max_connections: int = MAX_CONNECTIONS


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


class BenchServer:
    """One listserv server with its own database in `workdir`."""

    def __init__(
        self,
        workdir: Path,
        *,
        relay_port: int,
        max_message_size: int = 10 * 1024 * 1024,
        delivery: DeliveryShape = DeliveryShape(),
    ) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.workdir = workdir
        self.delivery = delivery
        self.config_path = workdir / "config.toml"
        self.log_path = workdir / "serve.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.smtp_port = 0
        sections: dict[str, dict[str, object]] = {
            "database": {"url": f"sqlite:///{workdir / 'listserv.db'}"},
            "smtp": {"host": "127.0.0.1", "port": 0, "max_message_size": max_message_size},
            "delivery": {
                "mode": "smtp",
                "relay_host": "127.0.0.1",
                "relay_port": relay_port,
                "max_recipients_per_transaction": delivery.max_recipients_per_transaction,
                "max_connections": delivery.max_connections,
                "retry_initial_seconds": 1,
                "give_up_after_hours": 120,
                "outbox_dir": str(workdir / "outbox"),
            },
            "web": {
                "enabled": False,
                "host": "127.0.0.1",
                "port": 0,
                "base_url": "https://lists.example",
            },
            "security": {"secret_key_file": str(workdir / "secret.key")},
        }
        lines: list[str] = []
        for section, values in sections.items():
            lines.append(f"[{section}]")
            lines.extend(f"{key} = {_toml(value)}" for key, value in values.items())
            lines.append("")
        self.config_path.write_text("\n".join(lines))

    async def prepare(self, lists: Mapping[str, Iterable[Person]]) -> None:
        """`listserv init`, the lists, and their members in bulk."""
        settings = load_settings(self.config_path)
        db = Database(settings.database_url)
        joined_at = utcnow()
        try:
            await db.migrate()
            Keys.create(settings.secret_key_path)
            async with db.transaction() as session:
                for address, members in lists.items():
                    created = await registry.create_list(
                        session,
                        address,
                        name=address.split("@")[0].upper(),
                        nonmember_policy=NonMemberPolicy.REJECT,
                    )
                    rows = [
                        {
                            "list_id": created.id,
                            "email": details.email,
                            "name": details.name,
                            "organisation": details.organisation,
                            "org_domains": list(details.org_domains),
                            "aliases": [],
                            "role": details.role.value,
                            "joined_at": joined_at,
                        }
                        for details in (
                            registry.member_details(
                                person.email,
                                name=person.name,
                                organisation=person.organisation,
                                org_domains=(person.domain,),
                            )
                            for person in members
                        )
                    ]
                    if rows:
                        await session.execute(insert(Member), rows)
                    await registry.bump_version(session)
        finally:
            await db.dispose()

    def start(self, timeout: float = 60.0) -> BenchServer:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "listserv", "--config", str(self.config_path), "serve"],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.workdir,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = READY.search(self.output)
            if found is not None:
                self.smtp_port = int(found.group(2))
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("listserv serve did not start:\n" + self.output[-3000:])

    @property
    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self, timeout: float = 20.0) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        children = _children(process.pid)
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        for child in children:  # only the processes this server started
            with contextlib.suppress(psutil.Error):
                child.kill()

    def cpu_seconds(self) -> float:
        """User and system CPU time of the server and its children so far."""
        total = 0.0
        for process in [psutil.Process(self.pid), *_children(self.pid)]:
            with contextlib.suppress(psutil.Error):
                times = process.cpu_times()
                total += times.user + times.system
        return total

    async def __aenter__(self) -> BenchServer:
        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await asyncio.to_thread(self.stop)


async def warm_up(
    server: BenchServer, sink: SinkProcess, mail_from: str, list_address: str, post: bytes
) -> None:
    """Two posts to `list_address`, each waited for at the sink, 1.2 s apart.

    Afterwards the scrub worker has imported its parsers and compiled the
    registry, the relay connections are open, and the directory has reloaded
    the registry after the first post counted (its check interval is 1 s), so
    what is measured next is the server's steady state, not its start.
    """
    for number in range(2):
        offset = sink.recipients
        content = post.replace(b"Message-ID: <", f"Message-ID: <warm{number}.".encode(), 1)
        await send_one(server.smtp_port, mail_from, [list_address], content)
        await sink.wait_for_recipients(offset + 1, timeout=120)
        await asyncio.sleep(1.2)


# Alembic keeps its migration context in module globals: one migration at a
# time per process (a lock per event loop, as locks belong to one loop).
_MIGRATING: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


def _migration_lock() -> asyncio.Lock:
    return _MIGRATING.setdefault(asyncio.get_running_loop(), asyncio.Lock())


class Running:
    """A started, warmed-up server and its relay sink (see `start_warmed`)."""

    def __init__(self, sink: SinkProcess, server: BenchServer, phases: Phases) -> None:
        self.sink = sink
        self.server = server
        self.phases = phases

    def stop_server(self) -> None:
        self.server.stop()

    def stop(self) -> None:
        self.server.stop()
        self.sink.stop()


async def start_warmed(
    workdir: Path,
    lists: Mapping[str, Iterable[Person]],
    *,
    warm_from: str,
    warm_list: str,
    warm_post: bytes,
    max_message_size: int = 10 * 1024 * 1024,
    delivery: DeliveryShape = DeliveryShape(),
) -> Running:
    """A sink, and a server relaying to it, prepared, started and warmed up."""
    phases = Phases()
    sink = await asyncio.to_thread(SinkProcess().start)
    server: BenchServer | None = None
    try:
        server = BenchServer(
            workdir, relay_port=sink.port, max_message_size=max_message_size, delivery=delivery
        )
        async with _migration_lock():
            await server.prepare(lists)
        phases.done("prepare")
        await asyncio.to_thread(server.start)
        phases.done("start")
        await warm_up(server, sink, warm_from, warm_list, warm_post)
        phases.done("warm_up")
    except BaseException:
        if server is not None:
            await asyncio.to_thread(server.stop)
        sink.stop()
        raise
    return Running(sink, server, phases)


def _children(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants, now."""
    total = 0
    for process in [psutil.Process(pid), *_children(pid)]:
        with contextlib.suppress(psutil.Error):
            total += process.memory_info().rss
    return total


@dataclass(frozen=True, slots=True)
class ProcessRss:
    pid: int
    rss: int


def processes_rss(pid: int) -> list[ProcessRss]:
    """Resident bytes of a process and of each of its descendants."""
    found = []
    for process in [psutil.Process(pid), *_children(pid)]:
        with contextlib.suppress(psutil.Error):
            found.append(ProcessRss(process.pid, process.memory_info().rss))
    return found


class RssSampler:
    """Peak summed RSS of a process tree, polled every `interval` seconds."""

    def __init__(self, pid: int, *, interval: float = 0.01) -> None:
        self._pid = pid
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self.peak = 0
        self.samples = 0
        self.peaks_by_process: dict[str, int] = {}  # "server", "child <pid>": its own peak
        # (seconds, server MB, children MB) every TIMELINE_SECONDS: where the peak falls
        self.timeline: list[tuple[float, float, float]] = []

    def _run(self) -> None:
        root = psutil.Process(self._pid)
        children: list[psutil.Process] = []
        refreshed = 0.0
        started = noted = time.monotonic()
        while not self._stop.is_set():
            now = time.monotonic()
            if now - refreshed > 0.25:  # the scrub worker may be restarted
                children = _children(self._pid)
                refreshed = now
            total = server = 0
            for process in [root, *children]:
                with contextlib.suppress(psutil.Error):
                    rss = process.memory_info().rss
                    total += rss
                    name = "server" if process is root else f"child {process.pid}"
                    self.peaks_by_process[name] = max(self.peaks_by_process.get(name, 0), rss)
                    server = rss if process is root else server
            self.peak = max(self.peak, total)
            if now - noted >= TIMELINE_SECONDS:
                noted = now
                self.timeline.append(
                    (
                        round(now - started, 1),
                        round(server / MB, 1),
                        round((total - server) / MB, 1),
                    )
                )
            self.samples += 1
            self._stop.wait(self._interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: Any) -> None:
        self._stop.set()
        self._thread.join(5)


def high_water_marks(pid: int) -> int:
    """Sum of VmHWM (peak RSS the kernel recorded) over the tree; 0 off Linux."""
    total = 0
    for process in [psutil.Process(pid), *_children(pid)]:
        with contextlib.suppress(OSError, psutil.Error, ValueError):
            status = Path(f"/proc/{process.pid}/status").read_text()
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1]) * 1024
    return total
