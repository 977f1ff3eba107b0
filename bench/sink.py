"""An SMTP sink in its own process: the relay for listserv and the bare baseline.

The sink is aiosmtpd accepting every recipient and every DATA with `250`,
keeping nothing but counters. It runs as a child process
(`python -m bench.sink COUNTERS_FILE`), never in the process that measures,
so on a two-core machine the clients, the sink and the server under test
each get the scheduler's share instead of one event loop doing two jobs.

The counters are four doubles in a small memory-mapped file, written only by
the sink and read by the parent without any round trip:

    [0] last_at        time.monotonic() of the last 250 (CLOCK_MONOTONIC is
                       system-wide on Linux, so the parent can compare it)
    [1] last_size      bytes of the last message received
    [2] transactions   DATA commands answered 250
    [3] recipients     RCPT addresses in those transactions

The time is written before the counts, so a reader that sees a count finds
the time of the transaction that completed it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import mmap
import os
import select
import signal
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from aiosmtpd.smtp import SMTP, Envelope, Session

LAYOUT = struct.Struct("=dddd")
LAST_AT, LAST_SIZE, TRANSACTIONS, RECIPIENTS = range(4)
MAX_MESSAGE_SIZE = 64 * 1024 * 1024


class Counters:
    """The shared counters, over a memory map of the counters file."""

    def __init__(self, path: Path, *, create: bool) -> None:
        if create:
            path.write_bytes(bytes(LAYOUT.size))
        self._file = path.open("r+b")
        self._map = mmap.mmap(self._file.fileno(), LAYOUT.size)

    def get(self, index: int) -> float:
        return float(struct.unpack_from("=d", self._map, index * 8)[0])

    def set(self, index: int, value: float) -> None:
        struct.pack_into("=d", self._map, index * 8, value)

    def close(self) -> None:
        self._map.close()
        self._file.close()


class CountingHandler:
    """aiosmtpd hooks that accept everything and store nothing but counts."""

    def __init__(self, counters: Counters) -> None:
        self._counters = counters
        self._transactions = 0
        self._recipients = 0

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        self._transactions += 1
        self._recipients += len(envelope.rcpt_tos)
        counters = self._counters
        counters.set(LAST_AT, time.monotonic())
        counters.set(LAST_SIZE, float(len(content)))
        counters.set(TRANSACTIONS, float(self._transactions))
        counters.set(RECIPIENTS, float(self._recipients))
        return "250 2.0.0 OK"


async def _serve(counters: Counters) -> None:
    loop = asyncio.get_running_loop()
    handler = CountingHandler(counters)
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="sink.bench", data_size_limit=MAX_MESSAGE_SIZE),
        host="127.0.0.1",
        port=0,
    )
    stopping = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stopping.set)
    print(server.sockets[0].getsockname()[1], flush=True)
    await stopping.wait()
    server.close()


def sink_main(argv: list[str]) -> None:
    logging.getLogger("mail.log").setLevel(logging.CRITICAL)
    counters = Counters(Path(argv[0]), create=False)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_serve(counters))
    finally:
        counters.close()


class SinkProcess:
    """A counting SMTP sink on 127.0.0.1 in a child process."""

    def __init__(self) -> None:
        descriptor, name = tempfile.mkstemp(prefix="bench-sink-", suffix=".counters")
        os.close(descriptor)
        self._path = Path(name)
        self._counters = Counters(self._path, create=True)
        self._process: subprocess.Popen[bytes] | None = None
        self._stopped = False
        self.port = 0

    def start(self, timeout: float = 30.0) -> SinkProcess:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "bench.sink", str(self._path)],
            stdout=subprocess.PIPE,
        )
        assert self._process.stdout is not None
        ready, _, _ = select.select([self._process.stdout], [], [], timeout)
        line = self._process.stdout.readline() if ready else b""
        if not line.strip().isdigit():
            self.stop()
            raise RuntimeError("the SMTP sink did not start")
        self.port = int(line)
        return self

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    @property
    def recipients(self) -> int:
        return int(self._counters.get(RECIPIENTS))

    @property
    def transactions(self) -> int:
        return int(self._counters.get(TRANSACTIONS))

    @property
    def last_at(self) -> float:
        return self._counters.get(LAST_AT)

    @property
    def last_size(self) -> int:
        return int(self._counters.get(LAST_SIZE))

    async def wait_for_recipients(self, count: int, timeout: float) -> float:
        """Wait until the sink holds `count` recipients; the monotonic time it did."""
        deadline = time.monotonic() + timeout
        while self.recipients < count:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"the sink holds {self.recipients} of {count} recipients after {timeout:.0f} s"
                )
            if self._process is None or self._process.poll() is not None:
                raise RuntimeError("the SMTP sink died")
            await asyncio.sleep(0.002)
        return self.last_at

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        if process is not None and process.stdout is not None:
            process.stdout.close()
        self._counters.close()
        self._path.unlink(missing_ok=True)

    def __enter__(self) -> SinkProcess:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


if __name__ == "__main__":
    sink_main(sys.argv[1:])
