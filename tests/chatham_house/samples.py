"""Real files and messages for the §6 cases, built with the libraries that write them.

PDFs with pikepdf, images with Pillow, office packages with zipfile, S/MIME
with `cryptography`; messages with the `email` package or read from
tests/data/eml (captured shapes of Outlook, Thunderbird, Apple Mail, Gmail).
"""

from __future__ import annotations

import base64
import functools
import io
import re
import zipfile
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pikepdf
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID
from PIL import Image, PngImagePlugin

from tests.chatham_house.registry import EML_DIR

# --- messages ----------------------------------------------------------------

ALICE_FROM = "=?utf-8?q?Alice_M=C3=BCller?= <alice@operator-a.example>"


def post(
    body: str = "We see scans from 192.0.2.66 on TCP/7547 since 06:00 UTC.\n",
    *,
    subject: str = "TR-069 scanning",
    headers: list[tuple[str, str]] | None = None,
    subtype: str = "plain",
    charset: str = "utf-8",
    cte: str | None = None,
) -> EmailMessage:
    """A post by Alice to the list, with any extra header fields."""
    message = EmailMessage(policy=policy.default)
    message["From"] = "Alice Müller <alice@operator-a.example>"
    message["To"] = "ciso@lists.example"
    message["Subject"] = subject
    message["Date"] = "Tue, 3 Sep 2024 10:01:07 +0200"
    message["Message-ID"] = "<a1b2c3@mail.operator-a.example>"
    for name, value in headers or []:
        message[name] = value
    message.set_content(body, subtype=subtype, charset=charset, cte=cte)
    return message


def raw_message(data: bytes | str) -> EmailMessage:
    if isinstance(data, str):
        data = data.encode("utf-8")
    message = message_from_bytes(data, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def eml(name: str) -> EmailMessage:
    return raw_message((EML_DIR / name).read_bytes())


def with_attachment(
    message: EmailMessage, data: bytes, content_type: str, filename: str, **params: str
) -> EmailMessage:
    maintype, subtype = content_type.split("/", 1)
    message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    part = list(message.iter_attachments())[-1]
    for name, value in params.items():
        part.set_param(name.replace("_", "-"), value, header="Content-Disposition")
    return message


# --- PDF ---------------------------------------------------------------------


def _page_with_text(pdf: pikepdf.Pdf, text: str) -> pikepdf.Page:
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
        )
    )
    content = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    page = pikepdf.Dictionary(
        Type=pikepdf.Name.Page,
        MediaBox=[0, 0, 612, 792],
        Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font)),
        Contents=pdf.make_stream(content),
    )
    return pikepdf.Page(page)


def pdf_report(
    text: str = "Incident 2024-09-03: C2 server 192.0.2.66, sample SHA256 9f86d081",
) -> bytes:
    """A one-page PDF full of metadata that names Alice and Operator A."""
    pdf = pikepdf.new()
    pdf.pages.append(_page_with_text(pdf, text))
    pdf.docinfo["/Author"] = "Alice Müller"
    pdf.docinfo["/Producer"] = "Operator A GmbH DMS 4.2"
    pdf.docinfo["/Creator"] = "Microsoft Word for Operator A"
    pdf.docinfo["/CreationDate"] = "D:20240903100107+02'00'"
    with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
        meta["dc:creator"] = ["Alice Müller"]
        meta["xmp:CreatorTool"] = "Operator A GmbH report tool"
    page = pdf.pages[0]
    annotation = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Annot,
            Subtype=pikepdf.Name.Text,
            Rect=[100, 100, 120, 120],
            T=pikepdf.String("Alice Müller"),
            Contents=pikepdf.String("check with Bob Brown at Operator B"),
        )
    )
    page.obj["/Annots"] = pdf.make_indirect(pikepdf.Array([annotation]))
    attached = pikepdf.AttachedFileSpec(
        pdf, b"notes by alice@operator-a.example", filename="alice.txt"
    )
    pdf.attachments["alice.txt"] = attached
    pdf.Root.OpenAction = pikepdf.Dictionary(
        S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert('Operator A GmbH');")
    )
    out = io.BytesIO()
    pdf.save(out, object_stream_mode=pikepdf.ObjectStreamMode.disable, compress_streams=False)
    return out.getvalue()


def pdf_with_old_revision() -> bytes:
    """A PDF whose first revision says "Operator A internal" and an appended update hides it.

    The update (PDF 1.7 §7.5.6) replaces the page content stream; the old
    stream stays in the file, where any reader of the bytes finds it.
    """
    pdf = pikepdf.new()
    pdf.pages.append(_page_with_text(pdf, "Operator A internal draft: outage of core router"))
    out = io.BytesIO()
    pdf.save(
        out,
        object_stream_mode=pikepdf.ObjectStreamMode.disable,
        compress_streams=False,
        qdf=False,
    )
    first = out.getvalue()
    previous_xref = int(re.findall(rb"startxref\s+(\d+)", first)[-1])
    content_number = int(pdf.pages[0].obj.Contents.objgen[0])
    size = int(pdf.trailer.Size)
    root = pdf.trailer.Root.objgen[0]
    new_text = b"BT /F1 12 Tf 72 720 Td (Outage of a core router on 2024-09-03) Tj ET"
    update_object = (
        f"{content_number} 0 obj\n<< /Length {len(new_text)} >>\nstream\n".encode()
        + new_text
        + b"\nendstream\nendobj\n"
    )
    body = first if first.endswith(b"\n") else first + b"\n"
    object_offset = len(body)
    xref_offset = object_offset + len(update_object)
    xref = (
        f"xref\n0 1\n0000000000 65535 f \n{content_number} 1\n{object_offset:010d} 00000 n \n"
        f"trailer\n<< /Size {size} /Root {root} 0 R /Prev {previous_xref} >>\n"
        f"startxref\n{xref_offset}\n%%EOF\n"
    ).encode()
    return body + update_object + xref


# --- office packages ---------------------------------------------------------

_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_PACKAGE = "http://schemas.openxmlformats.org/package/2006"
_OFFICE = "http://schemas.openxmlformats.org/officeDocument/2006"
_MS = "http://schemas.microsoft.com/office"
_OOXML = "application/vnd.openxmlformats-officedocument"
_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
_R = f'xmlns:r="{_OFFICE}/relationships"'
_P = 'xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"'
_A = 'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"'
_S = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_THREADED = f'xmlns="{_MS}/spreadsheetml/2018/threadedcomments"'


def _content_types(overrides: dict[str, str], *, jpeg: bool = False) -> str:
    defaults = [
        ("rels", "application/vnd.openxmlformats-package.relationships+xml"),
        ("xml", "application/xml"),
    ]
    if jpeg:
        defaults.append(("jpeg", "image/jpeg"))
    return (
        f'{_XML}<Types xmlns="{_PACKAGE}/content-types">'
        + "".join(f'<Default Extension="{ext}" ContentType="{ct}"/>' for ext, ct in defaults)
        + "".join(
            f'<Override PartName="{part}" ContentType="{ct}"/>' for part, ct in overrides.items()
        )
        + "</Types>"
    )


def _relationships(*relations: tuple[str, str, str]) -> str:
    return (
        f'{_XML}<Relationships xmlns="{_PACKAGE}/relationships">'
        + "".join(
            f'<Relationship Id="{rid}" Type="{kind}" Target="{target}"/>'
            for rid, kind, target in relations
        )
        + "</Relationships>"
    )


_OFFICE_DOCUMENT = f"{_OFFICE}/relationships/officeDocument"


def _document_xml(footer: bool) -> str:
    section = (
        '<w:sectPr><w:footerReference w:type="default" r:id="rId9"/></w:sectPr>' if footer else ""
    )
    return (
        f"{_XML}<w:document {_W} {_R}><w:body>"
        '<w:p w:rsidR="00A1B2C3"><w:r><w:t>Incident summary: C2 server 192.0.2.66 contacted'
        " from the core network.</w:t></w:r></w:p>"
        '<w:p><w:ins w:id="1" w:author="Alice Müller" w:date="2024-09-03T10:01:00Z"><w:r>'
        "<w:t>Blocked at the border on 2024-09-03.</w:t></w:r></w:ins></w:p>"
        '<w:p><w:commentRangeStart w:id="0"/><w:r><w:t>Root cause unknown.</w:t></w:r>'
        '<w:commentRangeEnd w:id="0"/><w:r><w:commentReference w:id="0"/></w:r></w:p>'
        f"{section}</w:body></w:document>"
    )


def docx(*, footer_text: str | None = None) -> bytes:
    """A .docx whose metadata, comments and revisions name Alice and Operator A."""
    word = f"{_OOXML}.wordprocessingml"
    overrides = {
        "/word/document.xml": f"{word}.document.main+xml",
        "/word/comments.xml": f"{word}.comments+xml",
        "/word/people.xml": f"{word}.people+xml",
        "/word/footer1.xml": f"{word}.footer+xml",
        "/docProps/core.xml": "application/vnd.openxmlformats-package.core-properties+xml",
        "/docProps/app.xml": f"{_OOXML}.extended-properties+xml",
        "/docProps/custom.xml": f"{_OOXML}.custom-properties+xml",
    }
    document_rels = [
        ("rId7", f"{_OFFICE}/relationships/comments", "comments.xml"),
        ("rId8", f"{_MS}/2011/relationships/people", "people.xml"),
    ]
    if footer_text:
        document_rels.append(("rId9", f"{_OFFICE}/relationships/footer", "footer1.xml"))
    members: dict[str, str | bytes] = {
        "[Content_Types].xml": _content_types(overrides, jpeg=True),
        "_rels/.rels": _relationships(
            ("rId1", _OFFICE_DOCUMENT, "word/document.xml"),
            ("rId2", f"{_PACKAGE}/relationships/metadata/core-properties", "docProps/core.xml"),
            ("rId3", f"{_OFFICE}/relationships/extended-properties", "docProps/app.xml"),
            ("rId4", f"{_OFFICE}/relationships/custom-properties", "docProps/custom.xml"),
            ("rId5", f"{_PACKAGE}/relationships/metadata/thumbnail", "docProps/thumbnail.jpeg"),
        ),
        "word/document.xml": _document_xml(footer=bool(footer_text)),
        "word/_rels/document.xml.rels": _relationships(*document_rels),
        "word/comments.xml": (
            f'{_XML}<w:comments {_W}><w:comment w:id="0" w:author="Alice Müller" w:initials="AM">'
            "<w:p><w:r><w:t>Ask Bob Brown at Operator B</w:t></w:r></w:p></w:comment></w:comments>"
        ),
        "word/people.xml": (
            f'{_XML}<w15:people xmlns:w15="{_MS}/word/2012/wordml">'
            '<w15:person w15:author="Alice Müller"><w15:presenceInfo w15:providerId="AD" '
            'w15:userId="S::alice@operator-a.example::1b2c"/></w15:person></w15:people>'
        ),
        "docProps/core.xml": (
            f'{_XML}<cp:coreProperties xmlns:cp="{_PACKAGE}/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            "<dc:title>Incident summary</dc:title><dc:creator>Alice Müller</dc:creator>"
            "<cp:lastModifiedBy>Jürgen Müller</cp:lastModifiedBy>"
            '<dcterms:created xsi:type="dcterms:W3CDTF">2024-09-03T08:01:00Z</dcterms:created>'
            "</cp:coreProperties>"
        ),
        "docProps/app.xml": (
            f'{_XML}<Properties xmlns="{_OFFICE}/extended-properties">'
            "<Application>Microsoft Office Word</Application><Company>Operator A GmbH</Company>"
            "<Manager>Bob Brown</Manager></Properties>"
        ),
        "docProps/custom.xml": (
            f'{_XML}<Properties xmlns="{_OFFICE}/custom-properties" '
            f'xmlns:vt="{_OFFICE}/docPropsVTypes">'
            '<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="Owner">'
            "<vt:lpwstr>alice@operator-a.example</vt:lpwstr></property></Properties>"
        ),
        "docProps/thumbnail.jpeg": jpeg_plain(),
    }
    if footer_text:
        members["word/footer1.xml"] = (
            f"{_XML}<w:ftr {_W}><w:p><w:r><w:t>{footer_text}</w:t></w:r></w:p></w:ftr>"
        )
    return _zip(members)


def _zip(members: dict[str, str | bytes], *, first_stored: str | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            data = content.encode("utf-8") if isinstance(content, str) else content
            compression = zipfile.ZIP_STORED if name == first_stored else zipfile.ZIP_DEFLATED
            archive.writestr(zipfile.ZipInfo(name, (2024, 9, 3, 10, 1, 0)), data, compression)
    return out.getvalue()


def xlsx_with_threaded_comments() -> bytes:
    """An .xlsx whose threaded comment and person list name Alice."""
    sheet = f"{_OOXML}.spreadsheetml"
    members: dict[str, str | bytes] = {
        "[Content_Types].xml": _content_types(
            {
                "/xl/workbook.xml": f"{sheet}.sheet.main+xml",
                "/xl/worksheets/sheet1.xml": f"{sheet}.worksheet+xml",
                "/xl/threadedComments/threadedComment1.xml": (
                    "application/vnd.ms-excel.threadedcomments+xml"
                ),
                "/xl/persons/person.xml": "application/vnd.ms-excel.person+xml",
            }
        ),
        "_rels/.rels": _relationships(("rId1", _OFFICE_DOCUMENT, "xl/workbook.xml")),
        "xl/workbook.xml": (
            f'{_XML}<workbook {_S} {_R}><sheets><sheet name="IOCs" sheetId="1" r:id="rId1"/>'
            "</sheets></workbook>"
        ),
        "xl/_rels/workbook.xml.rels": _relationships(
            ("rId1", f"{_OFFICE}/relationships/worksheet", "worksheets/sheet1.xml"),
            ("rId2", f"{_MS}/2017/10/relationships/person", "persons/person.xml"),
        ),
        "xl/worksheets/sheet1.xml": (
            f'{_XML}<worksheet {_S}><sheetData><row r="1"><c r="A1" t="inlineStr"><is>'
            "<t>192.0.2.66</t></is></c></row></sheetData></worksheet>"
        ),
        "xl/worksheets/_rels/sheet1.xml.rels": _relationships(
            (
                "rId1",
                f"{_MS}/2017/10/relationships/threadedComment",
                "../threadedComments/threadedComment1.xml",
            )
        ),
        "xl/threadedComments/threadedComment1.xml": (
            f'{_XML}<ThreadedComments {_THREADED}><threadedComment ref="A1" personId="{{1B2C}}"'
            ' id="{3D4E}"><text>Seen at Operator A too</text></threadedComment></ThreadedComments>'
        ),
        "xl/persons/person.xml": (
            f'{_XML}<personList {_THREADED}><person displayName="Alice Müller" id="{{1B2C}}"'
            ' userId="alice@operator-a.example" providerId="AD"/></personList>'
        ),
    }
    return _zip(members)


def _slide_text(root: str, text: str) -> str:
    return (
        f"{_XML}<p:{root} {_P} {_A}><p:cSld><p:spTree><p:sp><p:txBody><a:p><a:r>"
        f"<a:t>{text}</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:{root}>"
    )


def pptx_with_notes() -> bytes:
    """A .pptx whose speaker notes name the presenter."""
    slides = f"{_OOXML}.presentationml"
    members: dict[str, str | bytes] = {
        "[Content_Types].xml": _content_types(
            {
                "/ppt/presentation.xml": f"{slides}.presentation.main+xml",
                "/ppt/slides/slide1.xml": f"{slides}.slide+xml",
                "/ppt/notesSlides/notesSlide1.xml": f"{slides}.notesSlide+xml",
            }
        ),
        "_rels/.rels": _relationships(("rId1", _OFFICE_DOCUMENT, "ppt/presentation.xml")),
        "ppt/presentation.xml": (
            f'{_XML}<p:presentation {_P} {_R}><p:sldIdLst><p:sldId id="256" r:id="rId2"/>'
            "</p:sldIdLst></p:presentation>"
        ),
        "ppt/_rels/presentation.xml.rels": _relationships(
            ("rId2", f"{_OFFICE}/relationships/slide", "slides/slide1.xml")
        ),
        "ppt/slides/slide1.xml": _slide_text("sld", "Botnet C2 at 192.0.2.66"),
        "ppt/slides/_rels/slide1.xml.rels": _relationships(
            ("rId1", f"{_OFFICE}/relationships/notesSlide", "../notesSlides/notesSlide1.xml")
        ),
        "ppt/notesSlides/notesSlide1.xml": _slide_text("notes", "Presenter: Bob Brown, Operator B"),
    }
    return _zip(members)


def odt_with_meta() -> bytes:
    """An .odt whose meta.xml, settings.xml and thumbnail identify its authors."""
    odf = "urn:oasis:names:tc:opendocument:xmlns"
    office = f'xmlns:office="{odf}:office:1.0" office:version="1.3"'
    entries = [
        ("/", "application/vnd.oasis.opendocument.text"),
        ("content.xml", "text/xml"),
        ("meta.xml", "text/xml"),
        ("settings.xml", "text/xml"),
        ("Thumbnails/thumbnail.png", "image/png"),
    ]
    members: dict[str, str | bytes] = {
        "mimetype": "application/vnd.oasis.opendocument.text",
        "META-INF/manifest.xml": (
            f'{_XML}<manifest:manifest xmlns:manifest="{odf}:manifest:1.0" manifest:version="1.3">'
            + "".join(
                f'<manifest:file-entry manifest:full-path="{path}" manifest:media-type="{ct}"/>'
                for path, ct in entries
            )
            + "</manifest:manifest>"
        ),
        "content.xml": (
            f'{_XML}<office:document-content {office} xmlns:text="{odf}:text:1.0">'
            "<office:body><office:text><text:p>Phishing wave with invoice lures from"
            " evil-invoice.example</text:p></office:text></office:body></office:document-content>"
        ),
        "meta.xml": (
            f'{_XML}<office:document-meta {office} xmlns:meta="{odf}:meta:1.0" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/"><office:meta>'
            "<meta:initial-creator>Alice Müller</meta:initial-creator>"
            "<dc:creator>Giulia Rossi</dc:creator>"
            "<meta:generator>LibreOffice/7.6 (Operator A GmbH build)</meta:generator>"
            "<meta:editing-cycles>7</meta:editing-cycles></office:meta></office:document-meta>"
        ),
        "settings.xml": (
            f'{_XML}<office:document-settings {office} xmlns:config="{odf}:config:1.0">'
            '<office:settings><config:config-item-set config:name="ooo:configuration-settings">'
            '<config:config-item config:name="PrinterName" config:type="string">'
            "Operatore E Roma piano 3</config:config-item></config:config-item-set>"
            "</office:settings></office:document-settings>"
        ),
        "Thumbnails/thumbnail.png": png_plain(),
    }
    return _zip(members, first_stored="mimetype")


# --- images ------------------------------------------------------------------


def jpeg_plain(size: tuple[int, int] = (32, 24)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(out, "JPEG")
    return out.getvalue()


def png_plain(size: tuple[int, int] = (16, 16)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, "PNG")
    return out.getvalue()


def jpeg_with_exif() -> bytes:
    """A 60×40 photo tagged "rotate 90°" (Orientation 6), naming Alice everywhere EXIF can."""
    image = Image.new("RGB", (60, 40), (30, 160, 60))
    for x in range(30):
        image.putpixel((x, 0), (255, 255, 255))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: the camera was turned
    exif[0x013B] = "Alice Mueller"  # Artist
    exif[0x8298] = "Operator A GmbH"  # Copyright
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0131] = "Operator A photo tool"  # Software
    exif_ifd = exif.get_ifd(0x8769)
    exif_ifd[0xA431] = "SN-4711-0815"  # BodySerialNumber
    exif_ifd[0x9011] = "+02:00"  # OffsetTimeOriginal
    exif_ifd[0x9003] = "2024:09:03 10:01:07"  # DateTimeOriginal
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (52.0, 31.0, 12.0)
    gps[3] = "E"
    gps[4] = (13.0, 24.0, 36.0)
    xmp = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/">'
        b"<dc:creator>Alice M\xc3\xbcller"
        b"</dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, xmp=xmp, comment=b"Giulia Rossi")
    return out.getvalue()


def png_screenshot_with_text_chunks() -> bytes:
    """An 800×500 screenshot-like PNG with tEXt Author and an XMP iTXt chunk."""
    image = Image.new("RGB", (800, 500), (240, 240, 240))
    for y in range(0, 30):
        for x in range(800):
            image.putpixel((x, y), (0, 90, 170))
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Alice Müller")
    info.add_text("Software", "Greenshot for Operator A")
    info.add_itxt(
        "XML:com.adobe.xmp",
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><dc:creator>Jürgen Müller</dc:creator></x:xmpmeta>',
    )
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info)
    return out.getvalue()


# --- S/MIME ------------------------------------------------------------------


@functools.cache
def alice_certificate() -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "Alice Müller"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Operator A GmbH"),
            x509.NameAttribute(NameOID.EMAIL_ADDRESS, "alice@operator-a.example"),
        ]
    )
    now = datetime(2024, 1, 1, tzinfo=UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(0x5A17CE)
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(
            x509.SubjectAlternativeName([x509.RFC822Name("alice@operator-a.example")]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    return certificate, key


def certificate_der() -> bytes:
    return alice_certificate()[0].public_bytes(serialization.Encoding.DER)


_INNER = (
    b'Content-Type: text/plain; charset="utf-8"\r\n'
    b"Content-Transfer-Encoding: 8bit\r\n\r\n"
    b"IOC update: C2 moved to 192.0.2.77 on 2024-09-03.\r\n"
)


def _with_post_headers(mime_entity: bytes) -> EmailMessage:
    head = (
        b"From: " + ALICE_FROM.encode() + b"\r\n"
        b"To: ciso@lists.example\r\n"
        b"Subject: Signed IOC update\r\n"
        b"Date: Tue, 3 Sep 2024 10:01:07 +0200\r\n"
        b"Message-ID: <smime1@mail.operator-a.example>\r\n"
    )
    return raw_message(head + mime_entity)


def smime_detached_signed() -> EmailMessage:
    certificate, key = alice_certificate()
    signed = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(_INNER)
        .add_signer(certificate, key, hashes.SHA256())
        .sign(serialization.Encoding.SMIME, [pkcs7.PKCS7Options.DetachedSignature])
    )
    return _with_post_headers(signed)


def smime_opaque_signed() -> EmailMessage:
    certificate, key = alice_certificate()
    der = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(_INNER)
        .add_signer(certificate, key, hashes.SHA256())
        .sign(serialization.Encoding.DER, [])
    )
    encoded = base64.encodebytes(der)
    entity = (
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: application/pkcs7-mime; smime-type=signed-data; name="smime.p7m"\r\n'
        b'Content-Disposition: attachment; filename="smime.p7m"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + encoded
    )
    return _with_post_headers(entity)


def smime_enveloped() -> EmailMessage:
    certificate, _ = alice_certificate()
    encrypted = (
        pkcs7.PKCS7EnvelopeBuilder()
        .set_data(_INNER)
        .add_recipient(certificate)
        .encrypt(serialization.Encoding.SMIME, [])
    )
    return _with_post_headers(encrypted)
