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
import socket
import time
from collections.abc import Sequence
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
        try:
            client = await self._connected()
            errors, _ = await client.sendmail(envelope_from, list(recipients), content)
        except aiosmtplib.SMTPRecipientsRefused as refused:
            # aiosmtplib has already reset the envelope (RSET) for the next one.
            for error in refused.recipients:
                _record_refusal(result, error.recipient, error.code, error.message)
            return result
        except aiosmtplib.SMTPResponseException as error:
            # MAIL FROM or DATA refused: the whole transaction failed.
            result.failure = TransactionFailure(error.code, error.message)
            return result
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            result.failure = TransactionFailure(0, f"relay unreachable: {error}")
            await self.close()
            return result
        for recipient in recipients:
            refusal = errors.get(recipient)
            if refusal is None:
                result.accepted.append(recipient)
            else:
                _record_refusal(result, recipient, refusal.code, refusal.message)
        return result

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            if client.is_connected:
                await client.quit()
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            client.close()


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
