"""Fan-out: from the `250` at intake until the relay holds every recipient.

listserv: one post to a list of `fanout_members` members, then a burst of
`burst_posts` posts to a list of `burst_members`, through the real server
and its delivery worker to a counting sink in another process. The clock
starts at the (first) `250` and stops when the sink has answered `250` for
the last recipient.

Baseline: aiosmtplib sending the same recipients, in the same batches
(`[delivery] max_recipients_per_transaction`, grouped by domain as listserv
does) over the same number of reused connections (`max_connections`),
straight to the sink, with messages of the size listserv delivered.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

from bench.population import Person, Prose, people
from bench.report import Row, ScenarioResult
from bench.server_process import DeliveryShape, RssSampler, Running, start_warmed
from bench.sizes import Sizes
from bench.smtp_load import (
    Transaction,
    build_post,
    close,
    connected,
    direct_delivery,
    pad_to,
    send_one,
)
from listserv.delivery import split_batches

WARMUP_LIST = "warmup@lists.example"
BIG_LIST = "everyone@lists.example"
BURST_LIST = "operators@lists.example"
BOUNCES = "{}-bounces@lists.example"
TARGET = 0.7
SHAPE = DeliveryShape()  # the [delivery] defaults, written into the server's config
BURST_CLIENTS = 4


def _post(poster: Person, to: str, prose: Prose, tag: str) -> bytes:
    message = build_post(
        poster.email,
        poster.name,
        to,
        prose.subject(),
        prose.body(300),
        message_id=f"<{tag}@client.example>",
    )
    return message.as_bytes()


async def _send_burst(port: int, poster: Person, to: str, posts: list[bytes]) -> list[float]:
    """Send `posts` over a few connections at once; the times of their 250s."""
    pending = list(reversed(posts))
    accepted: list[float] = []

    async def client_loop() -> None:
        client = await connected(port)
        try:
            while pending:
                content = pending.pop()
                await client.sendmail(poster.email, [to], content)
                accepted.append(time.monotonic())
        finally:
            await close(client)

    await asyncio.gather(*(client_loop() for _ in range(BURST_CLIENTS)))
    return accepted


def _transactions(
    posts: int, recipients: list[str], shape: DeliveryShape, size: int, list_address: str
) -> list[Transaction]:
    local = list_address.split("@")[0]
    content = pad_to(b"Subject: baseline\r\n\r\n" + b"x" * 70 + b"\r\n", size)
    batches = split_batches(recipients, shape.max_recipients_per_transaction)
    return [
        Transaction(BOUNCES.format(local), tuple(batch), content)
        for _ in range(posts)
        for batch in batches
    ]


@dataclass
class Setup:
    running: Running
    poster: Person
    big: list[Person]
    burst: list[Person]
    prose: Prose

    def close(self) -> None:
        self.running.stop()


async def setup(sizes: Sizes, workdir: Path) -> Setup:
    """The server with the big list and the burst list, started and warmed up."""
    population = people(sizes.fanout_members + sizes.burst_members, seed=31)
    poster = population[0]
    big = population[: sizes.fanout_members]
    burst = [
        poster,
        *population[sizes.fanout_members : sizes.fanout_members + sizes.burst_members - 1],
    ]
    prose = Prose(5)
    running = await start_warmed(
        workdir / "server",
        {WARMUP_LIST: [poster], BIG_LIST: big, BURST_LIST: burst},
        warm_from=poster.email,
        warm_list=WARMUP_LIST,
        warm_post=_post(poster, WARMUP_LIST, prose, "w"),
        delivery=SHAPE,
    )
    return Setup(running, poster, big, burst, prose)


async def measure(sizes: Sizes, prepared: Setup) -> ScenarioResult:
    server, sink, phases = prepared.running.server, prepared.running.sink, prepared.running.phases
    poster, big, burst, prose = prepared.poster, prepared.big, prepared.burst, prepared.prose
    timeout = 60 + len(big) / 50 + sizes.burst_posts * len(burst) / 100
    try:
        with RssSampler(server.pid) as rss:
            offset = sink.recipients
            accepted_at = await send_one(
                server.smtp_port, poster.email, [BIG_LIST], _post(poster, BIG_LIST, prose, "big")
            )
            done_at = await sink.wait_for_recipients(offset + len(big), timeout=timeout)
            one_post = done_at - accepted_at
            big_size = sink.last_size

            offset = sink.recipients
            posts = [
                _post(poster, BURST_LIST, prose, f"burst{n}") for n in range(sizes.burst_posts)
            ]
            accepted = await _send_burst(server.smtp_port, poster, BURST_LIST, posts)
            done_at = await sink.wait_for_recipients(
                offset + len(posts) * len(burst), timeout=timeout
            )
            burst_seconds = done_at - min(accepted)
            burst_size = sink.last_size
        phases.done("listserv")
        await asyncio.to_thread(prepared.running.stop_server)
        phases.done("stop")

        # The same recipients, batches and connections, straight to the same sink.
        offset = sink.recipients
        started = await direct_delivery(
            sink.port,
            _transactions(1, [p.email for p in big], SHAPE, big_size, BIG_LIST),
            SHAPE.max_connections,
        )
        done_at = await sink.wait_for_recipients(offset + len(big), timeout=timeout)
        one_post_direct = done_at - started

        offset = sink.recipients
        started = await direct_delivery(
            sink.port,
            _transactions(
                sizes.burst_posts, [p.email for p in burst], SHAPE, burst_size, BURST_LIST
            ),
            SHAPE.max_connections,
        )
        done_at = await sink.wait_for_recipients(
            offset + sizes.burst_posts * len(burst), timeout=timeout
        )
        burst_direct = done_at - started
        phases.done("baseline")
    finally:
        prepared.close()

    rows = [
        Row(
            scenario=f"fan-out 1 post × {len(big):,} members",
            listserv=f"{one_post:.2f} s",
            baseline=f"{one_post_direct:.2f} s",
            ratio=one_post_direct / one_post if one_post > 0 else None,
            target=TARGET,
            peak_rss=rss.peak,
        ),
        Row(
            scenario=f"fan-out {sizes.burst_posts} posts × {len(burst):,} members",
            listserv=f"{burst_seconds:.2f} s",
            baseline=f"{burst_direct:.2f} s",
            ratio=burst_direct / burst_seconds if burst_seconds > 0 else None,
            target=TARGET,
            peak_rss=rss.peak,
        ),
    ]
    details = {
        "batch_size": SHAPE.max_recipients_per_transaction,
        "connections": SHAPE.max_connections,
        "one_post": {
            "members": len(big),
            "delivered_bytes": big_size,
            "listserv_s": round(one_post, 3),
            "baseline_s": round(one_post_direct, 3),
        },
        "burst": {
            "posts": sizes.burst_posts,
            "members": len(burst),
            "delivered_bytes": burst_size,
            "listserv_s": round(burst_seconds, 3),
            "baseline_s": round(burst_direct, 3),
        },
        "peak_rss_bytes": rss.peak,
        "phase_seconds": phases.seconds,
    }
    return ScenarioResult("fanout", rows, details)


async def run(sizes: Sizes, workdir: Path) -> ScenarioResult:
    return await measure(sizes, await setup(sizes, workdir))
