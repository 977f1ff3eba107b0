"""Counting requests in sliding windows, in the database.

The database (not process memory) holds the counts, so several `listserv
serve` processes behind one proxy share them, and a restart does not reset
them. A bucket is a keyed digest of what is counted ("address|…",
"client|…"): the table says nothing readable about who asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from listserv.web.models import WebRateEvent


@dataclass(frozen=True, slots=True)
class Limit:
    """At most `count` events per `window`."""

    count: int
    window: timedelta


@dataclass(frozen=True, slots=True)
class WebLimits:
    # Sign-in links mailed to one address: enough for a member who lost one,
    # too few to flood a mailbox.
    links_per_address: Limit = Limit(5, timedelta(hours=1))
    # Sign-in requests and link confirmations from one client address.
    requests_per_client: Limit = Limit(20, timedelta(minutes=10))


async def count_recent(session: AsyncSession, bucket: str, limit: Limit, now: datetime) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(WebRateEvent)
        .where(col(WebRateEvent.bucket) == bucket, col(WebRateEvent.at) > now - limit.window)
    )
    return int(count or 0)


async def exceeded(session: AsyncSession, bucket: str, limit: Limit, now: datetime) -> bool:
    return await count_recent(session, bucket, limit, now) >= limit.count


def record(session: AsyncSession, bucket: str, now: datetime) -> None:
    session.add(WebRateEvent(bucket=bucket, at=now))


async def prune(session: AsyncSession, limits: WebLimits, now: datetime) -> None:
    longest = max(limits.links_per_address.window, limits.requests_per_client.window)
    await session.execute(delete(WebRateEvent).where(col(WebRateEvent.at) < now - longest))
