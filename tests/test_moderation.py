"""Issue 5 end to end: held posts, one-mail approval, notices, CLI."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from listserv.cli import main as cli_main
from listserv.config import Settings
from listserv.db import Database
from listserv.models import InboundMessage, ModerationToken, NonMemberPolicy, utcnow
from listserv.registry import registry_version
from tests.conftest import ALICE, BOB, CAROL, LIST, MEMBERS
from tests.support.mail import post, send
from tests.support.relay import Delivered, RecordingRelay
from tests.support.server import MemberSpec, RunningServer, prepare, running
from tests.support.waiting import eventually

OUTSIDER = "Olga Outsider <olga@vendor.example>"
OLGA = "olga@vendor.example"
DAVE = MemberSpec("dave@cert-d.example", "Dave Owner", "CERT D", ("cert-d.example",), "owner")
ADDRESS = re.compile(r"mailto:(ciso-(approve|reject)\+[a-z2-7]+@lists\.example)")


def body(delivered: Delivered) -> str:
    part = delivered.message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def requests_for(relay: RecordingRelay, moderator: str) -> list[Delivered]:
    return [d for d in relay.to(moderator) if "held for moderation" in str(d.message["Subject"])]


def decision_addresses(request: Delivered) -> dict[str, str]:
    return {kind: address for address, kind in ADDRESS.findall(body(request))}


async def hold_one(server: RunningServer, relay: RecordingRelay, subject: str) -> Delivered:
    """A non-member post, held; returns Bob's moderator request."""
    before = len(requests_for(relay, BOB.email))
    await send(
        server.smtp_port,
        post(OUTSIDER, LIST, subject=subject, body="Indicators: 203.0.113.9, evil-phish.example\n"),
        mail_from=OLGA,
        recipients=[LIST],
    )
    await relay.wait_for(lambda: len(requests_for(relay, BOB.email)) > before)
    return requests_for(relay, BOB.email)[-1]


async def reply(server: RunningServer, sender: str, to: str, text: str) -> None:
    await send(
        server.smtp_port,
        post(sender, to, subject="Re: held for moderation", body=text),
        mail_from=sender,
        recipients=[to],
    )


@pytest.fixture
async def moderated(settings: Settings) -> Settings:
    await prepare(settings, lists={LIST: (*MEMBERS, DAVE)}, nonmember=NonMemberPolicy.HOLD)
    return settings


async def test_a_held_post_asks_every_moderator_and_tells_the_poster(
    moderated: Settings, relay: RecordingRelay
) -> None:
    async with running(moderated) as server:
        request = await hold_one(server, relay, "Vendor advisory for operators")
        await relay.wait_for(lambda: bool(requests_for(relay, DAVE.email)) and bool(relay.to(OLGA)))
    text = body(request)
    assert "olga@vendor.example" in text
    assert "Vendor advisory for operators" in text
    assert "The sender is not a member of the list." in text
    assert "TLP:AMBER" in text
    assert "Indicators: 203.0.113.9, evil-phish.example" in text
    assert set(decision_addresses(request)) == {"approve", "reject"}
    assert request.message["Auto-Submitted"] == "auto-generated"
    assert not requests_for(relay, ALICE.email)  # only moderators and owners
    notice = relay.to(OLGA)[0].message
    assert "awaits a moderator" in str(notice["Subject"])
    assert notice["Auto-Submitted"] == "auto-replied"
    # Nothing went to the members.
    assert not [d for d in relay.delivered if str(d.message["Subject"]).startswith("[TLP:")]


async def test_a_moderators_reply_to_the_approve_address_distributes_it(
    moderated: Settings, relay: RecordingRelay
) -> None:
    async with running(moderated) as server:
        request = await hold_one(server, relay, "Approve me")
        await reply(server, BOB.email, decision_addresses(request)["approve"], "ok\n")
        await relay.wait_for(
            lambda: (
                len(
                    [
                        d
                        for d in relay.delivered
                        if "[TLP:AMBER] Approve me" in str(d.message["Subject"])
                    ]
                )
                >= 1
            )
        )
        distributed = [
            d for d in relay.delivered if "[TLP:AMBER] Approve me" in str(d.message["Subject"])
        ]
        await relay.wait_for(lambda: any("approved" in body(d) for d in relay.to(BOB.email)))
    assert sorted(distributed[0].recipients) == sorted([m.email for m in (*MEMBERS, DAVE)])


async def test_the_same_reply_from_a_non_moderator_changes_nothing(
    moderated: Settings, relay: RecordingRelay
) -> None:
    async with running(moderated) as server:
        request = await hold_one(server, relay, "Not yours to approve")
        await reply(server, CAROL.email, decision_addresses(request)["approve"], "approve\n")
        await relay.wait_for(
            lambda: any("nothing changed" in body(d) for d in relay.to(CAROL.email))
        )
        db = Database(moderated.database_url)
        async with db.session() as session:
            states = (await session.scalars(select(InboundMessage.state))).all()
        await db.dispose()
    assert "held" in states
    assert not [d for d in relay.delivered if "[TLP:AMBER] Not yours" in str(d.message["Subject"])]


async def test_a_reply_to_the_reject_address_sends_the_poster_the_reason(
    moderated: Settings, relay: RecordingRelay
) -> None:
    async with running(moderated) as server:
        request = await hold_one(server, relay, "Reject me")
        text = "\n> quoted request text\nPlease share this through your CERT instead.\n-- \nBob\n"
        await reply(server, BOB.email, decision_addresses(request)["reject"], text)
        await relay.wait_for(
            lambda: any("rejected" in str(d.message["Subject"]) for d in relay.to(OLGA))
        )
    rejection = next(d for d in relay.to(OLGA) if "rejected" in str(d.message["Subject"]))
    assert "Reason: Please share this through your CERT instead." in body(rejection)
    assert rejection.message["Auto-Submitted"] == "auto-replied"


async def test_a_reused_or_expired_token_is_refused(
    moderated: Settings, relay: RecordingRelay
) -> None:
    async with running(moderated) as server:
        first = await hold_one(server, relay, "First")
        approve_first = decision_addresses(first)["approve"]
        await reply(server, BOB.email, approve_first, "yes\n")
        await relay.wait_for(
            lambda: any("[TLP:AMBER] First" in str(d.message["Subject"]) for d in relay.delivered)
        )
        await reply(server, DAVE.email, approve_first, "yes again\n")
        await relay.wait_for(
            lambda: any("already decided" in body(d) for d in relay.to(DAVE.email))
        )

        second = await hold_one(server, relay, "Second")
        db = Database(moderated.database_url)
        async with db.transaction() as session:
            await session.execute(
                update(ModerationToken)
                .where(ModerationToken.used_at.is_(None))  # type: ignore[union-attr]
                .values(expires_at=utcnow() - timedelta(minutes=1))
            )
        await db.dispose()
        await reply(server, BOB.email, decision_addresses(second)["approve"], "yes\n")
        await relay.wait_for(lambda: any("expired" in body(d) for d in relay.to(BOB.email)))
    assert not any("[TLP:AMBER] Second" in str(d.message["Subject"]) for d in relay.delivered)


async def test_cli_approve_and_reject_do_the_same(
    moderated: Settings,
    relay: RecordingRelay,
    config_path: object,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with running(moderated) as server:
        await hold_one(server, relay, "Via CLI one")
        await hold_one(server, relay, "Via CLI two")
        config = str(config_path)
        await asyncio.to_thread(cli_main, ["--config", config, "held", "list", LIST])
        listing = capsys.readouterr().out
        ids = [int(n) for n in re.findall(r"^#(\d+)", listing, re.MULTILINE)]
        assert len(ids) == 2
        assert "Via CLI one" in listing
        assert "The sender is not a member of the list." in listing
        await asyncio.to_thread(cli_main, ["--config", config, "held", "approve", str(ids[0])])
        await asyncio.to_thread(
            cli_main, ["--config", config, "held", "reject", str(ids[1]), "--reason", "Off topic"]
        )
        await relay.wait_for(
            lambda: any(
                "[TLP:AMBER] Via CLI one" in str(d.message["Subject"]) for d in relay.delivered
            )
        )
        await relay.wait_for(lambda: any("Reason: Off topic" in body(d) for d in relay.to(OLGA)))
        with pytest.raises(SystemExit) as again:
            await asyncio.to_thread(cli_main, ["--config", config, "held", "approve", str(ids[0])])
        assert again.value.code == 1
        assert f"#{ids[0]} was already decided" in capsys.readouterr().err


async def test_held_notices_are_capped_at_one_an_hour(
    moderated: Settings, relay: RecordingRelay
) -> None:
    async with running(moderated) as server:
        for n in range(20):
            await send(
                server.smtp_port,
                post(OUTSIDER, LIST, subject=f"Burst {n}"),
                mail_from=OLGA,
                recipients=[LIST],
            )
        await relay.wait_for(lambda: len(requests_for(relay, BOB.email)) == 20, timeout=60)
        db = Database(moderated.database_url)

        async def all_held() -> bool:
            async with db.session() as session:
                states = (await session.scalars(select(InboundMessage.state))).all()
            return states.count("held") == 20

        await eventually(all_held)
        await db.dispose()
        await asyncio.sleep(1.0)
    held_notices = [d for d in relay.to(OLGA) if "awaits a moderator" in str(d.message["Subject"])]
    assert len(held_notices) == 1


async def test_only_a_members_first_post_is_held_when_the_list_asks(
    settings: Settings, relay: RecordingRelay
) -> None:
    await prepare(
        settings,
        lists={LIST: (*MEMBERS, DAVE)},
        list_options={LIST: {"first_post_moderated": True}},
    )

    def distributed(subject: str) -> list[Delivered]:
        return [d for d in relay.delivered if f"[TLP:AMBER] {subject}" in str(d.message["Subject"])]

    async def alice_posts(subject: str) -> None:
        await send(
            server.smtp_port,
            post(f"{ALICE.name} <{ALICE.email}>", LIST, subject=subject, body="Seen here too.\n"),
            mail_from=ALICE.email,
            recipients=[LIST],
        )

    db = Database(settings.database_url)
    try:
        async with running(settings) as server:
            async with db.session() as session:
                version_before = await registry_version(session)
            await alice_posts("My first post")
            await relay.wait_for(lambda: bool(requests_for(relay, BOB.email)))
            request = requests_for(relay, BOB.email)[0]
            assert "first post" in body(request)
            await reply(server, BOB.email, decision_addresses(request)["approve"], "ok\n")
            await relay.wait_for(lambda: bool(distributed("My first post")))
            await alice_posts("My second post")
            await relay.wait_for(lambda: bool(distributed("My second post")))
            async with db.session() as session:
                version_after = await registry_version(session)
        assert not any("My second post" in body(d) for d in requests_for(relay, BOB.email))
        # A post count is read from the database, not by reloading every member.
        assert version_after == version_before
    finally:
        await db.dispose()
