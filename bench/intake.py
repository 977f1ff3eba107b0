"""Intake: posts accepted per second from concurrent SMTP clients.

listserv: `listserv serve` with a list whose members are the posting
clients; a `250` is only given once the message is committed to disk
(group commit, DESIGN "Intake"). Everything else the server does with the
posts (pipeline, scrubbing, delivery to the relay sink) runs at the same
time, as it would in an incident.

Baseline: the same clients, the same posts, against a bare aiosmtpd sink in
its own process that stores nothing: the cost of SMTP itself on this machine.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from bench.population import Person, Prose, people
from bench.report import Row, ScenarioResult
from bench.server_process import RssSampler, Running, start_warmed
from bench.sink import SinkProcess
from bench.sizes import Sizes
from bench.smtp_load import LoadResult, build_post, posting_load, send_one

LIST = "incident@lists.example"
TARGET = 0.5
ID_MARK = "<bench-msgid@client.example>"


class Posts:
    """4 KB posts, one body per client, with a unique Message-ID per post."""

    def __init__(self, posters: list[Person], size: int, *, seed: int = 3) -> None:
        prose = Prose(seed)
        self._templates: list[tuple[bytes, bytes]] = []
        for poster in posters:
            subject = prose.subject()
            body = prose.body(size // 6)
            message = build_post(poster.email, poster.name, LIST, subject, body, message_id=ID_MARK)
            raw = message.as_bytes()
            # Trim the body so the whole post is `size` bytes, give or take a line.
            if len(raw) > size:
                message.set_content(body[: max(0, len(body) - (len(raw) - size))])
                raw = message.as_bytes()
            before, _, after = raw.partition(ID_MARK.encode())
            self._templates.append((before, after))
        self.size = len(self._templates[0][0]) + len(ID_MARK) + len(self._templates[0][1])
        self._run = 0

    def next_run(self) -> None:
        """Fresh Message-IDs for the next load run (the archive refuses duplicates)."""
        self._run += 1

    def make(self, client: int, number: int) -> bytes:
        before, after = self._templates[client]
        message_id = f"<r{self._run}.c{client}.n{number}@client.example>".encode()
        return before + message_id + after


def _latency_text(load: LoadResult) -> str:
    return f"p50 {load.percentile(0.5) * 1000:.1f} ms, p99 {load.percentile(0.99) * 1000:.1f} ms"


def _load_details(load: LoadResult) -> dict[str, float | int]:
    return {
        "accepted": load.accepted,
        "refused": load.refused,
        "seconds": round(load.elapsed, 3),
        "posts_per_second": round(load.rate, 1),
        "latency_p50_ms": round(load.percentile(0.5) * 1000, 2),
        "latency_p99_ms": round(load.percentile(0.99) * 1000, 2),
        "latency_max_ms": round(max(load.latencies, default=0.0) * 1000, 2),
    }


@dataclass
class Setup:
    running: Running
    posters: list[Person]
    posts: Posts

    @property
    def senders(self) -> list[str]:
        return [poster.email for poster in self.posters]

    def close(self) -> None:
        self.running.stop()


async def setup(sizes: Sizes, workdir: Path) -> Setup:
    """The server with a list of the posting clients, started and warmed up."""
    posters = people(sizes.intake_clients, seed=21)
    posts = Posts(posters, sizes.intake_post_bytes)
    running = await start_warmed(
        workdir / "server",
        {LIST: posters},
        warm_from=posters[0].email,
        warm_list=LIST,
        warm_post=posts.make(0, 0),
    )
    posts.next_run()
    return Setup(running, posters, posts)


async def measure(sizes: Sizes, prepared: Setup) -> ScenarioResult:
    server, relay, phases = prepared.running.server, prepared.running.sink, prepared.running.phases
    senders, posts = prepared.senders, prepared.posts
    try:
        cpu_before = server.cpu_seconds()
        with RssSampler(server.pid) as rss:
            listserv = await posting_load(
                server.smtp_port, senders, LIST, posts.make, duration=sizes.intake_seconds
            )
        server_cpu = server.cpu_seconds() - cpu_before
        phases.done("listserv")
        await asyncio.to_thread(prepared.running.stop_server)
        relayed = relay.transactions
        phases.done("stop")
    finally:
        prepared.close()

    with SinkProcess() as bare:
        # The same warm-up as listserv had: two posts, then the measured run.
        for number in range(2):
            await send_one(bare.port, senders[0], [LIST], posts.make(0, number))
        posts.next_run()
        baseline = await posting_load(
            bare.port, senders, LIST, posts.make, duration=sizes.intake_seconds
        )
    phases.done("baseline")

    ratio = listserv.rate / baseline.rate if baseline.rate else None
    row = Row(
        scenario=f"intake ({sizes.intake_clients} clients, {round(posts.size / 1024)} KB posts)",
        listserv=f"{listserv.rate:.0f} posts/s ({_latency_text(listserv)})",
        baseline=f"{baseline.rate:.0f} posts/s ({_latency_text(baseline)})",
        ratio=ratio,
        target=TARGET,
        peak_rss=rss.peak,
    )
    details = {
        "clients": sizes.intake_clients,
        "post_bytes": posts.size,
        "duration_s": sizes.intake_seconds,
        "listserv": {
            **_load_details(listserv),
            "server_cpu_s": round(server_cpu, 2),
            "relay_transactions_by_shutdown": relayed,
        },
        "baseline": _load_details(baseline),
        "peak_rss_bytes": rss.peak,
        "phase_seconds": phases.seconds,
    }
    return ScenarioResult("intake", [row], details)


async def run(sizes: Sizes, workdir: Path) -> ScenarioResult:
    return await measure(sizes, await setup(sizes, workdir))
