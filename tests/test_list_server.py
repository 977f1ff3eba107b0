"""Issue 2 end to end: members post, every member receives it, nothing accepted is lost."""

from __future__ import annotations

import base64
from pathlib import Path

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from listserv import smtp_replies
from listserv.config import Settings, load_settings
from listserv.models import NonMemberPolicy
from tests.conftest import ALICE, BOB, CAROL, LIST, MEMBERS
from tests.support.mail import SmtpReply, post, send
from tests.support.relay import RecordingRelay
from tests.support.server import prepare, running, write_config


async def test_a_members_post_reaches_every_member_with_list_headers(
    settings: Settings, relay: RecordingRelay
) -> None:
    await prepare(settings, lists={LIST: MEMBERS})
    async with running(settings) as server:
        reply = await send(
            server.smtp_port,
            post(f"Alice Müller <{ALICE.email}>", LIST),
            mail_from=ALICE.email,
            recipients=[LIST],
        )
        assert reply.startswith("2.6.0")
        await relay.wait_for_recipients(3)
    assert sorted(relay.recipients) == sorted(m.email for m in MEMBERS)
    delivered = relay.delivered[0]
    assert delivered.mail_from == "ciso-bounces@lists.example"
    message = delivered.message
    assert message["List-Id"] == '"CISO" <ciso.lists.example>'
    assert message["List-Post"] == f"<mailto:{LIST}>"
    assert message["List-Help"] == "<mailto:ciso-request@lists.example?subject=help>"
    assert "mailto:ciso-request@lists.example?subject=unsubscribe" in message["List-Unsubscribe"]
    assert message["List-Archive"] == f"<https://lists.example/lists/{LIST}/>"
    assert message["Precedence"] == "list"
    assert message["X-Loop"] == LIST
    assert message["From"].addresses[0].addr_spec == LIST
    assert "Alice Müller via CISO" in str(message["From"])
    assert message["Reply-To"].addresses[0].addr_spec == ALICE.email
    assert message["TLP"] == "AMBER"
    assert str(message["Subject"]).startswith("[TLP:AMBER] ")
    assert "evil-phish.example" in message.get_body(("plain",)).get_content()


async def test_a_non_member_is_refused_with_a_sentence(
    settings: Settings, relay: RecordingRelay
) -> None:
    await prepare(settings, lists={LIST: MEMBERS}, nonmember=NonMemberPolicy.REJECT)
    async with running(settings) as server:
        with pytest.raises(SmtpReply) as refused:
            await send(
                server.smtp_port,
                post("Mallory <mallory@outside.example>", LIST),
                mail_from="mallory@outside.example",
                recipients=[LIST],
            )
    assert refused.value.code == 550
    assert (
        refused.value.text
        == f"{smtp_replies.NOT_A_MEMBER.enhanced} {smtp_replies.NOT_A_MEMBER.text}"
    )
    assert relay.delivered == []


async def test_membership_is_compared_case_insensitively(
    settings: Settings, relay: RecordingRelay
) -> None:
    await prepare(settings, lists={LIST: MEMBERS}, nonmember=NonMemberPolicy.REJECT)
    async with running(settings) as server:
        await send(
            server.smtp_port,
            post("Carol <Carol@CERT-C.example>", LIST),
            mail_from="Carol@CERT-C.example",
            recipients=[LIST],
        )
        await relay.wait_for_recipients(3)


async def test_an_unknown_list_is_refused_at_rcpt(
    settings: Settings, relay: RecordingRelay
) -> None:
    await prepare(settings, lists={LIST: MEMBERS})
    async with running(settings) as server:
        with pytest.raises(SmtpReply) as refused:
            await send(
                server.smtp_port,
                post(ALICE.email, "nolist@lists.example"),
                mail_from=ALICE.email,
                recipients=["nolist@lists.example"],
            )
    assert (refused.value.code, refused.value.text) == (550, "5.1.1 No such list here")


async def test_an_oversized_message_is_refused(settings: Settings, relay: RecordingRelay) -> None:
    await prepare(settings, lists={LIST: MEMBERS})
    async with running(settings) as server:
        big = post(ALICE.email, LIST, body="x" * 70 + "\n" * 1)
        big.set_content(("0123456789" * 7 + "\n") * 20_000)  # 1.4 MB > 1 MB limit
        with pytest.raises(SmtpReply) as refused:
            await send(server.smtp_port, big, mail_from=ALICE.email, recipients=[LIST])
    assert refused.value.code == 552
    assert refused.value.text.startswith("5.3.4")
    assert relay.delivered == []


async def test_a_looped_message_is_not_redistributed(
    settings: Settings, relay: RecordingRelay
) -> None:
    await prepare(settings, lists={LIST: MEMBERS})
    async with running(settings) as server:
        looped = post(ALICE.email, LIST, subject="loop", headers={"X-Loop": LIST})
        reply = await send(server.smtp_port, looped, mail_from=ALICE.email, recipients=[LIST])
        assert reply.startswith("2.6.0")
        fine = post(BOB.email, LIST, subject="after the loop")
        await send(server.smtp_port, fine, mail_from=BOB.email, recipients=[LIST])
        await relay.wait_for_recipients(3)
    assert [str(d.message["Subject"]) for d in relay.delivered] == ["[TLP:AMBER] after the loop"]


async def test_auto_replies_and_null_senders_are_not_redistributed(
    settings: Settings, relay: RecordingRelay
) -> None:
    await prepare(settings, lists={LIST: MEMBERS})
    async with running(settings) as server:
        away = post(
            CAROL.email, LIST, subject="Out of office", headers={"Auto-Submitted": "auto-replied"}
        )
        await send(server.smtp_port, away, mail_from=CAROL.email, recipients=[LIST])
        bounce = post(CAROL.email, LIST, subject="Undelivered")
        await send(server.smtp_port, bounce, mail_from="", recipients=[LIST])
        fine = post(BOB.email, LIST, subject="real post")
        await send(server.smtp_port, fine, mail_from=BOB.email, recipients=[LIST])
        await relay.wait_for_recipients(3)
    assert [str(d.message["Subject"]) for d in relay.delivered] == ["[TLP:AMBER] real post"]


async def test_a_relay_answering_451_twice_still_gets_the_message(
    settings: Settings, relay: RecordingRelay
) -> None:
    relay.data_replies = ["451 4.3.0 try later", "451 4.3.0 still busy"]
    await prepare(settings, lists={LIST: MEMBERS})
    async with running(settings) as server:
        await send(
            server.smtp_port, post(ALICE.email, LIST), mail_from=ALICE.email, recipients=[LIST]
        )
        await relay.wait_for_recipients(3, timeout=30)
    assert relay.transactions == 3
    assert sorted(relay.recipients) == sorted(m.email for m in MEMBERS)


async def test_raw_utf8_headers_from_a_real_client_are_handled(
    settings: Settings, relay: RecordingRelay
) -> None:
    # Some clients send UTF-8 in headers without RFC 2047 encoding (RFC 6532).
    raw = (
        "From: Jürgen Müller <alice@operator-a.example>\r\n"
        "To: ciso@lists.example\r\n"
        "Subject: Störung im Kernnetz\r\n"
        "Message-ID: <raw-8bit@operator-a.example>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
        "Grüße aus dem NOC.\r\n"
    ).encode()
    await prepare(settings, lists={LIST: MEMBERS})
    async with running(settings) as server:
        await send(server.smtp_port, raw, mail_from=ALICE.email, recipients=[LIST])
        await relay.wait_for_recipients(3)
    message = relay.delivered[0].message
    assert str(message["Subject"]) == "[TLP:AMBER] Störung im Kernnetz"
    assert "Jürgen Müller via CISO" in str(message["From"])
    assert "Grüße aus dem NOC." in message.get_body(("plain",)).get_content()


async def test_the_distribution_copy_is_dkim_signed_and_drops_receipt_requests(
    tmp_path: Path, relay: RecordingRelay
) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (tmp_path / "dkim.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public = base64.b64encode(
        key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    settings = load_settings(
        write_config(
            tmp_path,
            relay_port=relay.port,
            extra={"dkim": {"domain": "lists.example", "selector": "s2026"}},
        )
    )
    await prepare(settings, lists={LIST: MEMBERS})
    async with running(settings) as server:
        signed_by_author = post(
            ALICE.email,
            LIST,
            headers={
                "DKIM-Signature": "v=1; a=rsa-sha256; d=operator-a.example; s=sel; b=abc",
                "Disposition-Notification-To": ALICE.email,
                "Return-Receipt-To": ALICE.email,
            },
        )
        await send(server.smtp_port, signed_by_author, mail_from=ALICE.email, recipients=[LIST])
        await relay.wait_for_recipients(3)
    content = relay.delivered[0].content
    message = relay.delivered[0].message
    assert message.get_all("DKIM-Signature") is not None
    assert len(message.get_all("DKIM-Signature")) == 1
    assert "d=lists.example" in str(message["DKIM-Signature"])
    assert message["Disposition-Notification-To"] is None
    assert message["Return-Receipt-To"] is None

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"s2026._domainkey.lists.example."
        return b"v=DKIM1; k=rsa; p=" + public

    assert dkim.verify(content, dnsfunc=dns)
