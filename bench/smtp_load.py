"""SMTP clients for the benchmarks: posting load, single posts, direct delivery.

All of them use aiosmtplib, the client listserv itself delivers with, so a
baseline and listserv pay the same client-side costs.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib

CLIENT_TIMEOUT = 120.0


def build_post(
    sender: str,
    sender_name: str,
    to: str,
    subject: str,
    body: str,
    *,
    message_id: str,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"{sender_name} <{sender}>"
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime(2024, 9, 3, 8, 1, 7, tzinfo=UTC))
    message["Message-ID"] = message_id
    message.set_content(body)
    return message


def pad_to(content: bytes, size: int) -> bytes:
    """`content` with X-Padding header lines making it about `size` bytes."""
    missing = size - len(content) - len(b"X-Padding: \r\n")
    if missing <= 0:
        return content
    lines: list[bytes] = []
    while missing > 0:
        chunk = min(missing, 70)
        lines.append(b"X-Padding: " + b"x" * chunk + b"\r\n")
        missing -= chunk + len(b"X-Padding: \r\n")
    return b"".join(lines) + content


async def connected(port: int) -> aiosmtplib.SMTP:
    client = aiosmtplib.SMTP(
        hostname="127.0.0.1",
        port=port,
        timeout=CLIENT_TIMEOUT,
        start_tls=False,
        use_tls=False,
        local_hostname="bench.client",
    )
    await client.connect()
    await client.ehlo()
    return client


async def close(client: aiosmtplib.SMTP) -> None:
    try:
        if client.is_connected:
            await client.quit()
    except (aiosmtplib.SMTPException, OSError):
        client.close()


async def send_one(port: int, mail_from: str, recipients: Sequence[str], content: bytes) -> float:
    """Send one message; the monotonic time its final 250 arrived."""
    client = await connected(port)
    try:
        await client.sendmail(mail_from, list(recipients), content)
        return time.monotonic()
    finally:
        await close(client)


@dataclass
class LoadResult:
    accepted: int = 0
    refused: int = 0
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds, DATA sent → 250

    @property
    def rate(self) -> float:
        return self.accepted / self.elapsed if self.elapsed > 0 else 0.0

    def percentile(self, fraction: float) -> float:
        return percentile(self.latencies, fraction)


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank `fraction` quantile (0 < fraction <= 1); 0.0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = math.ceil(fraction * len(ordered))
    return ordered[min(len(ordered), max(rank, 1)) - 1]


async def posting_load(
    port: int,
    senders: Sequence[str],
    recipient: str,
    make_post: Callable[[int, int], bytes],
    *,
    duration: float,
) -> LoadResult:
    """One client per sender posts back to back for `duration` seconds.

    `make_post(client, n)` gives the n-th post of a client. Each client keeps
    its connection (MAIL, RCPT, DATA, then the next MAIL), as a busy MTA
    would. Latency is DATA command to final reply, i.e. until the server has
    committed the message and answered 250.
    """
    result = LoadResult()
    clients = [await connected(port) for _ in senders]
    started = time.monotonic()
    deadline = started + duration
    finished: list[float] = []

    async def post_until_deadline(number: int, client: aiosmtplib.SMTP) -> None:
        sequence = 0
        while time.monotonic() < deadline:
            content = make_post(number, sequence)
            sequence += 1
            await client.mail(senders[number])
            await client.rcpt(recipient)
            sent = time.perf_counter()
            try:
                await client.data(content)
            except aiosmtplib.SMTPDataError:
                result.refused += 1
                continue
            result.latencies.append(time.perf_counter() - sent)
            result.accepted += 1
        finished.append(time.monotonic())

    try:
        await asyncio.gather(*(post_until_deadline(n, c) for n, c in enumerate(clients)))
    finally:
        await asyncio.gather(*(close(client) for client in clients))
    result.elapsed = max(finished, default=deadline) - started
    return result


@dataclass(frozen=True, slots=True)
class Transaction:
    mail_from: str
    recipients: tuple[str, ...]
    content: bytes


async def direct_delivery(
    port: int, transactions: Sequence[Transaction], connections: int
) -> float:
    """Send every transaction over `connections` reused connections; the start time.

    Connections are opened before the clock starts, as listserv's delivery
    worker keeps its relay connections open between batches.
    """
    pending = deque(transactions)
    clients = [await connected(port) for _ in range(connections)]

    async def drain(client: aiosmtplib.SMTP) -> None:
        while pending:
            transaction = pending.popleft()
            await client.sendmail(
                transaction.mail_from, list(transaction.recipients), transaction.content
            )

    started = time.monotonic()
    try:
        await asyncio.gather(*(drain(client) for client in clients))
    finally:
        await asyncio.gather(*(close(client) for client in clients))
    return started
