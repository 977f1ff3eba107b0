"""Properties of the archive form over arbitrary MIME trees and bytes (hypothesis).

- `archive_form_or_hold` never raises, on random trees and on random bytes;
- an archive form that is not held parses back and carries only allowlisted
  header fields, at the top and in every part;
- archiving an archive form again changes neither text, subject nor attachments;
- registry names placed anywhere in a random tree never reach the archive form.
"""

from __future__ import annotations

import base64
import os
import quopri
from email import message_from_bytes, policy
from email.message import EmailMessage

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from filters.deattribute import ArchiveForm, archive_form, archive_form_or_hold
from filters.matching import RegistryMatcher
from tests.chatham_house.conftest import ALLOWED_HEADERS, ALLOWED_PART_HEADERS
from tests.chatham_house.registry import REGISTRY, make_ctx
from tests.oracle import assert_nothing_leaked, assert_text_clean

MATCHER = RegistryMatcher.compile(REGISTRY)
CTX = make_ctx(participants={"alice": "Participant A", "bob": "Participant B"})

# No example database: tests write nothing into the working directory.
PROPERTY_SETTINGS = settings(
    max_examples=int(os.environ.get("PROPERTY_EXAMPLES", "60")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

NAMES = [
    "Alice Müller",
    "alice@operator-a.example",
    "Operator A GmbH",
    "https://portal.operator-a.example/x",
    "Jürgen Müller",
    "Bob Brown",
    "bob@operator-b.example",
    "Giulia Rossi",
    "Дмитрий Иванов",
]
WORDS = ["scan", "192.0.2.66", "C2", "TCP/7547", "phishing", "evil-invoice.example", "2024-09-03"]
CHARSETS = ["utf-8", "iso-8859-1", "windows-1252", "koi8-r", "us-ascii", "x-bogus", "utf-16"]
ENCODINGS = ["7bit", "8bit", "quoted-printable", "base64", "x-uuencode", "bogus"]
HEADER_NAMES = [
    "Received",
    "Cc",
    "Reply-To",
    "X-Originating-IP",
    "Thread-Index",
    "X-Foo-Identity",
    "Organization",
    "DKIM-Signature",
    "Content-Description",
    "Content-ID",
    "Autocrypt",
]

texts = st.lists(
    st.sampled_from(WORDS + NAMES + ["\n", "-- \n", "> ", "Best regards,\n"]), max_size=14
).map(" ".join)


def _encode_body(text: str, charset: str, encoding: str) -> tuple[bytes, str]:
    codec = charset if charset not in ("x-bogus",) else "utf-8"
    try:
        raw = text.encode(codec)
    except (UnicodeError, LookupError):
        raw = text.encode("utf-8")
    if encoding == "quoted-printable":
        return quopri.encodestring(raw), encoding
    if encoding == "base64":
        return base64.encodebytes(raw), encoding
    return raw, encoding


@st.composite
def text_leaf(draw: st.DrawFn) -> bytes:
    subtype = draw(st.sampled_from(["plain", "html", "calendar", "vcard", "rfc822-headers"]))
    charset = draw(st.sampled_from(CHARSETS))
    body = draw(texts)
    if subtype == "html":
        body = f"<html><body><p>{body}</p><div id='Signature'>{draw(texts)}</div></body></html>"
    elif subtype == "rfc822-headers":
        body = f"From: {draw(st.sampled_from(NAMES))}\nSubject: {draw(texts)}\n"
    data, encoding = _encode_body(body, charset, draw(st.sampled_from(ENCODINGS)))
    disposition = draw(st.sampled_from(["", "inline", 'attachment; filename="x.txt"']))
    head = (
        f'Content-Type: text/{subtype}; charset="{charset}"\n'
        f"Content-Transfer-Encoding: {encoding}\n"
    )
    if disposition:
        head += f"Content-Disposition: {disposition}\n"
    return head.encode() + draw(extra_headers()) + b"\n" + data


@st.composite
def binary_leaf(draw: st.DrawFn) -> bytes:
    content_type = draw(
        st.sampled_from(
            [
                "application/octet-stream",
                "image/png",
                "application/pdf",
                "application/pgp-signature",
                "application/pkcs7-signature",
                "application/pkcs7-mime; smime-type=signed-data",
                "application/pkcs7-mime; smime-type=enveloped-data",
                "application/pgp-keys",
                "application/ms-tnef",
                "message/delivery-status",
                "message/external-body",
            ]
        )
    )
    data = draw(st.binary(max_size=300))
    return (
        f"Content-Type: {content_type}\nContent-Transfer-Encoding: base64\n".encode()
        + draw(extra_headers())
        + b"\n"
        + base64.encodebytes(data)
    )


@st.composite
def extra_headers(draw: st.DrawFn) -> bytes:
    names = draw(st.lists(st.sampled_from(HEADER_NAMES), max_size=3))
    return b"".join(f"{name}: {draw(st.sampled_from(NAMES + WORDS))}\n".encode() for name in names)


def multipart(children: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    @st.composite
    def build(draw: st.DrawFn) -> bytes:
        subtype = draw(
            st.sampled_from(
                ["mixed", "alternative", "related", "signed", "encrypted", "report", "digest"]
            )
        )
        parts = draw(st.lists(children, max_size=4))
        boundary = f"b{draw(st.integers(min_value=0, max_value=10**9))}"
        if draw(st.integers(min_value=0, max_value=3)) and parts:
            body = b"".join(b"--" + boundary.encode() + b"\n" + part + b"\n" for part in parts)
            body += b"--" + boundary.encode() + b"--\n"
        else:  # a broken tree: no closing boundary, or a boundary that never appears
            body = b"".join(b"--" + boundary.encode() + b"X\n" + part + b"\n" for part in parts)
        return f'Content-Type: multipart/{subtype}; boundary="{boundary}"\n\n'.encode() + body

    return build()


def forwarded(children: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    @st.composite
    def build(draw: st.DrawFn) -> bytes:
        inner = draw(children)
        head = (
            f"From: {draw(st.sampled_from(NAMES))}\nTo: {draw(st.sampled_from(NAMES))}\n"
            f"Subject: {draw(texts)}\nReceived: from {draw(st.sampled_from(NAMES))}\n"
        )
        return b"Content-Type: message/rfc822\n\n" + head.encode() + inner

    return build()


trees = st.recursive(
    st.one_of(text_leaf(), binary_leaf()),
    lambda children: st.one_of(multipart(children), forwarded(children)),
    max_leaves=8,
)


@st.composite
def posts(draw: st.DrawFn) -> bytes:
    subject = draw(
        st.sampled_from(
            [
                "=?UTF-8?Q?J=C3=BCr?= =?UTF-8?Q?gen_M=C3=BCller?=",
                "AW: WG: [EXTERNAL] Frage von Alice Müller",
                "Re: [TLP:AMBER] scans",
                "=?x-bogus?B?QWxpY2U=?=",
                "",
            ]
        )
    )
    head = (
        f"From: Alice Müller <alice@operator-a.example>\nTo: ciso@lists.example\n"
        f"Subject: {subject}\nMIME-Version: 1.0\n"
    )
    if draw(st.booleans()):
        head += f"Message-ID: <{draw(st.integers(min_value=0))}@mail.operator-a.example>\n"
    return head.encode("utf-8") + draw(extra_headers()) + draw(trees)


def _check_form(form: ArchiveForm) -> None:
    if not form.message:
        assert form.hold_reason
        assert form.text == ""
        return
    archived = message_from_bytes(form.message, policy=policy.default)
    assert isinstance(archived, EmailMessage)
    assert {name.lower() for name in archived} <= ALLOWED_HEADERS
    for part in archived.walk():
        if part is not archived:
            assert {name.lower() for name in part} <= ALLOWED_PART_HEADERS
    assert_nothing_leaked(form.message, REGISTRY)
    assert_text_clean([form.text, form.subject], REGISTRY)
    again = archive_form(archived, MATCHER, CTX)
    assert again.text == form.text
    assert again.subject == form.subject
    assert again.attachments == form.attachments


@PROPERTY_SETTINGS
@given(posts())
def test_random_mime_trees(data: bytes) -> None:
    _check_form(archive_form_or_hold(data, MATCHER, CTX))


@PROPERTY_SETTINGS
@given(st.binary(max_size=2000))
def test_random_bytes_never_raise(data: bytes) -> None:
    _check_form(archive_form_or_hold(data, MATCHER, CTX))


@PROPERTY_SETTINGS
@given(st.text(max_size=400))
def test_random_text_bodies_are_scrubbed_idempotently(text: str) -> None:
    message = EmailMessage(policy=policy.default)
    message["From"] = "Alice Müller <alice@operator-a.example>"
    message["Subject"] = "random"
    message.set_content(text or " ")
    _check_form(archive_form_or_hold(message.as_bytes(), MATCHER, CTX))
