"""Issue 2: fan-out in batches, delivery switched off, permanent failures per member."""

from __future__ import annotations

import logging
from collections import Counter

import pytest
from sqlalchemy import select

from listserv.config import Settings
from listserv.db import Database
from listserv.models import DeliveryFailure, Member
from tests.conftest import ALICE, BOB, CAROL, LIST, MEMBERS
from tests.support.mail import post, send
from tests.support.relay import RecordingRelay
from tests.support.server import MemberSpec, prepare, running
from tests.support.waiting import eventually


async def test_ten_thousand_members_receive_one_post_in_batches(
    settings: Settings, relay: RecordingRelay
) -> None:
    members = [MemberSpec(f"m{n:05}@org{n % 97}.example") for n in range(10_000)]
    members.append(ALICE)
    await prepare(settings, lists={LIST: members})
    async with running(settings) as server:
        await send(
            server.smtp_port, post(ALICE.email, LIST), mail_from=ALICE.email, recipients=[LIST]
        )
        await relay.wait_for_recipients(len(members), timeout=120)
    counts = Counter(relay.recipients)
    assert len(counts) == len(members)
    assert set(counts.values()) == {1}
    limit = settings.delivery.max_recipients_per_transaction
    assert max(len(d.recipients) for d in relay.delivered) <= limit
    assert len(relay.delivered) == -(-len(members) // limit)
    # One rendering for everyone: every transaction carried the same bytes.
    assert len({d.content for d in relay.delivered}) == 1


async def test_members_with_delivery_off_get_nothing(
    settings: Settings, relay: RecordingRelay
) -> None:
    await prepare(settings, lists={LIST: MEMBERS})
    db = Database(settings.database_url)
    async with db.transaction() as session:
        carol = (await session.scalars(select(Member).where(Member.email == CAROL.email))).one()
        carol.delivery_enabled = False
    await db.dispose()
    async with running(settings) as server:
        await send(
            server.smtp_port, post(ALICE.email, LIST), mail_from=ALICE.email, recipients=[LIST]
        )
        await relay.wait_for_recipients(2)
    assert sorted(relay.recipients) == sorted([ALICE.email, BOB.email])


async def test_permanent_failures_are_recorded_per_member(
    settings: Settings, relay: RecordingRelay, caplog: pytest.LogCaptureFixture
) -> None:
    relay.rcpt_reply = lambda a: "550 5.1.1 No such user" if a == CAROL.email else None
    await prepare(settings, lists={LIST: MEMBERS})
    caplog.set_level(logging.INFO, logger="listserv.decision")
    async with running(settings) as server:
        await send(
            server.smtp_port, post(ALICE.email, LIST), mail_from=ALICE.email, recipients=[LIST]
        )
        await relay.wait_for_recipients(2)
        db = Database(settings.database_url)

        async def recorded_failures() -> list[DeliveryFailure]:
            async with db.session() as session:
                return list((await session.scalars(select(DeliveryFailure))).all())

        failures = await eventually(recorded_failures)
        async with db.session() as session:
            carol = (await session.scalars(select(Member).where(Member.email == CAROL.email))).one()
        await db.dispose()
    assert [(f.address, f.code) for f in failures] == [(CAROL.email, 550)]
    assert carol.bounce_score == 1
    assert sorted(relay.recipients) == sorted([ALICE.email, BOB.email])
    delivery_lines = [r.getMessage() for r in caplog.records if "delivery batch" in r.getMessage()]
    assert any("outcome=done accepted=2 retry=0 failed=1" in line for line in delivery_lines)


async def test_every_decision_is_one_log_line(
    settings: Settings, relay: RecordingRelay, caplog: pytest.LogCaptureFixture
) -> None:
    await prepare(settings, lists={LIST: MEMBERS})
    caplog.set_level(logging.INFO, logger="listserv.decision")
    async with running(settings) as server:
        await send(
            server.smtp_port, post(ALICE.email, LIST), mail_from=ALICE.email, recipients=[LIST]
        )
        await relay.wait_for_recipients(3)
    lines = [r.getMessage() for r in caplog.records if r.name == "listserv.decision"]
    accepted = [line for line in lines if "outcome=accepted" in line]
    assert len(accepted) == 1
    line = accepted[0]
    assert f"list={LIST}" in line
    assert "inbound=1" in line
    assert "reasons=ok" in line
    assert "id=<" in line
    assert "@archive.lists.example>" in line
    # The log names no member: not the author, not an address.
    assert ALICE.email not in line
    assert "Alice" not in line
