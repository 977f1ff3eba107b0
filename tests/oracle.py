"""The de-attribution oracle (CHATHAM_HOUSE.md decision 8), independent of filters/.

"After normalisation (decoding, case-folding, diacritics folded, German
variants), no registry term appears in any archived byte, index entry, export
or attachment." This module is deliberately written without the matcher under
test, so a bug there cannot hide itself here.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage

from anyascii import anyascii

from filters.identities import Identity, Registry

_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f"
    "\u202a-\u202e\u2060-\u206f\ufeff]"
)
_SPACE = re.compile(r"\s+")
_GERMAN = {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"}


def fold(text: str) -> str:
    """Case-, accent-, script- and spacing-insensitive form of `text`."""
    text = _INVISIBLE.sub("", text)
    text = unicodedata.normalize("NFKC", text)
    text = "".join(_GERMAN.get(ch, ch) for ch in text)
    decomposed = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    text = anyascii(text).casefold()
    return _SPACE.sub(" ", text)


def _variants(term: str) -> set[str]:
    plain = unicodedata.normalize("NFKD", term)
    stripped = "".join(ch for ch in plain if not unicodedata.combining(ch))
    return {fold(term), fold(stripped)}


def registry_terms(registry: Registry, *, min_length: int = 4) -> set[str]:
    """The folded strings that must never be archived.

    Full names, each name part of `min_length` letters or more (surnames, and
    first names long enough not to be ordinary words), addresses and their
    local parts, organisation names, organisation domains with their leading
    label, and aliases.
    """
    terms: set[str] = set()
    for identity in registry.identities:
        terms |= identity_terms(identity, min_length=min_length)
    return {t for t in terms if t.strip()}


def identity_terms(identity: Identity, *, min_length: int = 4) -> set[str]:
    terms: set[str] = set()
    for name in identity.names:
        terms |= _variants(name)
        for part in re.split(r"[\s,.]+", name):
            if len(part) >= min_length:
                terms |= _variants(part)
    for address in identity.addresses:
        terms |= _variants(address)
        local = address.split("@", 1)[0]
        if len(local) >= min_length:
            terms |= _variants(local)
    if identity.organisation:
        terms |= _variants(identity.organisation)
    for domain in identity.org_domains:
        terms |= _variants(domain)
        label = domain.split(".", 1)[0]
        if len(label) >= min_length:
            terms |= _variants(label)
    for alias in identity.aliases:
        if len(alias) >= min_length:
            terms |= _variants(alias)
    return terms


def leaked_terms(texts: Iterable[str], terms: set[str]) -> set[str]:
    """Which terms appear in any of `texts`, as whole words."""
    leaked: set[str] = set()
    for text in texts:
        folded = fold(text)
        for term in terms:
            if re.search(rf"(?<![0-9a-z]){re.escape(term)}(?![0-9a-z])", folded):
                leaked.add(term)
    return leaked


def texts_of_message(data: bytes) -> Iterator[str]:
    """Every text a reader or a tool could get out of an archived message.

    Raw bytes, decoded headers, decoded parts, and the insides of attachments
    (zip members, PDF objects, image text chunks).
    """
    yield data.decode("latin-1")
    yield data.decode("utf-8", "replace")
    message = message_from_bytes(data, policy=policy.default)
    assert isinstance(message, EmailMessage)
    yield from _texts_of_part(message)


def _texts_of_part(part: EmailMessage) -> Iterator[str]:
    for name, value in part.items():
        yield f"{name}: {value}"
    for param_value in (part.get_filename(), part.get_param("name")):
        if isinstance(param_value, str):
            yield param_value
    if part.is_multipart():
        for child in part.iter_parts():
            yield from _texts_of_part(child)  # type: ignore[arg-type]
        return
    if part.get_content_type() == "message/rfc822":
        for child in part.iter_parts():
            yield from _texts_of_part(child)  # type: ignore[arg-type]
        return
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return
    yield from texts_of_bytes(payload)
    if part.get_content_maintype() == "text":
        charset = part.get_content_charset() or "utf-8"
        try:
            yield payload.decode(charset, "replace")
        except LookupError:
            yield payload.decode("utf-8", "replace")


def texts_of_bytes(data: bytes) -> Iterator[str]:
    """Readable strings inside a file: itself, zip members, PDF objects, image chunks."""
    yield data.decode("latin-1")
    yield data.decode("utf-8", "replace")
    yield data.decode("utf-16-le", "replace")
    yield data.decode("utf-16-be", "replace")
    if data[:4] == b"PK\x03\x04":
        yield from _texts_of_zip(data)
    elif data[:5] == b"%PDF-":
        yield from _texts_of_pdf(data)
    elif data[:8] == b"\x89PNG\r\n\x1a\n" or data[:3] == b"\xff\xd8\xff" or data[:4] == b"GIF8":
        yield from _texts_of_image(data)


def _texts_of_zip(data: bytes) -> Iterator[str]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return
    with archive:
        for info in archive.infolist():
            yield info.filename
            yield info.comment.decode("utf-8", "replace")
            inner = archive.read(info)
            yield from texts_of_bytes(inner)
            # XML text split by tags ("Mül</w:t><w:t>ler") still names someone.
            yield re.sub(rb"<[^>]*>", b"", inner).decode("utf-8", "replace")


def _texts_of_pdf(data: bytes) -> Iterator[str]:
    import pikepdf

    try:
        pdf = pikepdf.open(io.BytesIO(data))
    except pikepdf.PdfError:
        return
    with pdf:
        yield str(pdf.trailer)
        for obj in pdf.objects:
            yield str(obj)
            if isinstance(obj, pikepdf.Stream):
                try:
                    yield from texts_of_bytes(obj.read_bytes())
                except pikepdf.PdfError:
                    yield obj.read_raw_bytes().decode("latin-1")
            elif isinstance(obj, pikepdf.Dictionary):
                for value in obj.values():
                    if isinstance(value, pikepdf.String):
                        yield str(value)
        try:
            from pypdf import PdfReader

            for page in PdfReader(io.BytesIO(data)).pages:
                yield page.extract_text() or ""
        except Exception:  # an oracle reads what it can; pikepdf covered the objects
            return


def _texts_of_image(data: bytes) -> Iterator[str]:
    from PIL import Image

    try:
        image = Image.open(io.BytesIO(data))
    except OSError:
        return
    with image:
        for key, value in image.info.items():
            yield f"{key}={value!r}"
            if isinstance(value, bytes):
                yield value.decode("latin-1")
        exif = image.getexif()
        for tag, value in exif.items():
            yield f"{tag}={value!r}"
        for ifd in exif.get_ifd(0x8769), exif.get_ifd(0x8825):
            for tag, value in ifd.items():
                yield f"{tag}={value!r}"


def assert_nothing_leaked(data: bytes, registry: Registry, *, min_length: int = 4) -> None:
    terms = registry_terms(registry, min_length=min_length)
    leaked = leaked_terms(texts_of_message(data), terms)
    assert not leaked, f"registry terms in the archive form: {sorted(leaked)}"


def assert_text_clean(texts: Iterable[str], registry: Registry, *, min_length: int = 4) -> None:
    leaked = leaked_terms(texts, registry_terms(registry, min_length=min_length))
    assert not leaked, f"registry terms in the text: {sorted(leaked)}"
