"""What an attachment really is, from its bytes (CHATHAM_HOUSE.md §2.2, §2.3).

The sender's Content-Type and filename are claims; the archive names a file
`attachment-N.<extension>` from what its bytes are. Magic numbers decide, and
for zip containers the members do: OOXML has `[Content_Types].xml` and a
`word/`, `xl/` or `ppt/` main part; ODF has a `mimetype` member. The declared
type is used one way only: a type we never archive (a contact card, a key, a
signature, winmail.dat) is refused even when its bytes look like plain text.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from enum import StrEnum


class FileKind(StrEnum):
    # Cleaned and archived.
    PDF = "pdf"
    DOCX = "docx"
    XLSX = "xlsx"
    PPTX = "pptx"
    ODT = "odt"
    ODS = "ods"
    ODP = "odp"
    ODG = "odg"
    JPEG = "jpeg"
    PNG = "png"
    GIF = "gif"
    WEBP = "webp"
    TEXT = "text"
    # Always left out.
    HEIF = "heif"
    SVG = "svg"
    TIFF = "tiff"
    BMP = "bmp"
    OLE = "ole"  # legacy .doc/.xls/.ppt, Outlook .msg
    TNEF = "tnef"  # winmail.dat
    ARCHIVE = "archive"
    EXECUTABLE = "executable"
    VCARD = "vcard"
    CALENDAR = "calendar"
    CRYPTO = "crypto"  # PGP/S-MIME keys, signatures, encrypted blobs, certificates
    RTF = "rtf"
    HTML = "html"
    EMAIL = "email"
    MEDIA = "media"  # audio and video
    UNKNOWN = "unknown"


CLEANABLE = frozenset(
    {
        FileKind.PDF,
        FileKind.DOCX,
        FileKind.XLSX,
        FileKind.PPTX,
        FileKind.ODT,
        FileKind.ODS,
        FileKind.ODP,
        FileKind.ODG,
        FileKind.JPEG,
        FileKind.PNG,
        FileKind.GIF,
        FileKind.WEBP,
        FileKind.TEXT,
    }
)


@dataclass(frozen=True, slots=True)
class DetectedType:
    kind: FileKind
    content_type: str
    extension: str


_OOXML_TYPES = {
    FileKind.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    FileKind.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    FileKind.PPTX: "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
_OOXML_PREFIXES = {"word/": FileKind.DOCX, "xl/": FileKind.XLSX, "ppt/": FileKind.PPTX}

# ODF `mimetype` member (ODF 1.3 part 2 §3.3) → kind. Templates are archived as
# the document type they produce.
_ODF_MIMETYPES = {
    "application/vnd.oasis.opendocument.text": FileKind.ODT,
    "application/vnd.oasis.opendocument.text-template": FileKind.ODT,
    "application/vnd.oasis.opendocument.spreadsheet": FileKind.ODS,
    "application/vnd.oasis.opendocument.spreadsheet-template": FileKind.ODS,
    "application/vnd.oasis.opendocument.presentation": FileKind.ODP,
    "application/vnd.oasis.opendocument.presentation-template": FileKind.ODP,
    "application/vnd.oasis.opendocument.graphics": FileKind.ODG,
    "application/vnd.oasis.opendocument.graphics-template": FileKind.ODG,
}
ODF_TYPES = {
    FileKind.ODT: "application/vnd.oasis.opendocument.text",
    FileKind.ODS: "application/vnd.oasis.opendocument.spreadsheet",
    FileKind.ODP: "application/vnd.oasis.opendocument.presentation",
    FileKind.ODG: "application/vnd.oasis.opendocument.graphics",
}

_SIMPLE_TYPES: dict[FileKind, tuple[str, str]] = {
    FileKind.PDF: ("application/pdf", "pdf"),
    FileKind.JPEG: ("image/jpeg", "jpg"),
    FileKind.PNG: ("image/png", "png"),
    FileKind.GIF: ("image/gif", "gif"),
    FileKind.WEBP: ("image/webp", "webp"),
    FileKind.TEXT: ("text/plain", "txt"),
    FileKind.HEIF: ("image/heic", "heic"),
    FileKind.SVG: ("image/svg+xml", "svg"),
    FileKind.TIFF: ("image/tiff", "tif"),
    FileKind.BMP: ("image/bmp", "bmp"),
    FileKind.TNEF: ("application/ms-tnef", "dat"),
    FileKind.VCARD: ("text/vcard", "vcf"),
    FileKind.CALENDAR: ("text/calendar", "ics"),
    FileKind.CRYPTO: ("application/octet-stream", "bin"),
    FileKind.RTF: ("application/rtf", "rtf"),
    FileKind.HTML: ("text/html", "html"),
    FileKind.EMAIL: ("message/rfc822", "eml"),
    FileKind.EXECUTABLE: ("application/octet-stream", "bin"),
    FileKind.MEDIA: ("application/octet-stream", "bin"),
    FileKind.UNKNOWN: ("application/octet-stream", "bin"),
}

# Declared types refused whatever the bytes look like (§2.2): cards, invitations,
# keys, signatures, encrypted or opaque S/MIME, TNEF, Outlook items, messages.
_REFUSED_DECLARED = {
    "text/vcard": FileKind.VCARD,
    "text/x-vcard": FileKind.VCARD,
    "text/directory": FileKind.VCARD,
    "text/calendar": FileKind.CALENDAR,
    "text/x-vcalendar": FileKind.CALENDAR,
    "application/ics": FileKind.CALENDAR,
    "application/ms-tnef": FileKind.TNEF,
    "application/vnd.ms-tnef": FileKind.TNEF,
    "application/vnd.ms-outlook": FileKind.OLE,
    "application/pgp-keys": FileKind.CRYPTO,
    "application/pgp-signature": FileKind.CRYPTO,
    "application/pgp-encrypted": FileKind.CRYPTO,
    "application/pkcs7-signature": FileKind.CRYPTO,
    "application/x-pkcs7-signature": FileKind.CRYPTO,
    "application/pkcs7-mime": FileKind.CRYPTO,
    "application/x-pkcs7-mime": FileKind.CRYPTO,
    "application/pkcs10": FileKind.CRYPTO,
    "application/pkcs12": FileKind.CRYPTO,
    "application/x-pkcs12": FileKind.CRYPTO,
    "application/pkix-cert": FileKind.CRYPTO,
    "application/x-x509-ca-cert": FileKind.CRYPTO,
    "application/x-x509-user-cert": FileKind.CRYPTO,
    "application/x-pem-file": FileKind.CRYPTO,
    "message/rfc822": FileKind.EMAIL,
    "message/global": FileKind.EMAIL,
    "message/partial": FileKind.EMAIL,
    "message/external-body": FileKind.EMAIL,
    "text/rfc822-headers": FileKind.EMAIL,
    "message/delivery-status": FileKind.EMAIL,
    "message/disposition-notification": FileKind.EMAIL,
    "text/html": FileKind.HTML,
    "application/xhtml+xml": FileKind.HTML,
    "text/rtf": FileKind.RTF,
    "application/rtf": FileKind.RTF,
    "image/svg+xml": FileKind.SVG,
}

# ISO base media file brands (bytes 8..12 after "ftyp") of HEIF/HEIC/AVIF images.
_HEIF_BRANDS = {
    b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs",
    b"mif1", b"msf1", b"avif", b"avis",
}  # fmt: skip

# Magic numbers that contain control bytes, so no text file starts with them.
_ARCHIVE_MAGIC = (
    b"7z\xbc\xaf\x27\x1c",
    b"Rar!\x1a\x07",
    b"\x1f\x8b",  # gzip
    b"\xfd7zXZ\x00",
    b"\x28\xb5\x2f\xfd",  # zstd
    b"PK\x05\x06",  # empty zip
    b"PK\x07\x08",  # spanned zip
    b"\x04\x22\x4d\x18",  # lz4
)
_EXECUTABLE_MAGIC = (
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",  # Mach-O universal, also Java class files
    b"\x00asm",
)
# Printable magic numbers ("BMW report.txt" is text, not a bitmap): checked only
# once the bytes turned out not to be text.
_PRINTABLE_MAGIC = (
    (b"BM", FileKind.BMP),
    (b"MZ", FileKind.EXECUTABLE),
    (b"dex\n", FileKind.EXECUTABLE),
    (b"BZh", FileKind.ARCHIVE),
    (b"MSCF", FileKind.ARCHIVE),  # cabinet
    (b"!<arch>\n", FileKind.ARCHIVE),
    (b"xar!", FileKind.ARCHIVE),
    (b"ID3", FileKind.MEDIA),
    (b"OggS", FileKind.MEDIA),
    (b"fLaC", FileKind.MEDIA),
    (b"FLV", FileKind.MEDIA),
    (b".RMF", FileKind.MEDIA),
    (b"\x1a\x45\xdf\xa3", FileKind.MEDIA),  # Matroska/WebM
)
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_TNEF_MAGIC = b"\x78\x9f\x3e\x22"

# Text that is really something we never archive.
_TEXT_SIGNATURES: tuple[tuple[str, FileKind], ...] = (
    ("begin:vcard", FileKind.VCARD),
    ("begin:vcalendar", FileKind.CALENDAR),
    ("-----begin pgp", FileKind.CRYPTO),
    ("-----begin certificate", FileKind.CRYPTO),
    ("-----begin pkcs7", FileKind.CRYPTO),
    ("-----begin cms", FileKind.CRYPTO),
    ("-----begin public key", FileKind.CRYPTO),
    ("-----begin private key", FileKind.CRYPTO),
    ("-----begin rsa", FileKind.CRYPTO),
    ("-----begin ec ", FileKind.CRYPTO),
    ("-----begin openssh", FileKind.CRYPTO),
    ("-----begin encrypted", FileKind.CRYPTO),
    ("-----begin x509", FileKind.CRYPTO),
    ("-----begin ssh2", FileKind.CRYPTO),
    ("{\\rtf", FileKind.RTF),
    ("<svg", FileKind.SVG),
    ("<!doctype html", FileKind.HTML),
    ("<html", FileKind.HTML),
    ("<?mso-application", FileKind.UNKNOWN),  # Word/Excel 2003 XML, flat OPC
    ("<office:document", FileKind.UNKNOWN),  # flat ODF (.fodt), full meta.xml inside
    ("<pkg:package", FileKind.UNKNOWN),
)
# A stored message (.eml, mbox, a pasted header block) carries a whole set of
# headers (Received, Message-ID, DKIM) that must be scrubbed as a message.
_HEADER_LINE = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,40}:[ \t]")
_MESSAGE_FIELDS = frozenset(
    {
        "from", "to", "cc", "subject", "date", "sender", "reply-to", "message-id",
        "in-reply-to", "references", "received", "return-path", "delivered-to",
        "mime-version", "content-type", "dkim-signature", "arc-seal",
        "authentication-results", "x-mailer", "user-agent", "thread-index",
    }
)  # fmt: skip


def detect_type(data: bytes, declared_type: str = "") -> DetectedType:
    """The real type of `data`; the declared type can only make it stricter."""
    kind = _kind_from_bytes(data)
    if kind in CLEANABLE:
        declared = declared_type.split(";", 1)[0].strip().lower()
        kind = _REFUSED_DECLARED.get(declared, kind)
    return describe(kind)


def describe(kind: FileKind) -> DetectedType:
    if kind in _OOXML_TYPES:
        return DetectedType(kind, _OOXML_TYPES[kind], kind.value)
    if kind in ODF_TYPES:
        return DetectedType(kind, ODF_TYPES[kind], kind.value)
    if kind is FileKind.OLE:
        return DetectedType(kind, "application/x-ole-storage", "bin")
    if kind is FileKind.ARCHIVE:
        return DetectedType(kind, "application/octet-stream", "bin")
    content_type, extension = _SIMPLE_TYPES[kind]
    return DetectedType(kind, content_type, extension)


def _kind_from_bytes(data: bytes) -> FileKind:
    head = data[:64]
    if head.startswith(b"%PDF-"):
        return FileKind.PDF
    if head.startswith(b"\xff\xd8\xff"):
        return FileKind.JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return FileKind.PNG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return FileKind.GIF
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return FileKind.WEBP
    if head.startswith(b"RIFF"):  # WAV, AVI
        return FileKind.MEDIA
    if head[4:8] == b"ftyp":
        return FileKind.HEIF if head[8:12] in _HEIF_BRANDS else FileKind.MEDIA
    if head.startswith((b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")):
        return FileKind.TIFF
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    if head.startswith(_OLE_MAGIC):
        return FileKind.OLE
    if head.startswith(_TNEF_MAGIC):
        return FileKind.TNEF
    if head.startswith(_ARCHIVE_MAGIC):
        return FileKind.ARCHIVE
    if head.startswith(_EXECUTABLE_MAGIC):
        return FileKind.EXECUTABLE
    text = decode_text(data)
    if text is not None:
        return _text_kind(text)
    for magic, kind in _PRINTABLE_MAGIC:
        if head.startswith(magic):
            return kind
    if data[257:262] == b"ustar":
        return FileKind.ARCHIVE
    if b"%PDF-" in data[:1024]:  # readers accept up to 1 KiB of junk before the header
        return FileKind.PDF
    return FileKind.UNKNOWN  # binary we do not know: DER blobs, OpenPGP packets, …


def _zip_kind(data: bytes) -> FileKind:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            if "mimetype" in names:
                info = archive.getinfo("mimetype")
                if info.file_size > 200:
                    return FileKind.ARCHIVE
                mimetype = archive.read(info).decode("ascii", "replace").strip()
                return _ODF_MIMETYPES.get(mimetype, FileKind.ARCHIVE)
    except Exception:  # a damaged zip is an archive we do not open, whatever zipfile raises
        return FileKind.ARCHIVE
    if "[Content_Types].xml" not in names:
        return FileKind.ARCHIVE
    for prefix, kind in _OOXML_PREFIXES.items():
        if any(name.startswith(prefix) for name in names):
            return kind
    return FileKind.ARCHIVE  # other OPC packages: XPS, Visio, NuGet


# C0 controls other than tab, line feed, form feed and carriage return.
_CONTROLS = tuple(chr(code) for code in range(32) if chr(code) not in "\t\n\r\f")


def decode_text(data: bytes) -> str | None:
    """`data` as text if it is text (UTF-8, UTF-16 with a BOM, or Windows-1252)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    elif data.startswith(b"\xef\xbb\xbf"):
        try:
            text = data[3:].decode("utf-8")
        except UnicodeDecodeError:
            return None
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError:
                return None
    if "\x00" in text:
        return None
    controls = sum(text.count(control) for control in _CONTROLS)
    if controls > len(text) // 100:
        return None
    return text


def _text_kind(text: str) -> FileKind:
    start = text[:4096].lstrip("\ufeff \t\r\n").lower()
    for signature, kind in _TEXT_SIGNATURES:
        if start.startswith(signature):
            return kind
    if start.startswith("<"):
        # Markup is text unless its root, after a declaration, comments or a
        # DOCTYPE, is something we refuse (SVG, HTML, flat ODF or Word XML).
        for signature, kind in _TEXT_SIGNATURES:
            if signature.startswith("<") and signature in start:
                return kind
    lowered = text.lower()
    if "-----begin pgp" in lowered or "-----begin certificate" in lowered:
        return FileKind.CRYPTO  # armour after a preamble, or inside notes
    if _looks_like_message(text):
        return FileKind.EMAIL
    return FileKind.TEXT


def _looks_like_message(text: str) -> bool:
    """At least three RFC 5322 header fields before the first empty line."""
    lines = text.lstrip("\ufeff").splitlines()
    if lines and lines[0].startswith("From ") and "@" in lines[0]:
        lines = lines[1:]  # mbox separator line
    fields = 0
    for line in lines[:200]:
        if not line.strip():
            break
        if line[:1] in (" ", "\t"):
            continue  # folded continuation (RFC 5322 §2.2.3)
        if not _HEADER_LINE.match(line):
            return False
        if line.split(":", 1)[0].lower() in _MESSAGE_FIELDS:
            fields += 1
    return fields >= 3
