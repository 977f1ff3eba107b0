"""Memory: peak RSS of the server accepting one big post and fanning it out.

The post is `memory_post_bytes` on the wire (10 MB in the full run): a short
text and a PDF attachment holding a scanned page (an uncompressed image of
noise, which no compression shrinks). It goes to a list of
`memory_members` members; `[smtp] max_message_size` is raised to take it.

The figure is the peak of the summed RSS of the server process and its
children (the scrub worker), polled with psutil every 10 ms from the 250
until the sink holds every recipient and `settle_seconds` more. The baseline is the
same server's RSS idle, measured right before, after a small warm-up post
(modules imported, registry compiled, relay connections open).
Target: the peak stays within three message sizes above idle.
"""

from __future__ import annotations

import asyncio
import io
import random
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import pikepdf

from bench.population import Person, Prose, people
from bench.report import Row, ScenarioResult
from bench.server_process import (
    RssSampler,
    Running,
    high_water_marks,
    processes_rss,
    start_warmed,
    tree_rss,
)
from bench.sizes import Sizes
from bench.smtp_load import build_post, send_one

WARMUP_LIST = "warmup@lists.example"
BIG_LIST = "everyone@lists.example"
TARGET = 3.0  # peak above idle, in message sizes
MB = 1024 * 1024


def scanned_pdf(image_bytes: int, seed: int = 81) -> bytes:
    """A one-page PDF showing a grey image of `image_bytes` random pixels."""
    side = max(16, int(image_bytes**0.5))
    pixels = random.Random(seed).randbytes(side * side)
    pdf = pikepdf.new()
    image = pdf.make_stream(
        pixels,
        Type=pikepdf.Name.XObject,
        Subtype=pikepdf.Name.Image,
        Width=side,
        Height=side,
        ColorSpace=pikepdf.Name.DeviceGray,
        BitsPerComponent=8,
    )
    page = pikepdf.Dictionary(
        Type=pikepdf.Name.Page,
        MediaBox=[0, 0, 595, 842],
        Resources=pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image)),
        Contents=pdf.make_stream(b"q 595 0 0 842 0 0 cm /Im0 Do Q"),
    )
    pdf.pages.append(pikepdf.Page(pdf.make_indirect(page)))
    out = io.BytesIO()
    pdf.save(out, deterministic_id=True, compress_streams=False)
    return out.getvalue()


def big_post(poster: Person, size: int) -> bytes:
    """A post of about `size` bytes on the wire (base64 makes 3 bytes into 4, plus CRLFs)."""
    prose = Prose(83)
    image_bytes = int(size * 0.74)
    raw = b""
    for _ in range(2):  # one correction of the estimate is enough
        message = build_post(
            poster.email,
            poster.name,
            BIG_LIST,
            "Scanned report of the outage, all pages",
            prose.body(200),
            message_id="<big-post@client.example>",
        )
        message.add_attachment(
            scanned_pdf(image_bytes), maintype="application", subtype="pdf", filename="scan.pdf"
        )
        raw = message.as_bytes()
        image_bytes = int(image_bytes * size / len(raw))
    return raw


async def _idle_rss(pid: int, seconds: float) -> int:
    samples = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        samples.append(tree_rss(pid))
        await asyncio.sleep(0.05)
    return int(statistics.median(samples))


@dataclass
class Setup:
    running: Running
    poster: Person
    members: list[Person]
    post: bytes

    def close(self) -> None:
        self.running.stop()


async def setup(sizes: Sizes, workdir: Path) -> Setup:
    """The server with a list of `memory_members`, taking posts this big, warmed up."""
    population = people(sizes.memory_members, seed=71)
    poster = population[0]
    post = big_post(poster, sizes.memory_post_bytes)
    small = build_post(
        poster.email, poster.name, WARMUP_LIST, "Warm-up", "Hello.\n", message_id="<warm@bench>"
    ).as_bytes()
    running = await start_warmed(
        workdir / "server",
        {WARMUP_LIST: [poster], BIG_LIST: population},
        warm_from=poster.email,
        warm_list=WARMUP_LIST,
        warm_post=small,
        max_message_size=2 * len(post) + MB,
    )
    return Setup(running, poster, population, post)


async def measure(sizes: Sizes, prepared: Setup) -> ScenarioResult:
    server, sink, phases = prepared.running.server, prepared.running.sink, prepared.running.phases
    poster, population, post = prepared.poster, prepared.members, prepared.post
    try:
        idle = await _idle_rss(server.pid, sizes.settle_seconds)
        idle_by_process = {
            "server" if process.pid == server.pid else f"child {process.pid}": process.rss
            for process in processes_rss(server.pid)
        }
        offset = sink.recipients
        with RssSampler(server.pid) as rss:
            accepted_at = await send_one(server.smtp_port, poster.email, [BIG_LIST], post)
            done_at = await sink.wait_for_recipients(
                offset + len(population), timeout=120 + len(population) * len(post) / (5 * MB)
            )
            await asyncio.sleep(sizes.settle_seconds)
        high_water = high_water_marks(server.pid)
        phases.done("listserv")
        delivered_size = sink.last_size
    finally:
        prepared.close()
    phases.done("stop")

    above = (rss.peak - idle) / len(post)
    growth = f"+{(rss.peak - idle) / MB:.0f} MB, {above:.1f}× post"
    row = Row(
        scenario=f"memory ({len(post) / MB:.1f} MB post × {len(population):,} members)",
        listserv=f"peak {rss.peak / MB:.0f} MB ({growth})",
        baseline=f"idle {idle / MB:.0f} MB",
        ratio=None,
        target=TARGET,
        comparison="below",
        target_value=above,
        target_unit="× post",
        peak_rss=rss.peak,
    )
    details = {
        "post_bytes": len(post),
        "delivered_bytes": delivered_size,
        "members": len(population),
        "idle_rss_bytes": idle,
        "idle_rss_bytes_by_process": idle_by_process,
        "peak_rss_bytes": rss.peak,
        "peak_above_idle_in_posts": round(above, 2),
        "rss_samples": rss.samples,
        "peak_rss_bytes_by_process": rss.peaks_by_process,
        "rss_timeline_seconds_server_mb_children_mb": rss.timeline,
        "high_water_mark_sum_bytes": high_water,
        "seconds_250_to_all_delivered": round(done_at - accepted_at, 2),
        "phase_seconds": phases.seconds,
    }
    return ScenarioResult("memory", [row], details)


async def run(sizes: Sizes, workdir: Path) -> ScenarioResult:
    return await measure(sizes, await setup(sizes, workdir))
