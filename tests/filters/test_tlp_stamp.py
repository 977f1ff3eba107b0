"""Stamping the distribution copy (filters/tlp.py `stamp`): valid MIME, nothing lost.

Every stamped message is serialised and parsed back; each body text part must then
hold the banner followed by the original decoded bytes, exactly.
"""

from __future__ import annotations

import base64
import datetime
import os
import shutil
import subprocess
import time
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from filters.tlp import Tlp, banner_html, banner_text, stamp

DATA = Path(__file__).parent.parent / "data" / "tlp"
CRLF_POLICY = policy.default.clone(linesep="\r\n")


def _parse(raw: bytes) -> EmailMessage:
    return message_from_bytes(raw, policy=policy.default)  # type: ignore[return-value]


def _fixture(name: str) -> tuple[bytes, EmailMessage]:
    raw = (DATA / name).read_bytes()
    return raw, _parse(raw)


def _round_trip(message: EmailMessage, linesep: str = "\n") -> tuple[bytes, EmailMessage]:
    """Serialise and parse back; the result must be valid MIME without parser defects."""
    raw = message.as_bytes(policy=policy.default.clone(linesep=linesep))
    parsed = _parse(raw)
    for part in parsed.walk():
        assert not part.defects, (part.get_content_type(), part.defects)
    return raw, parsed


def _body_texts(message: Message) -> list[Message]:
    return [
        part
        for part in message.walk()
        if part.get_content_type() in {"text/plain", "text/html"}
        and part.get_content_disposition() != "attachment"
        and part.get_filename() is None
    ]


def _decoded(part: Message) -> bytes:
    data = part.get_payload(decode=True)
    assert isinstance(data, bytes)
    return data


def _assert_banner_then_original(stamped: Message, original: Message, label: Tlp) -> None:
    """The part's decoded bytes are the banner, a blank line, then the original bytes."""
    assert stamped.get_content_type() == original.get_content_type()
    assert stamped.get_content_charset() == original.get_content_charset()
    assert stamped["Content-Transfer-Encoding"] == original["Content-Transfer-Encoding"]
    before, after = _decoded(original), _decoded(stamped)
    if stamped.get_content_subtype() == "html":
        newline = b"\r\n" if b"\r\n" in after else b"\n"
        inserted = banner_html(label).encode("ascii") + newline
        assert inserted in after
        assert after.replace(inserted, b"", 1) == before
        assert after.index(inserted) > after.lower().index(b"<body")  # inside the body
    else:
        assert after.endswith(before)
        prefix = after[: len(after) - len(before)].decode("ascii")
        assert prefix.replace("\r\n", "\n") == banner_text(label) + "\n\n"


def _text_attachments_and_others(message: Message) -> list[Message]:
    return [
        part
        for part in message.walk()
        if not part.is_multipart() and part not in _body_texts(message)
    ]


# --- Headers and subject ---------------------------------------------------------------------


def test_plain_message_gets_subject_tag_header_and_banner() -> None:
    message = EmailMessage()
    message["From"] = "Alice <alice@operator-a.example>"
    message["Subject"] = "Re: [tlp:green] Scans on 8443"
    message["TLP"] = "GREEN"
    message["X-TLP"] = "green"
    message.set_content("We see scans on 8443 since 06:40.\n")
    _raw, result = _round_trip(stamp(message, Tlp.AMBER_STRICT, list_prefix="[ciso]"))
    assert result.get_all("Subject") == ["Re: [ciso] [TLP:AMBER+STRICT] Scans on 8443"]
    assert result.get_all("TLP") == ["AMBER+STRICT"]
    assert result.get_all("X-TLP") is None
    _assert_banner_then_original(result, message, Tlp.AMBER_STRICT)


def test_missing_and_duplicate_subjects_become_one() -> None:
    message = EmailMessage()
    message.set_content("x\n")
    assert stamp(message, Tlp.RED)["Subject"] == "[TLP:RED]"
    twice = _parse(b"Subject: first\nSubject: [TLP:GREEN] second\n\nx\n")  # as parsed
    assert stamp(twice, Tlp.RED).get_all("Subject") == ["[TLP:RED] first"]


def test_rfc2047_subjects_survive() -> None:
    _raw_in, latin1 = _fixture("thunderbird_latin1_qp.eml")
    _raw_out, result = _round_trip(stamp(latin1, Tlp.GREEN, list_prefix="[ciso]"))
    assert result["Subject"] == "Re: [ciso] [TLP:GREEN] Phishing-Welle über Rechnungs-ISO"

    _raw_in, japanese = _fixture("iso2022jp_7bit.eml")
    _raw_out, result = _round_trip(stamp(japanese, Tlp.AMBER, list_prefix="[ciso]"))
    assert result["Subject"] == "[ciso] [TLP:AMBER] DNS不審クエリの増加について"


def test_raw_8bit_subject_bytes_are_kept() -> None:
    raw = (
        b"Subject: Re: St\xf6rung im Netz [TLP:GREEN]\n"  # Latin-1 bytes, no charset: not UTF-8
        b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
        b"Hallo \xc3\xbc und kaputt \xff\xfe\n"
    )
    original = _parse(raw)
    out, result = _round_trip(stamp(original, Tlp.AMBER))
    assert b"Re: [TLP:AMBER] =?unknown-8bit?q?St=F6rung?= im Netz" in out
    _assert_banner_then_original(result, original, Tlp.AMBER)


def test_compat32_messages_are_stamped_too() -> None:
    raw = (DATA / "thunderbird_latin1_qp.eml").read_bytes()
    original = message_from_bytes(raw, _class=EmailMessage)  # what message_from_bytes gives
    stamped = stamp(original, Tlp.RED, list_prefix="[ciso]")
    result = _parse(stamped.as_bytes())
    assert result["Subject"] == "Re: [ciso] [TLP:RED] Phishing-Welle über Rechnungs-ISO"
    assert result["TLP"] == "RED"
    _assert_banner_then_original(result, _parse(raw), Tlp.RED)


# --- Body parts and encodings ----------------------------------------------------------------


def test_multipart_alternative_gets_both_banners() -> None:
    message = EmailMessage()
    message["Subject"] = "Scans"
    message.set_content("Plain text.\n")
    message.add_alternative(
        "<!DOCTYPE html><html><head><style>body{x:1}</style></head>"
        '<body class="x" data-note="a>b"><p>HTML text.</p></body></html>\n',
        subtype="html",
    )
    _raw, result = _round_trip(stamp(message, Tlp.GREEN))
    plain, markup = _body_texts(result)
    _assert_banner_then_original(plain, message.get_payload()[0], Tlp.GREEN)  # type: ignore[index]
    _assert_banner_then_original(markup, message.get_payload()[1], Tlp.GREEN)  # type: ignore[index]
    assert '<body class="x" data-note="a>b">' + banner_html(Tlp.GREEN) in markup.get_content()
    assert "color:#33FF00" in markup.get_content()


@pytest.mark.parametrize(
    ("markup", "expected_start"),
    [
        ("<p>fragment without html or body</p>", "<table"),
        ("<!DOCTYPE html>\n<p>after a doctype</p>", "<!DOCTYPE html><table"),
        ("<html><head><title>t</title></head>\n<p>no body tag</p>", "<html><head>"),
    ],
)
def test_html_without_a_body_tag_gets_the_banner_at_its_top(
    markup: str, expected_start: str
) -> None:
    message = EmailMessage()
    message.set_content(markup + "\n", subtype="html")
    _raw, result = _round_trip(stamp(message, Tlp.CLEAR))
    content = result.get_content()
    assert content.startswith(expected_start)
    assert content.replace(banner_html(Tlp.CLEAR) + "\n", "", 1) == markup + "\n"


def test_latin1_quoted_printable_flowed() -> None:
    _raw, original = _fixture("thunderbird_latin1_qp.eml")
    out, result = _round_trip(stamp(original, Tlp.GREEN))
    assert result["Content-Type"] == original["Content-Type"]  # charset and format=flowed
    _assert_banner_then_original(result, original, Tlp.GREEN)
    assert "Grüße aus Köln" in result.get_content()
    assert b"Gr=FC=DFe aus K=F6ln" in out  # still Latin-1, still quoted-printable


def test_windows_1252_base64_outlook_message() -> None:
    _raw, original = _fixture("outlook_cp1252_base64.eml")
    for linesep in ("\n", "\r\n"):
        _out, result = _round_trip(stamp(original, Tlp.AMBER_STRICT), linesep)
        reference = _parse(original.as_bytes(policy=policy.default.clone(linesep=linesep)))
        stamped_texts, original_texts = _body_texts(result), _body_texts(reference)
        assert [p.get_content_type() for p in stamped_texts] == ["text/plain", "text/html"]
        for stamped_part, original_part in zip(stamped_texts, original_texts, strict=True):
            _assert_banner_then_original(stamped_part, original_part, Tlp.AMBER_STRICT)
        assert "€-Schaden" in stamped_texts[0].get_content()
        assert result.get_all("TLP") == ["AMBER+STRICT"]  # the sender's "TLP: amber" replaced
        # The inline image and the PDF: same bytes, not even re-encoded.
        others = _text_attachments_and_others(result)
        originals = _text_attachments_and_others(reference)
        assert [p.get_content_type() for p in others] == ["image/png", "application/pdf"]
        for after, before in zip(others, originals, strict=True):
            assert after.get_payload() == before.get_payload()
            assert _decoded(after) == _decoded(before)


def test_iso_2022_jp_7bit() -> None:
    _raw, original = _fixture("iso2022jp_7bit.eml")
    out, result = _round_trip(stamp(original, Tlp.AMBER))
    _assert_banner_then_original(result, original, Tlp.AMBER)
    assert result.get_content() == banner_text(Tlp.AMBER) + "\n\n" + original.get_content()
    assert out.isascii()  # still 7bit ISO-2022-JP


def test_8bit_bytes_invalid_in_their_charset_survive() -> None:
    raw = (
        b"Subject: x\nMIME-Version: 1.0\n"
        b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
        b"caf\xe9 (Latin-1 in a UTF-8 part) and \xe2\x82\xac\n"
    )
    original = _parse(raw)
    _out, result = _round_trip(stamp(original, Tlp.CLEAR))
    _assert_banner_then_original(result, original, Tlp.CLEAR)


def test_mixed_with_attachments_leaves_attachments_alone() -> None:
    message = EmailMessage()
    message["Subject"] = "IOCs"
    message.set_content("See the attached files.\n")
    pdf = b"%PDF-1.4\n" + os.urandom(2048) + b"\n%%EOF\n"
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename="report.pdf")
    message.add_attachment("198.51.100.23\n", filename="iocs.txt")  # text, attachment
    inline_file = EmailMessage()
    inline_file.set_content("203.0.113.7\n", disposition="inline", filename="more.txt")
    message.attach(inline_file)  # Apple Mail style: inline, but a file
    _raw, result = _round_trip(stamp(message, Tlp.AMBER))
    body, report, iocs, more = (p for p in result.walk() if not p.is_multipart())
    _assert_banner_then_original(body, message.get_payload()[0], Tlp.AMBER)  # type: ignore[index]
    assert _decoded(report) == pdf
    assert iocs.get_content() == "198.51.100.23\n"
    assert more.get_content() == "203.0.113.7\n"


def test_an_attached_p7m_file_is_an_attachment_not_an_encrypted_body() -> None:
    message = EmailMessage()
    message["Subject"] = "encrypted file for the CERT"
    message.set_content("The file is encrypted to your certificate.\n")
    message.add_attachment(
        b"0\x82\x01\x00fake-cms", "application", "pkcs7-mime", filename="report.p7m"
    )
    _raw, result = _round_trip(stamp(message, Tlp.AMBER))
    body, attached = result.get_payload()  # type: ignore[misc]
    assert body.get_content().startswith(banner_text(Tlp.AMBER))
    assert attached.get_content_type() == "application/pkcs7-mime"
    assert _decoded(attached) == b"0\x82\x01\x00fake-cms"


def test_forwarded_message_inside_is_not_touched() -> None:
    inner = EmailMessage()
    inner["From"] = "attacker@evil.example"
    inner["Subject"] = "Ihre Rechnung"
    inner.set_content("Click here.\n")
    message = EmailMessage()
    message["Subject"] = "Fwd: phishing sample"
    message.set_content("Sample attached.\n")
    message.add_attachment(inner)
    _raw, result = _round_trip(stamp(message, Tlp.GREEN))
    forwarded = next(p for p in result.walk() if p.get_content_type() == "message/rfc822")
    assert forwarded.get_payload()[0].as_bytes() == inner.as_bytes()  # type: ignore[index]
    assert result.get_body(("plain",)).get_content().startswith(banner_text(Tlp.GREEN))  # type: ignore[union-attr]


def test_message_without_body_text_gets_a_banner_part_first() -> None:
    only_attachment = EmailMessage()
    only_attachment["Subject"] = "pcap"
    only_attachment.add_attachment(
        b"\xd4\xc3\xb2\xa1" + bytes(60), "application", "vnd.tcpdump.pcap"
    )
    _raw, result = _round_trip(stamp(only_attachment, Tlp.RED))
    first, pcap = result.get_payload()  # type: ignore[misc]
    assert first.get_content() == banner_text(Tlp.RED) + "\n"
    assert _decoded(pcap) == b"\xd4\xc3\xb2\xa1" + bytes(60)

    single_part = EmailMessage()
    single_part["Subject"] = "just a file"
    single_part.set_content(b"\x00\x01binary", "application", "octet-stream")
    _raw, result = _round_trip(stamp(single_part, Tlp.RED))
    assert result.get_content_type() == "multipart/mixed"
    assert result["Subject"] == "[TLP:RED] just a file"
    first, data = result.get_payload()  # type: ignore[misc]
    assert first.get_content() == banner_text(Tlp.RED) + "\n"
    assert _decoded(data) == b"\x00\x01binary"


def test_utf16_text_is_not_rewritten_but_gets_a_banner_part() -> None:
    message = EmailMessage()
    message["Subject"] = "utf-16"
    text = "Störung\r\n".encode("utf-16")
    message.set_content(text, "text", "plain", params={"charset": "utf-16"})
    _raw, result = _round_trip(stamp(message, Tlp.AMBER))
    banner, original = result.get_payload()  # type: ignore[misc]
    assert banner.get_content() == banner_text(Tlp.AMBER) + "\n"
    assert _decoded(original) == text


def test_stamping_again_replaces_the_banner() -> None:
    message = EmailMessage()
    message["Subject"] = "x"
    message.set_content("Body.\n")
    message.add_alternative("<html><body><p>Body.</p></body></html>\n", subtype="html")
    twice = stamp(stamp(message, Tlp.GREEN), Tlp.RED)
    plain, markup = _body_texts(twice)
    assert plain.get_content() == banner_text(Tlp.RED) + "\n\nBody.\n"
    assert markup.get_content().count("<table") == 1
    assert twice["Subject"] == "[TLP:RED] x"


# --- Signed and encrypted --------------------------------------------------------------------


def _between(raw: bytes, start: bytes, end: bytes) -> bytes:
    begin = raw.index(start) + len(start)
    return raw[begin : raw.index(end, begin)]


@pytest.mark.parametrize("linesep", ["\n", "\r\n"])  # "\r\n": as sent over SMTP
def test_pgp_signed_part_is_byte_for_byte_unchanged(tmp_path: Path, linesep: str) -> None:
    raw, original = _fixture("pgp_signed.eml")
    sent, result = _round_trip(stamp(original, Tlp.AMBER, list_prefix="[ciso]"), linesep)
    out = sent.replace(b"\r\n", b"\n")  # the fixture is stored with LF line ends
    assert result.get_content_type() == "multipart/mixed"
    banner, signed = result.get_payload()  # type: ignore[misc]
    assert banner.get_content().replace("\r\n", "\n") == banner_text(Tlp.AMBER) + "\n"
    assert signed.get_content_type() == "multipart/signed"
    # The signed entity: its Content-Type field as folded, and the whole body.
    header_end = raw.index(b"\n\n")
    content_type = raw[raw.index(b"Content-Type: multipart/signed") : header_end + 1]
    original_body = raw[header_end + 2 :]
    assert content_type + b"\n" + original_body in out
    signed_content = _between(raw, b"--------------sigB0und4ry\n", b"\n--------------sigB0und4ry")
    assert _between(out, b"--------------sigB0und4ry\n", b"\n--------------sigB0und4ry") == (
        signed_content
    )
    assert b"so a refold would show\n" in signed_content  # a 100+ character line, unfolded
    assert result["Subject"] == "[ciso] [TLP:AMBER] Scans gegen Übergabepunkte"
    assert result["From"] == "Alice Example <alice@operator-a.example>"
    _verify_pgp(tmp_path, out)


def _dearmored(armoured: str) -> bytes:
    """The binary form of an ASCII-armoured OpenPGP block (RFC 4880 §6.2)."""
    body = armoured.split("\n\n", 1)[1]
    lines = [line for line in body.splitlines() if line and not line.startswith(("=", "-----"))]
    return base64.b64decode("".join(lines))


def _verify_pgp(work: Path, out: bytes) -> None:
    """The signature still verifies over what recipients receive (RFC 3156 §5).

    gpgv checks one signature against a keyring file and starts no agent.
    """
    gpgv = shutil.which("gpgv")
    if gpgv is None:
        pytest.skip("gpgv is not installed")
    signed = _between(out, b"--------------sigB0und4ry\n", b"\n--------------sigB0und4ry")
    signature = _between(out, b"-----BEGIN PGP SIGNATURE-----", b"-----END PGP SIGNATURE-----")
    (work / "content").write_bytes(signed.replace(b"\n", b"\r\n"))  # canonical CRLF
    (work / "content.sig").write_bytes(_dearmored(signature.decode("ascii")))
    (work / "signer.gpg").write_bytes(_dearmored((DATA / "pgp_signer.asc").read_text()))
    verified = subprocess.run(
        [gpgv, "--status-fd", "1", "--keyring", str(work / "signer.gpg"),
         str(work / "content.sig"), str(work / "content")],
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    assert b"[GNUPG:] GOODSIG" in verified.stdout, verified.stderr


def _certificate(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test Signer")])
    now = datetime.datetime(2024, 9, 1, tzinfo=datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )


def _smime_signed_message() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    entity = (
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        b"Gr=C3=BC=C3=9Fe, signed text with a long line that is longer than seventy-six charac=\r\n"
        b"ters.\r\n"
    )
    signed = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(entity)
        .add_signer(_certificate(key), key, hashes.SHA256())
        .sign(serialization.Encoding.SMIME, [pkcs7.PKCS7Options.DetachedSignature])
    )
    headers = b"From: signer@operator-a.example\r\nSubject: S/MIME [TLP:GREEN]\r\n"
    return headers + signed


def _openssl_verifies(entity: bytes, tmp_path: Path) -> bool:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    path = tmp_path / "entity.eml"
    path.write_bytes(entity)
    result = subprocess.run(
        [openssl, "smime", "-verify", "-noverify", "-in", str(path), "-out", os.devnull],
        capture_output=True,
        timeout=60,
    )
    return result.returncode == 0


def test_smime_signed_message_still_verifies(tmp_path: Path) -> None:
    raw = _smime_signed_message()
    original = _parse(raw)
    assert _openssl_verifies(raw, tmp_path)
    out, result = _round_trip(stamp(original, Tlp.GREEN), "\r\n")
    banner, _signed = result.get_payload()  # type: ignore[misc]
    assert banner.get_content() == (banner_text(Tlp.GREEN) + "\n").replace("\n", "\r\n")
    outer = result.get_boundary()
    assert outer is not None
    # RFC 2046 §5.1.1: the CRLF before a delimiter belongs to the delimiter.
    _preamble, _banner, entity, _close = out.split(f"--{outer}".encode())
    entity = entity.removeprefix(b"\r\n").removesuffix(b"\r\n")
    assert entity.startswith(b"Content-Type: multipart/signed")
    assert _openssl_verifies(entity, tmp_path)
    assert entity.split(b"\r\n\r\n", 1)[1] == raw.split(b"\r\n\r\n", 1)[1]


def test_signed_part_nested_in_mixed_is_wrapped_where_it_stands() -> None:
    signed = _parse(_smime_signed_message())
    footer = EmailMessage()
    footer.set_content("Gateway footer.\n")
    outer = EmailMessage()
    outer["Subject"] = "via a gateway"
    outer.make_mixed()
    outer.attach(signed)
    outer.attach(footer)
    _out, result = _round_trip(stamp(outer, Tlp.AMBER))
    wrapper, stamped_footer = result.get_payload()  # type: ignore[misc]
    assert wrapper.get_content_type() == "multipart/mixed"
    banner, inner = wrapper.get_payload()
    assert banner.get_content() == banner_text(Tlp.AMBER) + "\n"
    assert inner["Content-Type"] == signed["Content-Type"]
    assert inner.as_bytes().split(b"\n\n", 1)[1] == signed.as_bytes().split(b"\n\n", 1)[1]
    assert stamped_footer.get_content() == banner_text(Tlp.AMBER) + "\n\nGateway footer.\n"


def test_smime_encrypted_message_is_untouched_and_still_decrypts() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    certificate = _certificate(key)
    secret = b"Content-Type: text/plain\r\n\r\nTLP:RED secret details\r\n"
    enveloped = (
        pkcs7.PKCS7EnvelopeBuilder()
        .set_data(secret)
        .add_recipient(certificate)
        .encrypt(serialization.Encoding.SMIME, [])
    )
    original = _parse(b"Subject: encrypted\r\nFrom: a@operator-a.example\r\n" + enveloped)
    before = original.get_payload()
    _out, result = _round_trip(stamp(original, Tlp.RED))
    banner, encrypted = result.get_payload()  # type: ignore[misc]
    assert banner.get_content() == banner_text(Tlp.RED) + "\n"
    assert encrypted.get_content_type() == "application/pkcs7-mime"
    assert encrypted.get_payload() == before  # the base64 text as it was
    decrypted = pkcs7.pkcs7_decrypt_smime(
        encrypted.as_bytes(policy=CRLF_POLICY), certificate, key, []
    )
    assert decrypted.replace(b"\r\n", b"\n") == secret.replace(b"\r\n", b"\n")


def test_pgp_encrypted_and_inline_signed_are_untouched() -> None:
    encrypted = _parse(
        b"Subject: pgp\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted";'
        b' boundary="enc"\n\n--enc\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n'
        b"--enc\nContent-Type: application/octet-stream\n\n"
        b"-----BEGIN PGP MESSAGE-----\n\nhF4DAAAAAAAAAAASAQdA\n-----END PGP MESSAGE-----\n"
        b"--enc--\n"
    )
    _out, result = _round_trip(stamp(encrypted, Tlp.AMBER))
    banner, kept = result.get_payload()  # type: ignore[misc]
    assert banner.get_content() == banner_text(Tlp.AMBER) + "\n"
    assert kept.as_bytes() == encrypted.as_bytes().split(b"\n", 2)[2]

    clearsigned = (
        "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nScans on 8443.\n"
        "-----BEGIN PGP SIGNATURE-----\n\niHUEARYIAB0WIQ\n-----END PGP SIGNATURE-----\n"
    )
    inline = EmailMessage()
    inline["Subject"] = "inline"
    inline.set_content(clearsigned)
    _out, result = _round_trip(stamp(inline, Tlp.AMBER))
    banner, kept = result.get_payload()  # type: ignore[misc]
    assert banner.get_content() == banner_text(Tlp.AMBER) + "\n"
    assert kept.get_content() == clearsigned


# --- Purity and cost -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "pgp_signed.eml",
        "outlook_cp1252_base64.eml",
        "thunderbird_latin1_qp.eml",
        "iso2022jp_7bit.eml",
    ],
)
def test_input_message_is_not_mutated(name: str) -> None:
    _raw, original = _fixture(name)
    before = original.as_bytes()
    subject = original["Subject"]
    stamped = stamp(original, Tlp.RED, list_prefix="[ciso]")
    assert stamped is not original
    assert original.as_bytes() == before
    assert original["Subject"] == subject
    assert original["TLP"] in (None, "amber")
    stamped_parts = {id(part) for part in stamped.walk()}
    assert not stamped_parts & {id(part) for part in original.walk()}  # no shared parts


def test_ten_megabyte_message_is_stamped_without_touching_the_attachment() -> None:
    message = EmailMessage()
    message["Subject"] = "big capture"
    message.set_content("Capture attached.\n")
    message.add_attachment(os.urandom(10 * 1024 * 1024), "application", "octet-stream")
    original = _parse(message.as_bytes())
    attachment = original.get_payload()[1]  # type: ignore[index]
    started = time.perf_counter()
    stamped = stamp(original, Tlp.AMBER)
    elapsed = time.perf_counter() - started
    stamped_attachment = stamped.get_payload()[1]  # type: ignore[index]
    # The very same encoded text: not decoded, not re-encoded, not copied.
    assert stamped_attachment.get_payload() is attachment.get_payload()
    assert stamped_attachment is not attachment
    assert elapsed < 1.0, elapsed
    assert base64.b64decode(stamped_attachment.get_payload())[:16] == _decoded(attachment)[:16]
