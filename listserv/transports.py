"""How a rendered mail leaves the server: one small protocol, two backends.

`SmtpRelay` speaks SMTP to the `[delivery]` relay through aiosmtplib and
keeps its connection open between transactions; `MaildirOutbox` writes one
file per recipient into `./outbox` (for trying listserv out without an MTA).
The delivery worker sees only `Transport`, so tests swap in a real relay
sink, never a fake of our code.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import aiosmtplib


@dataclass(slots=True)
class SendResult:
    """What the relay said about one transaction.

    `failure` is set when the whole transaction failed (connection, MAIL or
    DATA refused); then no recipient is accepted.
    """

    accepted: list[str] = field(default_factory=list)
    temporary: dict[str, str] = field(default_factory=dict)  # recipient → reply
    permanent: dict[str, tuple[int, str]] = field(default_factory=dict)  # recipient → code, reply
    failure: TransactionFailure | None = None


@dataclass(frozen=True, slots=True)
class TransactionFailure:
    code: int  # 0 when the relay could not be reached
    text: str

    @property
    def permanent(self) -> bool:
        return 500 <= self.code < 600


class Transport(Protocol):
    async def send(
        self, envelope_from: str, recipients: Sequence[str], content: bytes
    ) -> SendResult: ...

    async def close(self) -> None: ...


class SmtpRelay:
    """One reusable SMTP connection to the relay (not safe for concurrent use)."""

    def __init__(self, host: str, port: int, *, timeout: float = 60.0) -> None:
        self._host = host
        self._port = port
        self._timeout = timeout
        self._client: aiosmtplib.SMTP | None = None
        # Every batch of a fan-out sends the same bytes object: its wire form is kept.
        self._wire: tuple[bytes, bytes] | None = None

    async def _connected(self) -> aiosmtplib.SMTP:
        if self._client is not None and self._client.is_connected:
            return self._client
        client = aiosmtplib.SMTP(
            hostname=self._host,
            port=self._port,
            timeout=self._timeout,
            start_tls=False,
            use_tls=False,
            local_hostname=socket.getfqdn(),
        )
        await client.connect()
        self._client = client
        return client

    async def send(
        self, envelope_from: str, recipients: Sequence[str], content: bytes
    ) -> SendResult:
        result = SendResult()
        client: aiosmtplib.SMTP | None = None
        try:
            client = await self._connected()
            accepted = await self._envelope(client, envelope_from, recipients, content, result)
            if accepted:
                await self._data(client, content)
        except aiosmtplib.SMTPResponseException as error:
            # MAIL FROM or DATA refused: the whole transaction failed.
            result.accepted.clear()
            result.failure = TransactionFailure(error.code, error.message)
            if client is None:
                await self.close()
            else:
                await self._reset(client)
            return result
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            result.accepted.clear()
            result.failure = TransactionFailure(0, f"relay unreachable: {error}")
            await self.close()
            return result
        return result

    async def _envelope(
        self,
        client: aiosmtplib.SMTP,
        envelope_from: str,
        recipients: Sequence[str],
        content: bytes,
        result: SendResult,
    ) -> bool:
        """MAIL and RCPT; True when the relay took at least one recipient."""
        # RFC 1870: SIZE counts the octets as sent, and `content` is already
        # CRLF-terminated, so its length is the figure without a copy.
        options = [f"SIZE={len(content)}"] if client.supports_extension("size") else []
        await client.mail(envelope_from, options=options)
        for recipient in recipients:
            try:
                await client.rcpt(recipient)
            except aiosmtplib.SMTPRecipientRefused as refused:
                _record_refusal(result, recipient, refused.code, refused.message)
            else:
                result.accepted.append(recipient)
        if not result.accepted:
            await self._reset(client)
        return bool(result.accepted)

    async def _data(self, client: aiosmtplib.SMTP, content: bytes) -> None:
        """DATA, streaming `content` from the one copy the worker holds.

        aiosmtplib's own `data()` makes about five copies of a message (line
        endings, dot-stuffing, the terminator, the transport's buffer); a
        10 MB post sent to a thousand members through two connections made
        that the biggest part of the server's memory.
        """
        protocol = client.protocol
        if protocol is None:
            raise aiosmtplib.SMTPServerDisconnected("Connection lost")
        start = await client.execute_command(b"DATA")
        if start.code != 354:
            raise aiosmtplib.SMTPDataError(start.code, start.message)
        for chunk in wire_chunks(self._wire_form(content)):
            protocol.write(chunk)
            # The mixin's drain: waits while the socket buffer is over its mark.
            await protocol._drain_helper()
        response = await protocol.read_response(timeout=self._timeout)
        if response.code != 250:
            raise aiosmtplib.SMTPDataError(response.code, response.message)

    def _wire_form(self, content: bytes) -> bytes:
        """`wire_form(content)`, worked out once per message, not once per batch."""
        if self._wire is None or self._wire[0] is not content:
            self._wire = (content, wire_form(content))
        return self._wire[1]

    async def _reset(self, client: aiosmtplib.SMTP) -> None:
        """RSET so the next transaction starts clean; a failure here only closes."""
        try:
            await client.rset()
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            await self.close()

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            if client.is_connected:
                await client.quit()
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            client.close()


CHUNK_BYTES = 256 * 1024
_LINE_START_DOT = re.compile(rb"(?m)^\.")
_LINE_END = re.compile(rb"\r\n|\r|\n")


def wire_form(content: bytes) -> bytes:
    """`content` dot-stuffed, with CRLF line ends and a final CRLF (RFC 5321 §4.5.2).

    `content` itself, not a copy, unless some line starts with a dot or ends
    otherwise than in CRLF (distribution copies do not).
    """
    crlf = content.count(b"\r\n")
    if content.count(b"\n") != crlf or content.count(b"\r") != crlf:
        content = _LINE_END.sub(b"\r\n", content)
    if content.startswith(b".") or b"\n." in content:
        content = _LINE_START_DOT.sub(b"..", content)
    if not content.endswith(b"\r\n"):
        content += b"\r\n"
    return content


def wire_chunks(wire: bytes) -> Iterator[bytes | memoryview]:
    """The DATA phase's writes of a `wire_form`: views into it, then the final "."."""
    if len(wire) <= CHUNK_BYTES:
        yield wire + b".\r\n"  # one write: a small copy costs less than a second syscall
        return
    view = memoryview(wire)
    for offset in range(0, len(view), CHUNK_BYTES):
        yield view[offset : offset + CHUNK_BYTES]
    yield b".\r\n"


def _record_refusal(result: SendResult, recipient: str, code: int, message: str) -> None:
    if 400 <= code < 500:
        result.temporary[recipient] = f"{code} {message}"
    else:
        result.permanent[recipient] = (code, message)


class MaildirOutbox:
    """Writes each recipient's copy into a Maildir (`outbox/new/`), for trying out.

    Files are written to `tmp/` and renamed into `new/`, as the Maildir
    convention asks, so a reader never sees half a message.
    """

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._counter = 0

    async def send(
        self, envelope_from: str, recipients: Sequence[str], content: bytes
    ) -> SendResult:
        await asyncio.to_thread(self._write, envelope_from, list(recipients), content)
        return SendResult(accepted=list(recipients))

    def _write(self, envelope_from: str, recipients: list[str], content: bytes) -> None:
        for sub in ("tmp", "new", "cur"):
            (self._directory / sub).mkdir(parents=True, exist_ok=True)
        body = content.replace(b"\r\n", b"\n")
        for recipient in recipients:
            self._counter += 1
            name = f"{time.time_ns()}.{os.getpid()}_{self._counter}.{socket.gethostname()}"
            temporary = self._directory / "tmp" / name
            prefix = f"Return-Path: <{envelope_from}>\nDelivered-To: {recipient}\n".encode()
            with temporary.open("wb") as file:
                file.write(prefix)
                file.write(body)
                file.flush()
                os.fsync(file.fileno())
            temporary.rename(self._directory / "new" / name)

    async def close(self) -> None:
        return None
