"""Issues 3 and 4 through the running server: labels, the archive, export, scrub."""

from __future__ import annotations

import asyncio
import mailbox
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import func, select

from archive.models import (
    ArchiveHold,
    ArchiveParticipant,
    ArchivePost,
    ArchiveReader,
    ArchiveThread,
)
from filters.deattribute import ArchiveContext
from filters.identities import Registry
from listserv import registry
from listserv.cli import main as cli_main
from listserv.config import Settings
from listserv.db import Database
from listserv.models import InboundMessage, RedPolicy
from listserv.post_worker import PostWorker
from tests.conftest import ALICE, BOB, CAROL, LIST, MEMBERS
from tests.oracle import assert_nothing_leaked, assert_text_clean
from tests.support.mail import SmtpReply, post, send
from tests.support.relay import RecordingRelay
from tests.support.server import prepare, running
from tests.support.waiting import eventually

SIGNED_OFF = (
    "We block 198.51.100.23 and the domain evil-phish.example since 09:00 UTC.\n"
    "Hash: 44d88612fea8a8f36de82e1278abb02f\n\n"
    "Best regards,\nAlice Müller\nHead of SOC, Operator A GmbH\n+49 30 1234567\n"
)


async def archived(db: Database, count: int) -> list[ArchivePost]:
    async def enough() -> list[ArchivePost]:
        async with db.session() as session:
            rows = list(
                (await session.scalars(select(ArchivePost).order_by(ArchivePost.seq))).all()
            )
        return rows if len(rows) >= count else []

    return await eventually(enough, timeout=30)


async def the_registry(db: Database) -> Registry:
    async with db.session() as session:
        return await registry.load_registry(session)


async def test_posts_are_archived_de_attributed_and_threaded(
    settings: Settings, relay: RecordingRelay, db: Database
) -> None:
    await prepare(settings, lists={LIST: MEMBERS})
    async with running(settings) as server:
        first = post(
            f"Alice Müller <{ALICE.email}>", LIST, subject="Phishing wave", body=SIGNED_OFF
        )
        await send(server.smtp_port, first, mail_from=ALICE.email, recipients=[LIST])
        answer = post(
            f"Bob Brown <{BOB.email}>",
            LIST,
            subject="Re: [TLP:AMBER] Phishing wave",
            body=(
                "Same here, thanks Alice Müller.\n\n"
                f"On Tue, 3 Sep 2024 at 10:01, Alice Müller <{ALICE.email}> wrote:\n"
                "> We block 198.51.100.23\n"
            ),
            in_reply_to=str(first["Message-ID"]),
        )
        await send(server.smtp_port, answer, mail_from=BOB.email, recipients=[LIST])
        posts = await archived(db, 2)
        await relay.wait_for_recipients(6)
    identities = await the_registry(db)
    async with db.session() as session:
        threads = (await session.scalars(select(ArchiveThread))).all()
        participants = (await session.scalars(select(ArchiveParticipant))).all()
    assert len(threads) == 1
    assert threads[0].post_count == 2
    assert [p.participant for p in posts] == ["Participant A", "Participant B"]
    assert posts[1].parent_post_id == posts[0].id
    assert posts[1].in_reply_to == posts[0].message_id
    assert len(participants) == 2
    for archived_post in posts:
        assert_nothing_leaked(archived_post.form, identities)
        assert_text_clean([archived_post.text, archived_post.subject], identities)
    assert "198.51.100.23" in posts[0].text
    assert "evil-phish.example" in posts[0].text
    assert "44d88612fea8a8f36de82e1278abb02f" in posts[0].text
    assert "Participant A wrote:" in posts[1].text
    assert posts[0].subject == "Phishing wave"
    assert posts[1].subject == "Re: Phishing wave"
    # The distributed copy points at the archived post (RFC 5064).
    token = posts[0].token
    first_copy = next(d for d in relay.delivered if "Re:" not in str(d.message["Subject"]))
    url = f"https://lists.example/lists/{LIST}/posts/{token}"
    assert first_copy.message["Archived-At"] == f"<{url}>"
    assert f"\r\nArchived-At: <{url}>\r\n".encode() in first_copy.content


async def test_a_green_tag_on_an_amber_list_arrives_amber(
    settings: Settings, relay: RecordingRelay, db: Database
) -> None:
    await prepare(settings, lists={LIST: MEMBERS})
    async with running(settings) as server:
        tagged = post(ALICE.email, LIST, subject="[tlp:green] Scanner on port 8443")
        await send(server.smtp_port, tagged, mail_from=ALICE.email, recipients=[LIST])
        await relay.wait_for_recipients(3)
    message = relay.delivered[0].message
    assert str(message["Subject"]) == "[TLP:AMBER] Scanner on port 8443"
    assert message["TLP"] == "AMBER"
    body = message.get_body(("plain",))
    assert body is not None
    assert body.get_content().startswith("TLP:AMBER")


async def test_red_is_distributed_but_never_archived_and_replies_do_not_dangle(
    settings: Settings, relay: RecordingRelay, db: Database
) -> None:
    await prepare(settings, lists={LIST: MEMBERS})
    async with running(settings) as server:
        red = post(ALICE.email, LIST, subject="TLP:RED outage details", body="Core router down.\n")
        await send(server.smtp_port, red, mail_from=ALICE.email, recipients=[LIST])
        await relay.wait_for_recipients(3)
        reply = post(
            BOB.email,
            LIST,
            subject="Re: outage details",
            body="Noted.\n",
            in_reply_to=str(red["Message-ID"]),
        )
        await send(server.smtp_port, reply, mail_from=BOB.email, recipients=[LIST])
        await relay.wait_for_recipients(6)

        async def both_decided() -> list[str | None]:
            async with db.session() as session:
                labels = list((await session.scalars(select(InboundMessage.label))).all())
            return labels if len(labels) == 2 and None not in labels else []

        labels = await eventually(both_decided)
    async with db.session() as session:
        participants = (await session.scalars(select(ArchiveParticipant))).all()
        count = await session.scalar(select(func.count()).select_from(ArchivePost))
    red_copy = relay.delivered[0].message
    assert str(red_copy["Subject"]) == "[TLP:RED] outage details"
    assert red_copy["TLP"] == "RED"
    assert sorted(relay.delivered[0].recipients) == sorted(m.email for m in MEMBERS)
    # A reply inherits at least the label of the post it answers (issue 3): the
    # answer to a RED post is RED too, so neither enters the archive, and no
    # participant letter is allocated for either.
    assert str(relay.delivered[1].message["Subject"]) == "Re: [TLP:RED] outage details"
    assert labels == ["TLP:RED", "TLP:RED"]
    assert count == 0
    assert participants == []


async def test_an_amber_reply_to_an_unarchived_parent_has_no_dangling_reference(
    settings: Settings, relay: RecordingRelay, db: Database
) -> None:
    await prepare(settings, lists={LIST: MEMBERS})
    async with running(settings) as server:
        reply = post(
            BOB.email,
            LIST,
            subject="Re: something off-list",
            body="Answering a mail the list never saw.\n",
            in_reply_to="<off-list-1234@mail.operator-a.example>",
        )
        await send(server.smtp_port, reply, mail_from=BOB.email, recipients=[LIST])
        posts = await archived(db, 1)
    assert posts[0].in_reply_to is None
    assert posts[0].references == []
    assert b"In-Reply-To" not in posts[0].form
    assert b"References" not in posts[0].form
    assert b"operator-a" not in posts[0].form


async def test_red_is_refused_outright_where_the_list_forbids_it(
    settings: Settings, relay: RecordingRelay, db: Database
) -> None:
    await prepare(settings, lists={LIST: MEMBERS}, red=RedPolicy.REFUSE)
    async with running(settings) as server:
        with pytest.raises(SmtpReply) as refused:
            await send(
                server.smtp_port,
                post(ALICE.email, LIST, subject="[TLP:RED] do not share"),
                mail_from=ALICE.email,
                recipients=[LIST],
            )
    assert refused.value.code == 550
    assert refused.value.text.startswith("5.7.1 This list does not accept TLP:RED")


async def test_amber_strict_records_the_members_at_posting_time(
    settings: Settings, relay: RecordingRelay, db: Database
) -> None:
    await prepare(settings, lists={LIST: MEMBERS})
    async with running(settings) as server:
        strict = post(ALICE.email, LIST, subject="[TLP:AMBER+STRICT] internal only")
        await send(server.smtp_port, strict, mail_from=ALICE.email, recipients=[LIST])
        posts = await archived(db, 1)
    async with db.session() as session:
        readers = (await session.scalars(select(ArchiveReader))).all()
    assert posts[0].restricted
    assert posts[0].label == "TLP:AMBER+STRICT"
    assert len(readers) == len(MEMBERS)
    assert all(len(r.reader_digest) == 64 for r in readers)  # keyed digests, no ids in clear


async def test_the_raw_original_is_deleted_once_delivered(
    settings: Settings, relay: RecordingRelay, db: Database
) -> None:
    await prepare(settings, lists={LIST: MEMBERS})
    async with running(settings) as server:
        await send(
            server.smtp_port, post(ALICE.email, LIST), mail_from=ALICE.email, recipients=[LIST]
        )
        await relay.wait_for_recipients(3)

        async def raw_gone() -> bool:
            async with db.session() as session:
                raws = (await session.scalars(select(InboundMessage.raw))).all()
            return raws == [None]

        await eventually(raw_gone)


async def test_an_encrypted_post_is_distributed_but_its_archive_copy_is_held(
    settings: Settings,
    relay: RecordingRelay,
    db: Database,
    config_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await prepare(settings, lists={LIST: MEMBERS})
    encrypted = EmailMessage()
    encrypted["From"] = ALICE.email
    encrypted["To"] = LIST
    encrypted["Subject"] = "encrypted"
    encrypted["Message-ID"] = "<enc-1@operator-a.example>"
    encrypted.set_type("multipart/encrypted")
    encrypted.set_param("protocol", "application/pgp-encrypted")
    control = EmailMessage()
    control.set_content(
        b"Version: 1\n", maintype="application", subtype="pgp-encrypted", cte="7bit"
    )
    blob = EmailMessage()
    blob.set_content(
        b"-----BEGIN PGP MESSAGE-----\n\nhQEMA5xyz\n-----END PGP MESSAGE-----\n",
        maintype="application",
        subtype="octet-stream",
        cte="7bit",
    )
    encrypted.attach(control)
    encrypted.attach(blob)
    async with running(settings) as server:
        await send(server.smtp_port, encrypted, mail_from=ALICE.email, recipients=[LIST])
        await relay.wait_for_recipients(3)

        async def holds() -> list[ArchiveHold]:
            async with db.session() as session:
                return list((await session.scalars(select(ArchiveHold))).all())

        held = await eventually(holds)
        async with db.session() as session:
            count = await session.scalar(select(func.count()).select_from(ArchivePost))
            raw = await session.scalar(select(InboundMessage.raw))
    assert count == 0
    assert "encrypted" in held[0].reason
    assert raw is not None  # kept for the moderator while the review is pending

    # A moderator reviews it: scrubbing again still fails closed, so they withhold it.
    config = ["--config", str(config_path)]
    await asyncio.to_thread(cli_main, [*config, "archive", "holds", LIST])
    assert f"#{held[0].id}  post 1  encrypted" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        await asyncio.to_thread(cli_main, [*config, "archive", "retry", str(held[0].id)])
    assert "still fails closed" in capsys.readouterr().err
    await asyncio.to_thread(cli_main, [*config, "archive", "withhold", str(held[0].id)])
    async with db.session() as session:
        raw = await session.scalar(select(InboundMessage.raw))
        state = await session.scalar(select(ArchiveHold.state))
        count = await session.scalar(select(func.count()).select_from(ArchivePost))
    assert (raw, state, count) == (None, "withheld", 0)


async def test_a_scrubber_that_overruns_fails_closed() -> None:
    worker = PostWorker(timeout=0.01)
    ctx = ArchiveContext(
        list_address=LIST,
        list_name="CISO",
        list_key=b"k" * 32,
        received_at=datetime(2024, 9, 3, 10, tzinfo=UTC),
        label="TLP:AMBER",
        author_key=None,
    )
    try:
        form = await worker.archive_form(b"Subject: x\n\nhello\n", Registry(()), ctx)
    finally:
        await worker.close()
    assert form.hold_reason == "the scrubber took too long"
    assert form.message == b""
    assert form.text == ""


async def test_export_writes_archive_forms_only(
    settings: Settings, relay: RecordingRelay, config_path: Path, tmp_path: Path, db: Database
) -> None:
    await prepare(settings, lists={LIST: MEMBERS})
    async with running(settings) as server:
        for sender, subject in ((ALICE, "From the SOC"), (CAROL, "From the CERT")):
            message = post(
                f"{sender.name} <{sender.email}>", LIST, subject=subject, body=SIGNED_OFF
            )
            await send(server.smtp_port, message, mail_from=sender.email, recipients=[LIST])
        await archived(db, 2)
    identities = await the_registry(db)
    out = tmp_path / "archive.mbox"
    await asyncio.to_thread(
        cli_main, ["--config", str(config_path), "archive", "export", LIST, "-o", str(out)]
    )
    box = mailbox.mbox(str(out))
    subjects = [str(m["Subject"]) for m in box]
    box.close()
    assert subjects == ["From the SOC", "From the CERT"]
    data = out.read_bytes()
    assert b"From archive@invalid " in data
    assert_nothing_leaked(data, identities)


async def test_scrub_prints_the_archive_form_and_stores_nothing(
    settings: Settings,
    config_path: Path,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
    db: Database,
) -> None:
    await prepare(settings, lists={LIST: MEMBERS})
    eml = tmp_path / "post.eml"
    eml.write_bytes(post(f"Alice Müller <{ALICE.email}>", LIST, body=SIGNED_OFF).as_bytes())
    await asyncio.to_thread(cli_main, ["--config", str(config_path), "scrub", LIST, str(eml)])
    out, err = capfd.readouterr()
    assert "From: Participant A" in out
    assert "198.51.100.23" in out
    assert "Müller" not in out
    assert "flag: ip-address" in err
    identities = await the_registry(db)
    async with db.session() as session:
        count = await session.scalar(select(func.count()).select_from(ArchivePost))
    assert count == 0
    assert_nothing_leaked(out.encode(), identities)
