"""A deterministic mixed corpus of posts, as members of a security list write them.

Six kinds, in turn: plain text, HTML with a plain alternative, replies
quoting an earlier post with its attribution line, and posts carrying a PDF
report, a DOCX document or a JPEG photo. Every post is signed with the
poster's name, organisation and phone number, and many name other members,
so the de-attribution has real work to do. Attachments carry their author
in their metadata (PDF DocInfo, DOCX core properties, JPEG EXIF).

Built with the `email` package, pikepdf, zipfile and Pillow from fixed seeds.
"""

from __future__ import annotations

import io
import random
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from xml.sax.saxutils import escape

import pikepdf
from PIL import Image

from bench.population import Person, Prose

KINDS = ("plain", "html", "reply", "pdf", "docx", "jpeg")
LIST_ADDRESS = "ciso@lists.example"


@dataclass(frozen=True, slots=True)
class Sample:
    kind: str
    author: Person
    raw: bytes


def _signature(person: Person, rng: random.Random) -> str:
    phone = f"+{rng.randint(30, 49)} {rng.randint(10, 99)} {rng.randint(1000000, 9999999)}"
    return f"-- \n{person.name}\n{person.organisation}\n{phone}\n{person.email}\n"


def _mention(prose: Prose, others: list[Person]) -> str:
    other = prose.rng.choice(others)
    return (
        f"{other.name} from {other.organisation} confirmed the same {prose.sentence(3, 6)[:-1]}"
        f" (contact {other.email})."
    )


def _message(author: Person, subject: str, when: datetime, msgid: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"{author.name} <{author.email}>"
    message["To"] = LIST_ADDRESS
    message["Subject"] = subject
    message["Date"] = format_datetime(when)
    message["Message-ID"] = msgid
    message["X-Mailer"] = f"{author.organisation} Mail Gateway"
    return message


def _pdf_string(text: str) -> str:
    """`text` as the inside of a PDF literal string (ISO 32000-1 §7.3.4.2)."""
    latin = text.encode("latin-1", "replace").decode("latin-1")
    return latin.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def pdf_report(author: Person, prose: Prose, pages: int = 3) -> bytes:
    pdf = pikepdf.new()
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
        )
    )
    for page_number in range(pages):
        lines = [f"Incident report page {page_number + 1} by {author.name}, {author.organisation}"]
        lines += [prose.sentence(8, 12) for _ in range(30)]
        shown = " ".join(f"({_pdf_string(line)}) '" for line in lines)
        text = f"BT /F1 10 Tf 50 780 Td 12 TL {shown} ET"
        page = pikepdf.Page(
            pdf.make_indirect(
                pikepdf.Dictionary(
                    Type=pikepdf.Name.Page,
                    MediaBox=[0, 0, 595, 842],
                    Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font)),
                    Contents=pdf.make_stream(text.encode("latin-1", "replace")),
                )
            )
        )
        pdf.pages.append(page)
    pdf.docinfo["/Author"] = author.name
    pdf.docinfo["/Creator"] = f"{author.organisation} reporting"
    pdf.docinfo["/Title"] = "Incident report"
    out = io.BytesIO()
    pdf.save(out, deterministic_id=True)
    return out.getvalue()


W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def docx_document(author: Person, prose: Prose, paragraphs: int = 12) -> bytes:
    body = "".join(
        f'<w:p><w:r><w:t xml:space="preserve">{escape(prose.paragraph(3))}</w:t></w:r></w:p>'
        for _ in range(paragraphs)
    )
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
            '<Override PartName="/docProps/core.xml" ContentType="application/vnd.'
            'openxmlformats-package.core-properties+xml"/>'
            '<Override PartName="/docProps/app.xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.extended-properties+xml"/></Types>'
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="word/document.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/'
            'relationships/metadata/core-properties" Target="docProps/core.xml"/>'
            '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/extended-properties" Target="docProps/app.xml"/></Relationships>'
        ),
        "word/document.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            f'<w:document xmlns:w="{W_NS}"><w:body>{body}'
            f"<w:p><w:r><w:t>{escape(author.name)}, {escape(author.organisation)}</w:t></w:r></w:p>"
            "</w:body></w:document>"
        ),
        "docProps/core.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
            'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f"<dc:title>Incident notes</dc:title><dc:creator>{escape(author.name)}</dc:creator>"
            f"<cp:lastModifiedBy>{escape(author.name)}</cp:lastModifiedBy>"
            '<dcterms:created xsi:type="dcterms:W3CDTF">2024-09-03T08:00:00Z</dcterms:created>'
            "</cp:coreProperties>"
        ),
        "docProps/app.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
            f'extended-properties"><Company>{escape(author.organisation)}</Company>'
            "<Application>Microsoft Office Word</Application></Properties>"
        ),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 9, 3, 8, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text.encode())
    return out.getvalue()


def jpeg_photo(author: Person, rng: random.Random, size: tuple[int, int] = (800, 600)) -> bytes:
    width, height = size
    # A gradient with noise: compresses like a photo, not like a flat colour.
    noise = rng.randbytes(width * height)
    image = Image.frombytes("L", size, noise).convert("RGB")
    gradient = Image.linear_gradient("L").resize(size).convert("RGB")
    image = Image.blend(image, gradient, 0.7)
    exif = Image.Exif()
    exif[0x013B] = author.name  # Artist
    exif[0x8298] = f"(c) {author.organisation}"  # Copyright
    exif[0x010F] = "Phone maker"  # Make
    exif[0x0110] = "Phone 12"  # Model
    exif[0x0132] = "2024:09:03 08:00:00"  # DateTime
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, exif=exif)
    return out.getvalue()


def build_corpus(members: list[Person], count: int, *, seed: int = 51) -> list[Sample]:
    """`count` posts cycling through KINDS, written by members of `members`."""
    prose = Prose(seed)
    rng = prose.rng
    start = datetime(2024, 9, 3, 8, 0, tzinfo=UTC)
    samples: list[Sample] = []
    previous: tuple[Person, str, str, str] | None = None  # author, msgid, subject, text
    for number in range(count):
        kind = KINDS[number % len(KINDS)]
        author = rng.choice(members)
        others = [m for m in members if m is not author]
        when = start + timedelta(minutes=7 * number)
        msgid = make_msgid(idstring=f"b{number}", domain=author.domain)
        subject = prose.subject()
        text = prose.body(rng.randint(80, 400)) + "\n\n" + _mention(prose, others)
        signature = _signature(author, rng)
        if kind == "reply" and previous is not None:
            parent_author, parent_id, parent_subject, parent_text = previous
            quoted = "\n".join(f"> {line}" if line else ">" for line in parent_text.splitlines())
            attribution = (
                f"On {format_datetime(when - timedelta(minutes=5))}, "
                f"{parent_author.name} <{parent_author.email}> wrote:"
            )
            message = _message(author, f"Re: {parent_subject}", when, msgid)
            message["In-Reply-To"] = parent_id
            message["References"] = parent_id
            message.set_content(f"{text}\n\n{signature}\n{attribution}\n{quoted}\n")
        else:
            message = _message(author, subject, when, msgid)
            message.set_content(f"{text}\n\n{signature}")
            if kind == "html":
                paragraphs = "".join(f"<p>{escape(p)}</p>" for p in text.split("\n\n"))
                html_signature = "<br>".join(escape(line) for line in signature.splitlines()[1:])
                message.add_alternative(
                    f'<html><body>{paragraphs}<p style="color:#666">{html_signature}'
                    f'<br><a href="mailto:{author.email}">{escape(author.email)}</a></p>'
                    "</body></html>",
                    subtype="html",
                )
            elif kind == "pdf":
                message.add_attachment(
                    pdf_report(author, prose),
                    maintype="application",
                    subtype="pdf",
                    filename=f"report-{author.organisation.split()[0].lower()}.pdf",
                )
            elif kind == "docx":
                message.add_attachment(
                    docx_document(author, prose),
                    maintype="application",
                    subtype="vnd.openxmlformats-officedocument.wordprocessingml.document",
                    filename="notes.docx",
                )
            elif kind == "jpeg":
                message.add_attachment(
                    jpeg_photo(author, rng),
                    maintype="image",
                    subtype="jpeg",
                    filename="IMG_2024.jpg",
                )
        samples.append(Sample(kind, author, message.as_bytes()))
        previous = (author, msgid, subject, text)
    return samples
