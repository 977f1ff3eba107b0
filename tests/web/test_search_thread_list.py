"""The thread list at scale (issue 7), on SQLite and PostgreSQL.

`archive.reading.thread_page` reads threads newest activity first in
batches and stops once the page is settled; here it must give, page by
page, exactly what summing up every visible post of the list gives: the
summary computed in this file from the raw rows, with hidden AMBER+STRICT
posts (also a thread's newest, or all of a thread's), replies to old threads
and many posts sharing one rounded hour.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import col

from archive import reading
from archive.models import ArchivePost, ArchiveReader
from archive.reading import STRICTNESS, Reader, ThreadSummary
from listserv import registry
from listserv.config import Settings, load_settings
from listserv.db import Database
from listserv.keys import Keys
from listserv.web.access import reader_of
from tests.support.server import write_config
from tests.web.conftest import ALICE, BASE, BOB, CAROL, LIST, OTHER
from tests.web.helpers import archive_post, member_ids

START = datetime(2025, 6, 2, 8, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def web_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    extra = {"web": {"base_url": BASE}}
    if request.param == "sqlite":
        return load_settings(write_config(tmp_path, extra=extra))
    url = request.getfixturevalue("postgres_url")
    return load_settings(write_config(tmp_path, database_url=url, extra=extra))


@dataclass(frozen=True)
class Planned:
    original_id: str
    subject: str
    hour: int
    replying_to: str | None
    strict_for: str | None  # None: TLP:AMBER; else AMBER+STRICT readable by this member


def plan_archive(rng: random.Random) -> list[Planned]:
    """Threads started over time, replies to any earlier post (old threads too)."""
    planned: list[Planned] = []
    for number in range(110):
        # Few distinct hours: many posts share one, as rounded dates do.
        hour = number // 3 + rng.choice((0, 0, 0, 5, 30))
        starts_thread = not planned or rng.random() < 0.35
        parent = None if starts_thread else rng.choice(planned).original_id
        strict_for = rng.choice((None, None, None, None, ALICE, CAROL))
        planned.append(Planned(f"<m{number}@x>", f"Subject {number}", hour, parent, strict_for))
    # A thread only Carol may read, and one whose newest post only Carol may read.
    planned.append(Planned("<carol-only@x>", "Carol only", 200, None, CAROL))
    planned.append(Planned("<carol-reply@x>", "Re: Carol only", 201, "<carol-only@x>", CAROL))
    planned.append(Planned("<late-root@x>", "Late thread", 20, None, None))
    planned.append(Planned("<late-hidden@x>", "Re: Late", 300, "<late-root@x>", CAROL))
    return planned


async def build(db: Database, keys: Keys) -> None:
    ids = await member_ids(db, LIST)
    for post in plan_archive(random.Random(7)):
        await archive_post(
            db,
            keys,
            LIST,
            original_id=post.original_id,
            subject=post.subject,
            replying_to=[post.replying_to] if post.replying_to else [],
            label="TLP:AMBER+STRICT" if post.strict_for else "TLP:AMBER",
            readers=[ids[post.strict_for]] if post.strict_for else [],
            date=START + timedelta(hours=post.hour),
        )
    # Another list's newer threads are never part of this list's pages.
    await archive_post(db, keys, OTHER, original_id="<other@x>", date=START + timedelta(hours=999))


async def reader_for(db: Database, keys: Keys, email: str) -> Reader:
    ids = await member_ids(db, LIST)
    async with db.session() as session:
        mailing_list = await registry.get_list(session, LIST)
    assert mailing_list.id is not None
    return reader_of(keys, LIST, ids[email], mailing_list.id)


async def expected_threads(db: Database, reader: Reader) -> list[ThreadSummary]:
    """Every visible post of the list summed up per thread, by brute force."""
    async with db.session() as session:
        posts = (
            await session.scalars(
                select(ArchivePost).where(col(ArchivePost.list_id) == reader.list_id)
            )
        ).all()
        readers = {
            (row.post_id, row.reader_digest)
            for row in (await session.scalars(select(ArchiveReader))).all()
        }
    by_thread: dict[int, list[ArchivePost]] = {}
    for post in posts:
        visible = post.label != "TLP:RED" and (
            not post.restricted or (post.id, reader.reader_digest) in readers
        )
        if visible:
            by_thread.setdefault(post.thread_id, []).append(post)
    summaries = []
    for thread_posts in by_thread.values():
        first = min(thread_posts, key=lambda p: p.seq)
        strictest = max(STRICTNESS[p.label] for p in thread_posts)
        summary = ThreadSummary(
            token=first.token,
            subject=first.subject,
            label=next(label for label, value in STRICTNESS.items() if value == strictest),
            posts=len(thread_posts),
            first_at=min(p.date for p in thread_posts),
            last_at=max(p.date for p in thread_posts),
        )
        summaries.append((summary.last_at, max(p.seq for p in thread_posts), summary))
    summaries.sort(key=lambda entry: (entry[0], entry[1]), reverse=True)
    return [summary for _, _, summary in summaries]


async def test_every_page_is_what_summing_up_all_visible_posts_gives(
    db: Database, keys: Keys, lists: None
) -> None:
    await build(db, keys)
    for email in (ALICE, BOB, CAROL):
        reader = await reader_for(db, keys, email)
        expected = await expected_threads(db, reader)
        for per_page in (1, 4, 7, 50):
            got: list[ThreadSummary] = []
            pages = -(-len(expected) // per_page)
            for page in range(1, pages + 2):
                async with db.session() as session:
                    found = await reading.thread_page(session, reader, page=page, per_page=per_page)
                assert (found.total, found.pages) == (len(expected), pages), (email, per_page)
                got.extend(found.threads)
            assert got == expected, (email, per_page)
    carol = [t.subject for t in await expected_threads(db, await reader_for(db, keys, CAROL))]
    alice = [t.subject for t in await expected_threads(db, await reader_for(db, keys, ALICE))]
    assert carol[:2] == ["Late thread", "Carol only"]  # the hidden reply is Carol's latest
    assert "Carol only" not in alice
    assert "Late thread" in alice[5:]  # for Alice, its visible activity is older
