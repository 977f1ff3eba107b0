"""A real SMTP relay for tests: aiosmtpd on 127.0.0.1, recording what it gets.

It can be told to answer DATA with temporary failures a number of times, or
to refuse chosen recipients, so retry and bounce paths run against real SMTP.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass(frozen=True)
class Delivered:
    mail_from: str
    recipients: tuple[str, ...]
    content: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class RecordingRelay:
    host: str = "127.0.0.1"
    port: int = 0
    delivered: list[Delivered] = field(default_factory=list)
    data_replies: list[str] = field(default_factory=list)  # answered in turn before accepting
    rcpt_reply: Callable[[str], str | None] = lambda _address: None
    transactions: int = 0
    # When set, DATA waits for this event before answering (a slow relay).
    gate: asyncio.Event | None = None
    waiting_at_gate: int = 0
    connections: int = 0
    _server: asyncio.base_events.Server | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> RecordingRelay:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def _protocol(self) -> SMTP:
        self.connections += 1
        return SMTP(self, hostname="relay.test", data_size_limit=64 * 1024 * 1024)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        reply = self.rcpt_reply(address)
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.transactions += 1
        if self.gate is not None and not self.gate.is_set():
            self.waiting_at_gate += 1
            self._changed.set()
            await self.gate.wait()
            self.waiting_at_gate -= 1
        if self.data_replies:
            reply = self.data_replies.pop(0)
            self._changed.set()
            return reply
        content = envelope.original_content
        assert isinstance(content, bytes)
        self.delivered.append(
            Delivered(envelope.mail_from or "", tuple(envelope.rcpt_tos), content)
        )
        self._changed.set()
        return "250 2.0.0 queued"

    @property
    def recipients(self) -> list[str]:
        return [r for d in self.delivered for r in d.recipients]

    async def wait_for(self, condition: Callable[[], bool], timeout: float = 20.0) -> None:
        async def waiting() -> None:
            while not condition():
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(waiting(), timeout)

    async def wait_for_recipients(self, count: int, timeout: float = 20.0) -> None:
        await self.wait_for(lambda: len(self.recipients) >= count, timeout)

    def to(self, address: str) -> list[Delivered]:
        return [d for d in self.delivered if address in d.recipients]
