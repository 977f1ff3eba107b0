"""How big each scenario is: the full run, and `--quick` for CI."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Sizes:
    intake_clients: int
    intake_post_bytes: int
    intake_seconds: float
    fanout_members: int  # one post to this many members
    burst_posts: int  # then this many posts …
    burst_members: int  # … to a list of this many members
    scrub_messages: int  # corpus size
    scrub_registry: int  # members the de-attribution knows
    scrub_seconds: float  # minimum time measured per side
    archive_posts: int
    archive_rounds: int  # each search query runs this many times per side
    archive_budget_seconds: float  # at most this long per side and kind of request
    memory_post_bytes: int
    memory_members: int
    settle_seconds: float  # idle RSS is measured over this long, and the peak this long after


FULL = Sizes(
    intake_clients=8,
    intake_post_bytes=4096,
    intake_seconds=10.0,
    fanout_members=10_000,
    burst_posts=100,
    burst_members=1_000,
    scrub_messages=120,
    scrub_registry=200,
    scrub_seconds=6.0,
    archive_posts=100_000,
    archive_rounds=5,
    archive_budget_seconds=30.0,
    memory_post_bytes=10 * 1024 * 1024,
    memory_members=10_000,
    settle_seconds=1.0,
)

QUICK = Sizes(
    intake_clients=8,
    intake_post_bytes=4096,
    intake_seconds=1.0,
    fanout_members=300,
    burst_posts=4,
    burst_members=100,
    scrub_messages=12,
    scrub_registry=200,
    scrub_seconds=1.0,
    archive_posts=4_000,
    archive_rounds=2,
    archive_budget_seconds=3.0,
    memory_post_bytes=1024 * 1024,
    memory_members=300,
    settle_seconds=0.5,
)
