"""clean_attachment: detection, types left out, text attachments, limits, placeholders.

CHATHAM_HOUSE.md §2.2, §2.3 and section 6 cases 24, 32, 33, 41. The per-format
cleaners have their own modules (test_attachments_pdf, _office, _odf, _images).
"""

from __future__ import annotations

import io
import struct
import zipfile

import pytest

from filters.attachments import CleanedAttachment, clean_attachment
from filters.flags import FlagKind
from tests.filters.test_attachments_samples import (
    REGISTRY,
    build_zip,
    camera_jpeg,
    identity_docx,
    identity_pdf,
    leaks,
    matcher,
    screenshot_png,
)
from tests.oracle import assert_text_clean

WHERE = "attachment-2"


def clean(data: bytes, declared: str = "application/octet-stream", **kw: int) -> CleanedAttachment:
    return clean_attachment(data, declared, matcher(), where=WHERE, **kw)


def assert_left_out(result: CleanedAttachment, kind: FlagKind, reason: str) -> None:
    assert result.data is None
    assert result.placeholder == f"[{WHERE} removed from the archive: {reason}]"
    assert [flag.kind for flag in result.flags] == [kind]
    assert result.flags[0].where == WHERE


# ---------------------------------------------------------------------------
# Case 32: winmail.dat; case 33: vCard, .msg, calendar invitations.


def tnef() -> bytes:
    # TNEF signature, legacy key, then an attribute carrying the MAPI sender name.
    name = "Alice Müller".encode("cp1252") + b"\x00"
    attribute = b"\x01" + struct.pack("<I", 0x00008000) + struct.pack("<I", len(name)) + name
    return b"\x78\x9f\x3e\x22" + b"\x01\x00" + attribute + b"\x00\x00" + b"%PDF-1.4 inner"


VCARD = (
    "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Alice Müller\r\nORG:Operator A GmbH\r\n"
    "EMAIL:alice@operator-a.example\r\nEND:VCARD\r\n"
).encode()
CALENDAR = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\n"
    "ORGANIZER;CN=Alice Müller:mailto:alice@operator-a.example\r\n"
    "ATTENDEE;CN=Bob Brown:mailto:bob@betreiber-b.example\r\n"
    'DESCRIPTION:Join: https://teams.microsoft.com/l/meetup-join/x?context={"Tid":"t","Oid":"o"}'
    "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
).encode()
OLE_HEADER = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16 + b"\x3e\x00\x03\x00\xfe\xff"


def outlook_msg() -> bytes:
    body = "__substg1.0_0C1A001F Alice Müller".encode("utf-16-le")
    return OLE_HEADER + b"\x00" * 482 + body


@pytest.mark.parametrize(
    ("data", "declared", "content_type"),
    [
        (tnef(), "application/ms-tnef", "application/ms-tnef"),
        (tnef(), "application/octet-stream", "application/ms-tnef"),
        (VCARD, "text/vcard", "text/vcard"),
        (VCARD, "text/x-vcard", "text/vcard"),
        (VCARD, "text/plain", "text/vcard"),  # detected from the bytes
        (CALENDAR, "text/calendar; method=REQUEST", "text/calendar"),
        (CALENDAR, "application/octet-stream", "text/calendar"),
        (outlook_msg(), "application/vnd.ms-outlook", "application/x-ole-storage"),
    ],
)
def test_tnef_vcard_msg_and_calendar_are_left_out(
    data: bytes, declared: str, content_type: str
) -> None:
    result = clean(data, declared)
    assert_left_out(result, FlagKind.ATTACHMENT_DROPPED, "unsupported type")
    assert result.content_type == content_type
    assert_text_clean([result.placeholder or "", *map(str, result.flags)], REGISTRY)


# ---------------------------------------------------------------------------
# Case 41: HEIC, SVG, legacy .doc, ZIP; plus the rest of §2.2's never-archived types.


def heic() -> bytes:
    return struct.pack(">I", 24) + b"ftypheic" + b"\x00\x00\x00\x00mif1heic" + b"\x00" * 64


SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" '
    b'xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" '
    b'inkscape:export-filename="/home/amueller/logo.png"><metadata>Alice</metadata></svg>'
)


def legacy_doc() -> bytes:
    return OLE_HEADER + b"\x00" * 482 + "WordDocument".encode("utf-16-le") + b"\x00" * 64


def plain_zip() -> bytes:
    return build_zip({"Alice_Mueller/notes.txt": "Operator A internal", "readme.txt": "hi"})


@pytest.mark.parametrize(
    ("data", "declared"),
    [
        (heic(), "image/heic"),
        (heic(), "image/jpeg"),  # a lie about the type changes nothing
        (SVG, "image/svg+xml"),
        (SVG, "text/plain"),
        (legacy_doc(), "application/msword"),
        (legacy_doc(), "application/pdf"),
        (plain_zip(), "application/zip"),
        (plain_zip(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\x00" * 40, "application/x-7z-compressed"),
        (b"Rar!\x1a\x07\x01\x00" + b"\x00" * 40, "application/vnd.rar"),
        (b"\x1f\x8b\x08\x00" + b"\x00" * 40, "application/gzip"),
        (b"MZ\x90\x00" + b"\x00" * 60, "application/octet-stream"),
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 60, "application/octet-stream"),
        (b"{\\rtf1\\ansi{\\info{\\author Alice M\\'fcller}}}", "application/rtf"),
        (b"<!DOCTYPE html><html><body>Alice</body></html>", "application/octet-stream"),
        (b"-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQINBF...\n", "application/pgp-keys"),
        (b"-----BEGIN PGP SIGNATURE-----\n\niQIz\n-----END PGP SIGNATURE-----\n", "text/plain"),
        (b"0\x82\x05\x12\x06\t*\x86H\x86\xf7\r\x01\x07\x02", "application/pkcs7-signature"),
        (b"0\x82\x05\x12\x06\t*\x86H\x86\xf7\r\x01\x07\x03", "application/pkcs7-mime"),
        (b"plain words", "application/pkcs7-mime; smime-type=enveloped-data"),
        (b"\x85\x01\x0c\x03" + bytes(range(256)), "application/pgp-encrypted"),
        (
            b"Received: from mx.operator-a.example\r\nFrom: a@b.example\r\n"
            b"Message-ID: <x@operator-a.example>\r\nSubject: hi\r\n\r\nbody\r\n",
            "application/octet-stream",
        ),
        (b"\x00\x01\x02\x03\xff\xfe\xfd" * 20, "application/octet-stream"),
        (b"II*\x00\x08\x00\x00\x00" + b"\x00" * 40, "image/tiff"),
    ],
)
def test_unsupported_types_are_never_passed_through(data: bytes, declared: str) -> None:
    result = clean(data, declared)
    assert_left_out(result, FlagKind.ATTACHMENT_DROPPED, "unsupported type")
    assert result.extension.isalnum()
    assert_text_clean([result.placeholder or "", *map(str, result.flags)], REGISTRY)


def test_detected_type_names_the_file_not_the_sender_claim() -> None:
    """Case 24: the archive names the file from its bytes (`attachment-N.<ext>`)."""
    result = clean(identity_pdf(), "application/msword")
    assert (result.content_type, result.extension) == ("application/pdf", "pdf")
    result = clean(camera_jpeg(), "application/pdf")
    assert (result.content_type, result.extension) == ("image/jpeg", "jpg")
    result = clean(identity_docx(), "application/octet-stream")
    assert result.extension == "docx"
    assert result.content_type.endswith("wordprocessingml.document")


# ---------------------------------------------------------------------------
# Plain-text attachments: returned as UTF-8, left out when they name a member.


def test_csv_of_indicators_is_kept_as_utf8_text() -> None:
    data = "indicator,type\r\n203.0.113.7,ip\r\nevil.example,domain\r\n".encode("utf-16")
    result = clean(data, "text/csv")
    assert result.data == b"indicator,type\r\n203.0.113.7,ip\r\nevil.example,domain\r\n"
    assert (result.content_type, result.extension) == ("text/plain", "txt")
    assert result.flags == ()
    assert result.placeholder is None


def test_windows_1252_log_becomes_utf8() -> None:
    result = clean("Größe überschritten – 3 Ereignisse\n".encode("cp1252"), "text/plain")
    assert result.data == "Größe überschritten – 3 Ereignisse\n".encode()


@pytest.mark.parametrize(
    "text",
    [
        "Contact Alice Müller for the pcap\n",
        "seen at OPERATOR A since Monday\n",
        "mail jmueller or alice@operator-a.example\n",
        "Report by Bob\u00a0Brown\n",
    ],
)
def test_text_naming_a_member_is_left_out(text: str) -> None:
    result = clean(text.encode(), "text/plain")
    assert_left_out(result, FlagKind.ATTACHMENT_CONTENT_HIT, "names a participant or organisation")
    assert_text_clean([result.placeholder or "", *map(str, result.flags)], REGISTRY)


def test_empty_attachment_is_empty_text() -> None:
    result = clean(b"", "application/pdf")
    assert result.data == b""
    assert result.content_type == "text/plain"


# ---------------------------------------------------------------------------
# Limits and failures.


def test_over_max_bytes_is_left_out_before_parsing() -> None:
    result = clean(identity_pdf(), "application/pdf", max_bytes=100)
    assert_left_out(result, FlagKind.ATTACHMENT_DROPPED, "too large")
    assert result.extension == "pdf"


@pytest.mark.parametrize(
    ("data", "declared"),
    [
        (b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj trailer << >>\n%%EOF", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg"),
        (b"PK\x03\x04" + b"\x00" * 40, "application/zip"),
    ],
)
def test_damaged_files_are_left_out(data: bytes, declared: str) -> None:
    result = clean(data, declared)
    assert_left_out(result, FlagKind.ATTACHMENT_DROPPED, result.placeholder.split(": ", 1)[1][:-1])
    assert result.placeholder.endswith(("could not be cleaned]", "unsupported type]", "encrypted]"))


def test_encrypted_office_zip_is_left_out_as_encrypted() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    data = bytearray(out.getvalue())
    # Set the "encrypted" flag bit in both the local header and the central directory.
    data[6] |= 1
    central = data.find(b"PK\x01\x02")
    while central != -1:
        data[central + 8] |= 1
        central = data.find(b"PK\x01\x02", central + 4)
    result = clean(bytes(data), "application/octet-stream")
    assert_left_out(result, FlagKind.ATTACHMENT_DROPPED, "encrypted")


def test_kept_attachment_flags_carry_where() -> None:
    result = clean(screenshot_png(), "image/png")
    assert result.data is not None
    assert [(flag.kind, flag.where) for flag in result.flags] == [(FlagKind.SCREENSHOT, WHERE)]
    assert not leaks(result.data)


def test_cleaning_kept_text_again_changes_nothing() -> None:
    first = clean("Größe,IOC\n203.0.113.7,ip\n".encode("cp1252"), "text/csv")
    assert first.data is not None
    assert clean(first.data, "text/plain").data == first.data


@pytest.mark.parametrize("text", ["BMW fleet: 4 hosts\n", "MZ header seen in 3 samples\n", "ID3\n"])
def test_text_that_starts_like_a_magic_number_is_text(text: str) -> None:
    result = clean(text.encode(), "application/octet-stream")
    assert result.data == text.encode()
    assert result.content_type == "text/plain"
