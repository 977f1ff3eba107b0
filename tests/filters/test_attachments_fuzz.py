"""clean_attachment never raises, and what it keeps never names a member (hypothesis).

Random bytes under every declared type, and identity-laden samples with bytes
flipped, inserted or cut off: the result is either cleaned bytes in which the
oracle finds no registry term, or "left out" with exactly one flag and a
placeholder line.
"""

from __future__ import annotations

from functools import cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from filters.attachments import CleanedAttachment, clean_attachment
from filters.flags import FlagKind
from tests.filters.test_attachments_samples import (
    build_zip,
    camera_jpeg,
    commented_gif,
    identity_docx,
    identity_odt,
    identity_pdf,
    identity_pptx,
    identity_xlsx,
    incrementally_updated_pdf,
    leaks,
    matcher,
    screenshot_png,
    tagged_webp,
    zip_members,
)

DECLARED_TYPES = [
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.oasis.opendocument.text",
    "application/zip",
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "image/heic",
    "image/svg+xml",
    "text/plain",
    "text/csv",
    "text/vcard",
    "text/calendar",
    "application/ms-tnef",
    "application/pgp-keys",
    "application/pkcs7-mime; smime-type=enveloped-data",
    "application/octet-stream",
    "",
    "garbage/ \x00 ;;",
]
SAMPLES = {
    "pdf": identity_pdf,
    "incremental-pdf": incrementally_updated_pdf,
    "docx": identity_docx,
    "xlsx": identity_xlsx,
    "pptx": identity_pptx,
    "odt": identity_odt,
    "jpeg": camera_jpeg,
    "png": screenshot_png,
    "gif": commented_gif,
    "webp": tagged_webp,
}
LEFT_OUT_KINDS = {FlagKind.ATTACHMENT_DROPPED, FlagKind.ATTACHMENT_CONTENT_HIT}


@cache
def sample(name: str) -> bytes:
    return SAMPLES[name]()


def assert_well_formed(result: CleanedAttachment) -> None:
    assert result.extension.isalnum()
    assert "/" in result.content_type
    if result.data is None:
        assert result.placeholder is not None
        assert result.placeholder.startswith("[attachment-9 removed from the archive: ")
        assert len(result.flags) == 1
        assert result.flags[0].kind in LEFT_OUT_KINDS
    else:
        assert result.placeholder is None
        assert all(flag.kind is FlagKind.SCREENSHOT for flag in result.flags)
        assert not leaks(result.data)


@settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(data=st.binary(max_size=2048), declared=st.sampled_from(DECLARED_TYPES))
def test_random_bytes_never_raise(data: bytes, declared: str) -> None:
    assert_well_formed(clean_attachment(data, declared, matcher(), where="attachment-9"))


@st.composite
def mutated_samples(draw: st.DrawFn) -> bytes:
    data = bytearray(sample(draw(st.sampled_from(sorted(SAMPLES)))))
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        operation = draw(st.sampled_from(["flip", "insert", "truncate", "delete"]))
        position = draw(st.integers(min_value=0, max_value=len(data)))
        if operation == "flip" and position < len(data):
            data[position] = draw(st.integers(min_value=0, max_value=255))
        elif operation == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=16))
        elif operation == "truncate" and position > 8:
            del data[position:]
        elif operation == "delete":
            del data[position : position + draw(st.integers(min_value=1, max_value=64))]
    return bytes(data)


@settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(data=mutated_samples(), declared=st.sampled_from(DECLARED_TYPES))
def test_mutated_documents_never_raise_and_never_leak(data: bytes, declared: str) -> None:
    assert_well_formed(clean_attachment(data, declared, matcher(), where="attachment-9"))


PACKAGES = ["docx", "xlsx", "pptx", "odt"]
INSERTIONS = [
    b"<x/>",
    b" Alice ",
    b"Alice",
    b"\xc3\xbc",
    b"</a>",
    b" Operator A ",
    b"&amp;",
    b"\x00",
]


@st.composite
def mutated_packages(draw: st.DrawFn) -> bytes:
    """A zip package whose members (not the zip structure) were damaged or edited."""
    members = zip_members(sample(draw(st.sampled_from(PACKAGES))))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        name = draw(st.sampled_from(sorted(members)))
        content = bytearray(members[name])
        operation = draw(st.sampled_from(["drop", "insert", "delete", "flip"]))
        position = draw(st.integers(min_value=0, max_value=len(content)))
        if operation == "drop":
            del members[name]
            continue
        if operation == "insert":
            content[position:position] = draw(st.sampled_from(INSERTIONS) | st.binary(max_size=8))
        elif operation == "delete":
            del content[position : position + draw(st.integers(min_value=1, max_value=16))]
        elif position < len(content):
            content[position] = draw(st.integers(min_value=0, max_value=255))
        members[name] = bytes(content)
    return build_zip(members)


@settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(data=mutated_packages())
def test_edited_office_packages_never_raise_and_never_leak(data: bytes) -> None:
    assert_well_formed(clean_attachment(data, "", matcher(), where="attachment-9"))


@settings(max_examples=40, deadline=None, database=None)
@given(name=st.sampled_from(sorted(SAMPLES)), declared=st.sampled_from(DECLARED_TYPES))
def test_declared_type_never_makes_a_sample_leak(name: str, declared: str) -> None:
    assert_well_formed(clean_attachment(sample(name), declared, matcher(), where="attachment-9"))
