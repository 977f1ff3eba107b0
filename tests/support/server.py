"""Starting the real listserv server for tests: in-process or as a subprocess."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from listserv import registry
from listserv.config import Settings, load_settings
from listserv.db import Database
from listserv.keys import Keys
from listserv.models import NonMemberPolicy, RedPolicy
from listserv.server import Listening, serve

READY = re.compile(r"listserv ready: smtp=([\d.]+):(\d+)(?: web=http://([\d.]+):(\d+))?")


def write_config(
    directory: Path,
    *,
    relay_port: int = 25,
    mode: str = "smtp",
    database_url: str | None = None,
    extra: dict[str, dict[str, Any]] | None = None,
) -> Path:
    sections: dict[str, dict[str, Any]] = {
        "database": {"url": database_url or f"sqlite:///{directory / 'listserv.db'}"},
        "smtp": {"host": "127.0.0.1", "port": 0, "max_message_size": 1024 * 1024},
        "delivery": {
            "mode": mode,
            "relay_host": "127.0.0.1",
            "relay_port": relay_port,
            "max_recipients_per_transaction": 100,
            "retry_initial_seconds": 0.2,
            "give_up_after_hours": 120,
            "outbox_dir": str(directory / "outbox"),
        },
        "web": {"host": "127.0.0.1", "port": 0, "base_url": "https://lists.example"},
        "security": {"secret_key_file": str(directory / "secret.key")},
    }
    for section, values in (extra or {}).items():
        sections.setdefault(section, {}).update(values)
    lines: list[str] = []
    for section, values in sections.items():
        lines.append(f"[{section}]")
        for key, value in values.items():
            lines.append(f"{key} = {_toml(value)}")
        lines.append("")
    path = directory / "config.toml"
    path.write_text("\n".join(lines))
    return path


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True)
class MemberSpec:
    email: str
    name: str = ""
    org: str = ""
    domains: tuple[str, ...] = ()
    role: str = "member"
    aliases: tuple[str, ...] = ()


async def prepare(
    settings: Settings,
    *,
    lists: dict[str, Iterable[MemberSpec]],
    nonmember: NonMemberPolicy = NonMemberPolicy.REJECT,
    red: RedPolicy = RedPolicy.ALLOW,
    floor: str = "AMBER",
    list_options: dict[str, dict[str, Any]] | None = None,
) -> None:
    """`listserv init` plus lists and members, through the same code the CLI uses."""
    db = Database(settings.database_url)
    try:
        await db.migrate()
        Keys.create(settings.secret_key_path)
        async with db.transaction() as session:
            for address, members in lists.items():
                created = await registry.create_list(
                    session,
                    address,
                    name=address.split("@")[0].upper(),
                    floor=registry.parse_floor(floor),
                    nonmember_policy=nonmember,
                    red_policy=red,
                )
                for option, value in (list_options or {}).get(address, {}).items():
                    setattr(created, option, value)
                session.add(created)
                details = [
                    registry.member_details(
                        m.email,
                        name=m.name,
                        organisation=m.org,
                        org_domains=m.domains,
                        role=m.role,
                        aliases=m.aliases,
                    )
                    for m in members
                ]
                await registry.import_members(session, created, details)
    finally:
        await db.dispose()


@dataclass
class RunningServer:
    settings: Settings
    listening: Listening
    stopping: asyncio.Event
    task: asyncio.Task[None]

    @property
    def smtp_port(self) -> int:
        return self.listening.smtp[1]

    @property
    def web_port(self) -> int | None:
        return self.listening.web[1] if self.listening.web else None

    async def stop(self) -> None:
        self.stopping.set()
        await asyncio.wait_for(self.task, 20)


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[RunningServer]:
    """The real server on this event loop, stopped (like SIGTERM) afterwards."""
    stopping = asyncio.Event()
    ready: asyncio.Future[Listening] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(serve(settings, stopping=stopping, on_ready=ready.set_result))
    done, _ = await asyncio.wait({task, ready}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()  # raises what stopped it
    assert ready in done, "the server did not become ready"
    server = RunningServer(settings, ready.result(), stopping, task)
    try:
        yield server
    finally:
        if not task.done():
            await server.stop()


@dataclass
class ServerProcess:
    """`listserv serve` as a child process, for signal and crash tests.

    Its output goes to a file next to the config, so a chatty server can never
    block on a full pipe.
    """

    config: Path
    process: subprocess.Popen[bytes] | None = None
    smtp_port: int = 0

    @property
    def log_path(self) -> Path:
        return self.config.parent / "serve.log"

    @property
    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self, timeout: float = 30) -> ServerProcess:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "listserv", "--config", str(self.config), "serve"],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            matches = list(READY.finditer(self.output))
            found = matches[-1] if matches else None
            if found is not None and self.process.poll() is None:
                self.smtp_port = int(found.group(2))
                if self.smtp_port:
                    return self
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError("listserv serve did not start:\n" + self.output)

    def signal(self, signum: int) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    def wait(self, timeout: float = 20) -> int:
        assert self.process is not None
        return self.process.wait(timeout)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)


def settings_of(config: Path) -> Settings:
    return load_settings(config)
