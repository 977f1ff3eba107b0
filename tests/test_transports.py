"""The SMTP relay transport against a real aiosmtpd relay: what arrives is what was sent."""

from __future__ import annotations

from listserv.transports import CHUNK_BYTES, SmtpRelay, wire_chunks, wire_form
from tests.support.relay import RecordingRelay


def _wire(content: bytes) -> bytes:
    return b"".join(bytes(chunk) for chunk in wire_chunks(wire_form(content)))


def test_a_clean_message_is_sent_from_views_of_the_one_copy() -> None:
    content = b"Subject: x\r\n\r\n" + b"line of text\r\n" * (CHUNK_BYTES // 7)
    assert wire_form(content) is content
    chunks = list(wire_chunks(wire_form(content)))
    assert len(chunks) > 2
    assert all(isinstance(chunk, memoryview) and chunk.obj is content for chunk in chunks[:-1])
    assert _wire(content) == content + b".\r\n"


def test_lines_starting_with_a_dot_are_stuffed_and_bare_line_ends_become_crlf() -> None:
    content = b".starts\r\nmiddle\n.dot\rlast"
    assert _wire(content) == b"..starts\r\nmiddle\r\n..dot\r\nlast\r\n.\r\n"


async def test_a_large_message_with_dot_lines_arrives_byte_for_byte(
    relay: RecordingRelay,
) -> None:
    body = b"".join(b".%d leading dot\r\nplain %d\r\n" % (n, n) for n in range(60_000))
    content = b"From: a@example.org\r\nSubject: big\r\n\r\n" + body
    assert len(content) > 4 * CHUNK_BYTES
    transport = SmtpRelay(relay.host, relay.port)
    try:
        result = await transport.send("bounces@lists.example", ["m@example.net"], content)
    finally:
        await transport.close()
    assert result.failure is None
    assert result.accepted == ["m@example.net"]
    assert relay.delivered[0].content == content


async def test_refused_recipients_are_told_apart_and_the_rest_still_get_it(
    relay: RecordingRelay,
) -> None:
    replies = {"busy@example.net": "451 4.2.1 mailbox busy", "gone@example.net": "550 5.1.1 gone"}
    relay.rcpt_reply = replies.get
    recipients = ["busy@example.net", "ok@example.net", "gone@example.net"]
    transport = SmtpRelay(relay.host, relay.port)
    try:
        result = await transport.send(
            "bounces@lists.example", recipients, b"Subject: s\r\n\r\nhi\r\n"
        )
        only_refused = await transport.send(
            "bounces@lists.example", ["gone@example.net"], b"Subject: s\r\n\r\nhi\r\n"
        )
        after = await transport.send(
            "bounces@lists.example", ["ok@example.net"], b"S: t\r\n\r\nx\r\n"
        )
    finally:
        await transport.close()
    assert result.accepted == ["ok@example.net"]
    assert result.temporary == {"busy@example.net": "451 4.2.1 mailbox busy"}
    assert result.permanent == {"gone@example.net": (550, "5.1.1 gone")}
    assert only_refused.accepted == []
    assert only_refused.failure is None
    assert after.accepted == ["ok@example.net"]
    assert [d.recipients for d in relay.delivered] == [("ok@example.net",), ("ok@example.net",)]


async def test_a_refused_data_phase_fails_the_whole_transaction(relay: RecordingRelay) -> None:
    relay.data_replies = ["554 5.6.0 content refused"]
    transport = SmtpRelay(relay.host, relay.port)
    try:
        refused = await transport.send(
            "bounces@lists.example", ["a@example.net"], b"S: x\r\n\r\n.\r\n"
        )
        accepted = await transport.send(
            "bounces@lists.example", ["a@example.net"], b"S: x\r\n\r\n.\r\n"
        )
    finally:
        await transport.close()
    assert refused.failure is not None
    assert refused.failure.code == 554
    assert refused.accepted == []
    assert accepted.failure is None
    assert relay.delivered[0].content == b"S: x\r\n\r\n.\r\n"


async def test_an_unreachable_relay_is_a_failure_with_code_zero(relay: RecordingRelay) -> None:
    await relay.stop()
    transport = SmtpRelay(relay.host, relay.port, timeout=5)
    result = await transport.send("bounces@lists.example", ["a@example.net"], b"S: x\r\n\r\nhi\r\n")
    await transport.close()
    assert result.failure is not None
    assert result.failure.code == 0
