"""The archive form and its pieces: decoding, MIME walking, crypto parts, nested messages.

The message-level cases of CHATHAM_HOUSE.md §6 are in tests/chatham_house/; this
file tests the building blocks and the structural rules of `archive_form`.
"""

from __future__ import annotations

import base64
import io
from datetime import UTC, datetime, timedelta, timezone
from email import message_from_bytes, policy
from email.message import EmailMessage

import pikepdf
import pytest
from PIL import Image

from filters.auto_reply import is_robot_address
from filters.crypto_parts import signed_data_content, strip_inline_pgp
from filters.deattribute import (
    ArchiveContext,
    ArchiveForm,
    _check_allowlist,
    archive_date,
    archive_form,
    archive_form_or_hold,
    strip_our_urls,
    tlp_label_value,
)
from filters.flags import FlagKind
from filters.identities import Identity, Registry
from filters.matching import RegistryMatcher
from filters.mime_parts import (
    NestedMessage,
    decode_bytes,
    decode_header_value,
    signature_content_ids,
    unflow,
    walk_message,
)
from filters.rfc822_forward import (
    FORWARD_MARKER,
    TRAILER_MARKER,
    Block,
    Layout,
    join_layout,
    nested_header_lines,
    split_layout,
)
from tests.oracle import assert_nothing_leaked, assert_text_clean

REGISTRY = Registry(
    (
        Identity(
            key="alice",
            names=("Alice Müller",),
            addresses=("alice@operator-a.example",),
            organisation="Operator A GmbH",
            org_domains=("operator-a.example",),
        ),
        Identity(
            key="bob",
            names=("Bob Brown",),
            addresses=("bob@operator-b.example",),
            organisation="Operator B Ltd",
            org_domains=("operator-b.example",),
        ),
    )
)


@pytest.fixture(scope="module")
def matcher() -> RegistryMatcher:
    return RegistryMatcher.compile(REGISTRY)


def context(**changes: object) -> ArchiveContext:
    values: dict[str, object] = {
        "list_address": "ciso@lists.example",
        "list_name": "CISO group",
        "list_key": b"k" * 32,
        "received_at": datetime(2024, 9, 3, 8, 59, 59, tzinfo=UTC),
        "label": "TLP:GREEN",
        "author_key": "alice",
        "participants": {"alice": "Participant A"},
        "our_url_prefixes": ("https://lists.example/u/",),
    }
    values.update(changes)
    return ArchiveContext(**values)  # type: ignore[arg-type]


def parse(data: bytes | str) -> EmailMessage:
    if isinstance(data, str):
        data = data.encode("utf-8")
    message = message_from_bytes(data, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def archived(message: EmailMessage, matcher: RegistryMatcher, **changes: object) -> ArchiveForm:
    """Archive, then check decision 8 (oracle and idempotence) on the result."""
    ctx = context(**changes)
    form = archive_form(message, matcher, ctx)
    assert_nothing_leaked(form.message, REGISTRY)
    assert_text_clean([form.text, form.subject], REGISTRY)
    again = archive_form(parse(form.message), matcher, ctx)
    assert (again.text, again.subject, again.attachments) == (
        form.text,
        form.subject,
        form.attachments,
    )
    return form


def png(width: int, height: int, *, noisy: bool = False) -> bytes:
    image = Image.new("RGB", (width, height), (20, 90, 160))
    if noisy:
        image.putdata(
            [
                ((x * 37 + y) % 251, (x * y) % 247, (x ^ y) % 241)
                for y in range(height)
                for x in range(width)
            ]
        )
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def pdf() -> bytes:
    document = pikepdf.new()
    document.add_blank_page()
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# --- decoding ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("=?ISO-8859-1?Q?J=FCrgen_M=FCller?=", "Jürgen Müller"),
        ("=?UTF-8?Q?J=C3?= =?UTF-8?Q?=BCrgen?=", "Jürgen"),  # a character split in two words
        ("=?utf-8?b?SsO8cmdlbg==?= =?utf-8?q?_M=C3=BCller?=", "Jürgen Müller"),
        ("=?x-unknown?Q?J=FCrgen?=", "Jürgen"),  # unknown label: cp1252 fallback
        ("=?utf-8*de?Q?M=C3=BCller?=", "Müller"),  # RFC 2231 language tag
        ("plain =?utf-8?q?M=C3=BCller?= text", "plain Müller text"),
        ("=?utf-8?q?broken=ZZ?=", "broken=ZZ"),
        ("folded\r\n value", "folded value"),
        ("M\udcc3\udcbcller", "Müller"),  # raw UTF-8 header bytes (RFC 6532)
        ("M\udcfcller", "Müller"),  # raw Latin-1 header bytes
    ],
)
def test_decode_header_value(raw: str, expected: str) -> None:
    assert decode_header_value(raw) == expected


@pytest.mark.parametrize(
    ("data", "charset", "expected"),
    [
        ("Müller".encode(), "iso-8859-1", "Müller"),  # mislabelled UTF-8
        ("Müller".encode("latin-1"), "utf-8", "Müller"),  # mislabelled Latin-1
        ("Müller".encode(), "us-ascii", "Müller"),
        ("Müller".encode("cp1252"), "x-unknown-charset", "Müller"),
        ("Müller".encode("utf-16"), "utf-16", "Müller"),
        (b"caf\x81", None, "caf\x81"),  # undefined in cp1252: Latin-1 keeps the byte
        ("ΠΑΠΑΔΟΠΟΥΛΟΣ".encode("iso-8859-7"), "iso-8859-7", "ΠΑΠΑΔΟΠΟΥΛΟΣ"),
        ("Иванов".encode("koi8-r"), "koi8-r", "Иванов"),
    ],
)
def test_decode_bytes(data: bytes, charset: str | None, expected: str) -> None:
    assert decode_bytes(data, charset) == expected


def test_unflow_joins_soft_breaks_per_quote_depth() -> None:
    flowed = "a name split \nacross lines\n> quoted \n> continues\n-- \nsignature"
    assert unflow(flowed) == ("a name split across lines\n> quoted continues\n-- \nsignature")
    assert unflow("Mül \nler", delete_space=True) == "Müller"
    assert unflow(" stuffed") == "stuffed"


# --- crypto parts --------------------------------------------------------------


def test_cleartext_signature_removed_and_dash_escaping_undone() -> None:
    text = (
        "before\n-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n"
        "- - item\n- -- not a separator\nplain\n"
        "-----BEGIN PGP SIGNATURE-----\n\niQEz\n-----END PGP SIGNATURE-----\nafter"
    )
    result = strip_inline_pgp(text)
    assert result.text == "before\n- item\n-- not a separator\nplain\nafter"
    assert not result.encrypted


def test_quoted_armour_removed() -> None:
    text = (
        "> -----BEGIN PGP SIGNED MESSAGE-----\n> Hash: SHA512\n>\n> - - quoted item\n"
        "> -----BEGIN PGP SIGNATURE-----\n> iQEz\n> -----END PGP SIGNATURE-----\nreply"
    )
    assert strip_inline_pgp(text).text == "> - quoted item\nreply"


def test_key_and_message_blocks_removed_and_reported() -> None:
    text = (
        "key:\n-----BEGIN PGP PUBLIC KEY BLOCK-----\nmDMEZ\n-----END PGP PUBLIC KEY BLOCK-----\n"
        "secret:\n-----BEGIN PGP MESSAGE-----\nhF4D\n-----END PGP MESSAGE-----\nend"
    )
    result = strip_inline_pgp(text)
    assert result.text == "key:\nsecret:\nend"
    assert result.encrypted
    assert result.keys_removed == 1


def test_unterminated_armour_runs_to_the_end() -> None:
    result = strip_inline_pgp("text\n-----BEGIN PGP SIGNATURE-----\niQEz\nAlice Müller\n")
    assert result.text == "text"


def test_signed_data_content_rejects_what_is_not_signed_data() -> None:
    assert signed_data_content(b"") is None
    assert signed_data_content(b"\x30\x03\x02\x01\x01") is None
    assert signed_data_content(b"not der at all") is None


# --- walking -------------------------------------------------------------------


def test_several_inline_text_parts_are_concatenated(matcher: RegistryMatcher) -> None:
    message = parse(
        "From: a@b\nSubject: x\nContent-Type: multipart/mixed; boundary=b\n\n"
        "--b\nContent-Type: text/plain\n\nFirst part.\n"
        "--b\nContent-Type: text/html\n\n<p>Second <b>part</b>.</p>\n"
        "--b\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n\n"
        "Third part.\n--b--\n"
    )
    text = archived(message, matcher).text
    assert text.index("First part.") < text.index("Second part.") < text.index("Third part.")


def test_apple_mail_attachment_inside_the_html_alternative_is_kept(
    matcher: RegistryMatcher,
) -> None:
    image = base64.encodebytes(png(200, 200, noisy=True)).decode()
    message = parse(
        "From: a@b\nSubject: x\nContent-Type: multipart/alternative; boundary=alt\n\n"
        "--alt\nContent-Type: text/plain\n\nSee the graph.\n"
        "--alt\nContent-Type: multipart/mixed; boundary=mix\n\n"
        "--mix\nContent-Type: text/html\n\n<p>See the graph.</p>\n"
        "--mix\nContent-Type: image/png\nContent-Disposition: inline; filename=graph.png\n"
        f"Content-Transfer-Encoding: base64\n\n{image}\n"
        "--mix\nContent-Type: text/html\n\n<p>More HTML text.</p>\n--mix--\n--alt--\n"
    )
    form = archived(message, matcher)
    assert form.text == "See the graph."
    assert [attachment.filename for attachment in form.attachments] == ["attachment-1.png"]


def test_related_images_small_dropped_large_attached(matcher: RegistryMatcher) -> None:
    message = EmailMessage(policy=policy.default)
    message["From"], message["Subject"] = "a@b", "graphs"
    message.set_content(
        "<p>Graph: <img src='cid:graph@x'> logo <img src='cid:logo@x'></p>", subtype="html"
    )
    message.add_related(png(400, 300, noisy=True), "image", "png", cid="<graph@x>")
    message.add_related(png(20, 20), "image", "png", cid="<logo@x>")
    form = archived(message, matcher)
    assert len(form.attachments) == 1
    assert form.attachments[0].filename == "attachment-1.png"


def test_signature_content_ids_found_in_signature_containers() -> None:
    html = (
        "<p><img src='cid:body@x'></p><div id='Signature'><img src='cid:Logo@X'></div>"
        "<div class='gmail_signature'><img src='cid:%3Cg%40x%3E'></div>"
        "<pre class='moz-signature'><img src='https://remote/logo.png'></pre>"
    )
    assert signature_content_ids(html) == {"logo@x", "g@x"}
    assert signature_content_ids("") == frozenset()


def test_text_attachment_stays_an_attachment(matcher: RegistryMatcher) -> None:
    message = EmailMessage(policy=policy.default)
    message["From"], message["Subject"] = "a@b", "log"
    message.set_content("Log attached.\n")
    message.add_attachment("2024-09-03T05:58:01Z DROP 192.0.2.66\n", filename="fw.log")
    form = archived(message, matcher)
    assert form.text == "Log attached."
    assert len(form.attachments) == 1
    assert b"192.0.2.66" in form.attachments[0].data


def test_base64_encoded_forward_is_decoded(matcher: RegistryMatcher) -> None:
    nested = base64.encodebytes(
        b"From: Evil <x@evil.example>\nSubject: Invoice\n\nPay at http://evil.example/p\n"
    ).decode()
    message = parse(
        "From: a@b\nSubject: fwd\nContent-Type: multipart/mixed; boundary=b\n\n"
        "--b\nContent-Type: text/plain\n\nSample below.\n"
        f"--b\nContent-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n{nested}\n--b--\n"
    )
    text = archived(message, matcher).text
    assert f"{FORWARD_MARKER}\nFrom: Evil <x@evil.example>\nSubject: Invoice" in text
    assert "Pay at http://evil.example/p" in text


def test_eml_file_attachment_is_a_forward(matcher: RegistryMatcher) -> None:
    message = EmailMessage(policy=policy.default)
    message["From"], message["Subject"] = "a@b", "sample"
    message.set_content("Sample attached.\n")
    message.add_attachment(
        b"From: Evil <x@evil.example>\nSubject: Invoice\n\nPay now.\n",
        maintype="application",
        subtype="octet-stream",
        filename="sample.eml",
    )
    form = archived(message, matcher)
    assert "Subject: Invoice" in form.text
    assert form.attachments == ()


def test_nested_forwards_are_laid_out_in_order(matcher: RegistryMatcher) -> None:
    inner = parse("From: First <one@evil.example>\nSubject: one\n\nInner body.\n")
    middle = EmailMessage(policy=policy.default)
    middle["From"], middle["Subject"] = "Second <two@evil.example>", "two"
    middle.set_content("Middle body.\n")
    middle.add_attachment(inner)
    outer = EmailMessage(policy=policy.default)
    outer["From"], outer["Subject"] = "a@b", "chain"
    outer.set_content("Outer body.\n")
    outer.add_attachment(middle)
    text = archived(outer, matcher).text
    assert text.index("Outer body.") < text.index("Subject: two") < text.index("Middle body.")
    assert text.index("Middle body.") < text.index("Subject: one") < text.index("Inner body.")


def test_forwarded_member_mail_keeps_only_from_subject_and_rounded_date(
    matcher: RegistryMatcher,
) -> None:
    nested = NestedMessage(
        kind="message",
        headers=[
            ("From", "Bob Brown <bob@operator-b.example>"),
            ("To", "soc@operator-b.example"),
            ("Subject", "Incident 4711"),
            ("Date", "Mon, 2 Sep 2024 18:12:44 +0100"),
            ("Message-ID", "<abc@exch.internal>"),
            ("Received", "from a by b; Mon, 2 Sep 2024 18:12:44 +0100"),
            ("X-Mailer", "Outlook"),
        ],
    )
    lines, _ = nested_header_lines(
        nested, matcher, {}, round_date=lambda value: archive_date(value, "hour")
    )
    assert lines == [
        "From: [participant]",
        "Subject: Incident 4711",
        "Date: Mon, 02 Sep 2024 17:00:00 +0000",
    ]


def test_forwarded_sample_received_lines_stop_at_the_member_host(
    matcher: RegistryMatcher,
) -> None:
    nested = NestedMessage(
        kind="message",
        headers=[
            ("From", "x@evil.example"),
            (
                "Received",
                "from mx1.operator-a.example by exch.corp.local; Tue, 3 Sep 2024 07:00:02 +0200",
            ),
            (
                "Received",
                "from evil.example ([192.0.2.66]) by mx1.operator-a.example for"
                " <alice@operator-a.example>; Tue, 3 Sep 2024 07:00:01 +0200",
            ),
            ("Received", "from [10.0.0.5] by evil.example; Tue, 03 Sep 2024 05:00:00 +0000"),
        ],
    )
    lines, _ = nested_header_lines(nested, matcher, {}, round_date=lambda value: value)
    received = [line for line in lines if line.startswith("Received:")]
    assert len(received) == 2
    assert "exch.corp.local" not in " ".join(lines)
    assert "for <" not in received[0]
    assert received[0].endswith("Tue, 03 Sep 2024 05:00:01 +0000")
    assert "192.0.2.66" in received[0]


def test_layout_round_trip() -> None:
    layout = Layout(
        main="Main text.",
        blocks=[
            Block(FORWARD_MARKER, ("From: x@evil.example", "Subject: s"), "Body one."),
            Block(FORWARD_MARKER, (), "Body without headers."),
            Block(FORWARD_MARKER, ("Subject: headers only",)),
        ],
        trailer=["[attachment-1 not archived]"],
    )
    text = join_layout(layout)
    assert text.endswith(f"{TRAILER_MARKER}\n[attachment-1 not archived]")
    assert split_layout(text) == layout
    assert join_layout(split_layout(text)) == text


# --- the archive form ----------------------------------------------------------


def test_headers_are_exactly_the_allowlist(matcher: RegistryMatcher) -> None:
    message = parse(
        "From: Alice <alice@operator-a.example>\nTo: x@y\nCc: bob@operator-b.example\n"
        "Subject: hi\nX-Whatever: 1\nMessage-ID: <1@operator-a.example>\n\nText.\n"
    )
    form = archived(message, matcher)
    names = [name for name, _ in parse(form.message).items()]
    assert names == [
        "From",
        "To",
        "Subject",
        "Date",
        "Message-ID",
        "TLP",
        "Content-Type",
        "Content-Transfer-Encoding",
        "MIME-Version",
    ]
    assert str(parse(form.message)["TLP"]) == "GREEN"


def test_same_input_gives_the_same_bytes(matcher: RegistryMatcher) -> None:
    message = EmailMessage(policy=policy.default)
    message["From"], message["Subject"] = "a@b", "x"
    message.set_content("Text.\n")
    message.add_attachment(
        png(300, 300, noisy=True), maintype="image", subtype="png", filename="a.png"
    )
    assert (
        archive_form(message, matcher, context()).message
        == archive_form(message, matcher, context()).message
    )


def test_dropped_attachment_leaves_a_placeholder_and_renamed_flags(
    matcher: RegistryMatcher,
) -> None:
    message = EmailMessage(policy=policy.default)
    message["From"], message["Subject"] = "a@b", "x"
    message.set_content("Files.\n")
    message.add_attachment(
        b"PK\x03\x04junk", maintype="application", subtype="zip", filename="a.zip"
    )
    message.add_attachment(pdf(), maintype="application", subtype="pdf", filename="b.pdf")
    form = archived(message, matcher)
    assert [attachment.filename for attachment in form.attachments] == ["attachment-1.pdf"]
    assert TRAILER_MARKER in form.text
    dropped = [flag for flag in form.flags if flag.kind == FlagKind.ATTACHMENT_DROPPED]
    assert dropped
    assert all(flag.where == "removed-attachment-1" for flag in dropped)


def test_post_with_only_an_attachment_has_an_empty_text(matcher: RegistryMatcher) -> None:
    message = EmailMessage(policy=policy.default)
    message["From"], message["Subject"] = "a@b", "x"
    message.add_attachment(pdf(), maintype="application", subtype="pdf", filename="b.pdf")
    form = archived(message, matcher)
    assert form.text == ""
    assert len(form.attachments) == 1


def test_archive_date_rounds_down_in_utc() -> None:
    local = datetime(2024, 9, 3, 0, 30, 5, tzinfo=timezone(timedelta(hours=2)))
    assert archive_date(local, "hour") == datetime(2024, 9, 2, 22, 0, tzinfo=UTC)
    assert archive_date(local, "day") == datetime(2024, 9, 2, 0, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="timezone-aware"):
        archive_date(datetime(2024, 9, 3), "hour")


def test_tlp_label_value() -> None:
    assert tlp_label_value("TLP:AMBER+STRICT") == "AMBER+STRICT"
    assert tlp_label_value("tlp:clear") == "CLEAR"


def test_strip_our_urls() -> None:
    prefixes = ("https://lists.example/u/",)
    text = (
        "Unsubscribe: <https://lists.example/u/TOKEN1>\n"
        "Bare: lists.example/u/TOKEN2 and http://evil.example/u/keep\n"
        "Wrapped: https://safe.example/?url=https%3A%2F%2Flists.example%2Fu%2FTOKEN3&x=1\n"
    )
    stripped = strip_our_urls(text, prefixes)
    for token in ("TOKEN1", "TOKEN3"):
        assert token not in stripped
    assert "http://evil.example/u/keep" in stripped
    assert strip_our_urls(text, ()) == text


def test_wrapper_never_raises_and_never_returns_the_input(matcher: RegistryMatcher) -> None:
    for data in (
        b"",
        b"\x00\xff" * 100,
        b"Content-Type: multipart/mixed\n\n--x\n",
        "Müller".encode(),
    ):
        form = archive_form_or_hold(data, matcher, context())
        assert form.hold_reason is not None or form.message
        assert data not in form.message or not data


def test_red_is_refused(matcher: RegistryMatcher) -> None:
    form = archive_form(
        parse("From: a@b\nSubject: x\n\nsecret\n"), matcher, context(label="TLP:RED")
    )
    assert form.hold_reason == "TLP:RED is never archived"
    assert form.message == b""


@pytest.mark.parametrize(
    ("address", "robot"),
    [
        ("MAILER-DAEMON@mx.example", True),
        ("postmaster@x.example", True),
        ("ciso-request@lists.example", True),
        ("owner-ciso@lists.example", True),
        ("ciso-bounces+alice=x.example@lists.example", True),
        ("no-reply@vendor.example", True),
        ("alice@operator-a.example", False),
        ("bounce.analyst@x.example", False),
    ],
)
def test_is_robot_address(address: str, robot: bool) -> None:
    assert is_robot_address(address) is robot


def test_walk_collects_nothing_from_signature_parts() -> None:
    message = parse(
        "From: a@b\nSubject: x\nContent-Type: multipart/signed; protocol=x; boundary=s\n\n"
        "--s\nContent-Type: text/plain\n\nSigned text.\n"
        "--s\nContent-Type: application/pkcs7-signature\n\nMIIB\n--s--\n"
    )
    walk = walk_message(message)
    assert [piece.text.strip() for piece in walk.root.texts] == ["Signed text."]
    assert walk.attachments == []
    assert walk.hold_reasons == []


def test_empty_plain_alternative_gives_way_to_html(matcher: RegistryMatcher) -> None:
    message = EmailMessage(policy=policy.default)
    message["From"], message["Subject"] = "a@b", "x"
    message.set_content(" \n")
    message.add_alternative("<p>The real text: 192.0.2.66.</p>", subtype="html")
    assert archived(message, matcher).text == "The real text: 192.0.2.66."


# --- the allowlist guard reads what the generator wrote ----------------------------------

_GUARD_BOUNDARY = "=_archive_0123"


def _form_bytes(part_headers: str) -> bytes:
    return (
        "From: Participant A <participant@archive.invalid>\n"
        "Subject: s\n"
        "MIME-Version: 1.0\n"
        f'Content-Type: multipart/mixed; boundary="{_GUARD_BOUNDARY}"\n'
        "\n"
        f"--{_GUARD_BOUNDARY}\n"
        'Content-Type: text/plain; charset="utf-8"\n'
        "Content-Transfer-Encoding: 7bit\n"
        "\n"
        "text\n"
        f"--{_GUARD_BOUNDARY}\n"
        f"{part_headers}\n"
        "\n"
        "QUJD\n"
        f"--{_GUARD_BOUNDARY}--\n"
    ).encode()


def test_the_allowlist_guard_passes_a_form_as_built() -> None:
    attachment = (
        'Content-Type: application/pdf\nContent-Disposition: attachment;\n filename="a.pdf"'
    )
    _check_allowlist(_form_bytes(attachment), _GUARD_BOUNDARY)


@pytest.mark.parametrize(
    "part_headers",
    [
        "Content-Type: application/pdf\nX-Sender-Org: Example Telecom",
        "Content-Type: message/rfc822",
        "Content-Type: application/pdf\nno colon here",
    ],
)
def test_the_allowlist_guard_refuses_a_part_header_outside_it(part_headers: str) -> None:
    with pytest.raises(ValueError, match="archive form"):
        _check_allowlist(_form_bytes(part_headers), _GUARD_BOUNDARY)


def test_the_allowlist_guard_refuses_a_top_level_header_outside_it() -> None:
    data = b"From: Participant A <participant@archive.invalid>\nX-Originating-IP: 10.0.0.1\n\nhi\n"
    with pytest.raises(ValueError, match="outside the allowlist"):
        _check_allowlist(data, None)
    unclosed = _form_bytes("Content-Type: text/plain").replace(
        f"--{_GUARD_BOUNDARY}--".encode(), b""
    )
    with pytest.raises(ValueError, match="no close delimiter"):
        _check_allowlist(unclosed, _GUARD_BOUNDARY)
