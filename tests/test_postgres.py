"""The same server on PostgreSQL, and several processes sharing one database."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from archive.models import ArchivePost
from listserv import moderation
from listserv.config import load_settings
from listserv.db import Database
from listserv.models import NonMemberPolicy
from tests.conftest import ALICE, BOB, CAROL, LIST, MEMBERS
from tests.support.mail import post, send
from tests.support.relay import RecordingRelay
from tests.support.server import ServerProcess, prepare, running, write_config
from tests.support.waiting import eventually


async def test_posting_archiving_and_moderation_on_postgresql(
    tmp_path: Path, relay: RecordingRelay, postgres_url: str
) -> None:
    settings = load_settings(
        write_config(tmp_path, relay_port=relay.port, database_url=postgres_url)
    )
    await prepare(settings, lists={LIST: MEMBERS}, nonmember=NonMemberPolicy.HOLD)
    db = Database(settings.database_url)
    try:
        async with running(settings) as server:
            first = post(f"Alice Müller <{ALICE.email}>", LIST, subject="On PostgreSQL")
            await send(server.smtp_port, first, mail_from=ALICE.email, recipients=[LIST])
            reply = post(
                BOB.email, LIST, subject="Re: On PostgreSQL", in_reply_to=str(first["Message-ID"])
            )
            await send(server.smtp_port, reply, mail_from=BOB.email, recipients=[LIST])
            outsider = post("olga@vendor.example", LIST, subject="From outside")
            await send(
                server.smtp_port, outsider, mail_from="olga@vendor.example", recipients=[LIST]
            )

            async def two_archived() -> list[ArchivePost]:
                async with db.session() as session:
                    rows = list(
                        (await session.scalars(select(ArchivePost).order_by(ArchivePost.seq))).all()
                    )
                return rows if len(rows) == 2 else []

            posts = await eventually(two_archived, timeout=30)
            held = await eventually(lambda: moderation.held_posts(db, LIST), timeout=30)
            assert await moderation.approve(db, held[0].id, moderator=BOB.email, via="web") == (
                moderation.Verdict.APPROVED
            )
            await relay.wait_for(
                lambda: any(
                    "From outside" in str(d.message["Subject"]) and CAROL.email in d.recipients
                    for d in relay.delivered
                ),
                timeout=30,
            )
    finally:
        await db.dispose()
    assert [p.participant for p in posts] == ["Participant A", "Participant B"]
    assert posts[1].parent_post_id == posts[0].id


async def test_two_processes_share_one_database_and_deliver_each_post_once(
    tmp_path: Path, relay: RecordingRelay, postgres_url: str
) -> None:
    config = write_config(
        tmp_path,
        relay_port=relay.port,
        database_url=postgres_url,
        extra={"delivery": {"max_recipients_per_transaction": 2}},
    )
    await prepare(load_settings(config), lists={LIST: MEMBERS})
    first = ServerProcess(config)
    second_dir = tmp_path / "second"
    second_dir.mkdir()
    second_config = second_dir / "config.toml"
    second_config.write_text(config.read_text())
    second = ServerProcess(second_config)
    try:
        first.start()
        second.start()
        sends = [
            send(
                (first if n % 2 else second).smtp_port,
                post(ALICE.email, LIST, subject=f"burst {n}"),
                mail_from=ALICE.email,
                recipients=[LIST],
            )
            for n in range(20)
        ]
        await asyncio.gather(*sends)
        await relay.wait_for_recipients(20 * len(MEMBERS), timeout=60)
        await asyncio.sleep(2)  # long enough for a duplicate to arrive
    finally:
        first.kill()
        second.kill()
    copies = Counter(
        (str(d.message["Subject"]), recipient)
        for d in relay.delivered
        for recipient in d.recipients
    )
    assert len(copies) == 20 * len(MEMBERS)
    assert set(copies.values()) == {1}
    # Both processes did part of the work.
    assert "outcome=accepted" in first.output
    assert "outcome=accepted" in second.output
