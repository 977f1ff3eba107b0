"""Images re-encoded from their pixels (CHATHAM_HOUSE.md section 6, cases 39 and 40)."""

from __future__ import annotations

import io
import time

import pytest
from PIL import Image

from filters.attachments import CleanedAttachment, clean_attachment
from filters.flags import FlagKind
from tests.filters.test_attachments_samples import (
    camera_jpeg,
    commented_gif,
    leaks,
    matcher,
    png_chunk_types,
    png_header_only,
    screenshot_png,
    tagged_webp,
)

JPEG_METADATA_MARKERS = {0xE1, 0xE2, 0xED, 0xFE}  # APP1 EXIF/XMP, APP2 ICC, APP13 IPTC, COM


def clean(data: bytes, declared: str) -> CleanedAttachment:
    return clean_attachment(data, declared, matcher(), where="attachment-1")


def jpeg_markers(data: bytes) -> set[int]:
    markers, position = set(), 2
    while position + 4 <= len(data) and data[position] == 0xFF:
        marker = data[position + 1]
        markers.add(marker)
        if marker == 0xDA:
            break
        position += 2 + int.from_bytes(data[position + 2 : position + 4], "big")
    return markers


def test_camera_jpeg_loses_all_metadata_and_keeps_its_orientation() -> None:
    """Case 39: Artist, BodySerialNumber, GPS, OffsetTimeOriginal, XMP, IPTC, thumbnail."""
    result = clean(camera_jpeg(), "image/jpeg")
    assert result.data is not None
    assert (result.content_type, result.extension) == ("image/jpeg", "jpg")
    assert not leaks(result.data)
    assert not jpeg_markers(result.data) & JPEG_METADATA_MARKERS
    for needle in (b"Exif", b"SN-AMUELLER", b"+02:00", b"http://ns.adobe.com", b"Photoshop"):
        assert needle not in result.data
    assert result.data.count(b"\xff\xd8") == 1  # the EXIF thumbnail (a second JPEG) is gone
    with Image.open(io.BytesIO(result.data)) as image:
        assert image.size == (48, 64)  # orientation 6 applied to the pixels
        assert not image.getexif()
        assert set(image.info) <= {"jfif", "jfif_version", "jfif_unit", "jfif_density", "dpi"}
        # The yellow top-left corner of the stored picture is now at the top right.
        red, green, blue = image.convert("RGB").getpixel((44, 3))
        assert red > 200
        assert green > 200
        assert blue < 80


def test_screenshot_png_loses_text_chunks_and_is_flagged() -> None:
    """Case 40: tEXt Author, iTXt XMP, zTXt, eXIf gone; flagged as a screenshot."""
    result = clean(screenshot_png(), "image/png")
    assert result.data is not None
    assert not leaks(result.data)
    assert set(png_chunk_types(result.data)) <= {b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND"}
    assert [flag.kind for flag in result.flags] == [FlagKind.SCREENSHOT]
    assert b"Greenshot" not in result.data
    with (
        Image.open(io.BytesIO(result.data)) as image,
        Image.open(io.BytesIO(screenshot_png())) as original,
    ):
        assert image.size == original.size
        assert image.convert("RGB").tobytes() == original.convert("RGB").tobytes()


def test_palette_png_keeps_its_transparency() -> None:
    image = Image.new("P", (10, 10), 1)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    out = io.BytesIO()
    image.save(out, "PNG", transparency=1)
    result = clean(out.getvalue(), "image/png")
    assert result.data is not None
    with Image.open(io.BytesIO(result.data)) as cleaned:
        assert cleaned.info.get("transparency") == 1


def test_gif_comment_is_gone_and_first_frame_kept() -> None:
    result = clean(commented_gif(), "image/gif")
    assert result.data is not None
    assert not leaks(result.data)
    assert b"Muller" not in result.data
    with Image.open(io.BytesIO(result.data)) as image:
        assert getattr(image, "n_frames", 1) == 1
        assert "comment" not in image.info
        assert image.size == (24, 16)


def test_webp_exif_and_xmp_are_gone_and_orientation_applied() -> None:
    result = clean(tagged_webp(), "image/webp")
    assert result.data is not None
    assert not leaks(result.data)
    assert b"EXIF" not in result.data
    assert b"XMP " not in result.data
    with Image.open(io.BytesIO(result.data)) as image:
        assert image.size == (30, 40)


def cmyk_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("CMYK", (20, 10), (0, 120, 255, 10)).save(out, "JPEG", comment=b"Bob Brown")
    return out.getvalue()


@pytest.mark.parametrize(
    ("sample", "declared"),
    [
        (camera_jpeg, "image/jpeg"),
        (cmyk_jpeg, "image/jpeg"),
        (screenshot_png, "image/png"),
        (commented_gif, "image/gif"),
        (tagged_webp, "image/webp"),
    ],
)
def test_cleaning_an_image_twice_gives_the_same_bytes(sample: object, declared: str) -> None:
    assert callable(sample)
    first = clean(sample(), declared)
    assert first.data is not None
    assert not leaks(first.data)
    second = clean(first.data, declared)
    assert second.data == first.data
    assert second.flags == first.flags


def test_jpeg_with_bytes_appended_after_the_image_is_re_encoded() -> None:
    first = clean(camera_jpeg(), "image/jpeg").data
    assert first is not None
    result = clean(first + b"Alice Muller was here", "image/jpeg")
    assert result.data is not None
    assert not leaks(result.data)
    assert result.data.endswith(b"\xff\xd9")


def test_screen_sized_jpeg_is_flagged_as_a_possible_screenshot() -> None:
    out = io.BytesIO()
    Image.new("RGB", (1920, 1080), (255, 255, 255)).save(out, "JPEG")
    result = clean(out.getvalue(), "image/jpeg")
    assert [flag.kind for flag in result.flags] == [FlagKind.SCREENSHOT]


@pytest.mark.parametrize(("width", "height"), [(100_000, 100_000), (8000, 7000)])
def test_decompression_bomb_png_is_refused_quickly(width: int, height: int) -> None:
    data = png_header_only(width, height)
    assert len(data) < 10_000
    started = time.monotonic()
    result = clean(data, "image/png")
    assert time.monotonic() - started < 2
    assert result.data is None
    assert result.placeholder == "[attachment-1 removed from the archive: too large]"
    assert [flag.kind for flag in result.flags] == [FlagKind.ATTACHMENT_DROPPED]


def test_image_whose_bytes_contradict_its_format_is_left_out() -> None:
    # PNG signature, then a JPEG: Pillow reads a JPEG, the signature said PNG.
    data = b"\x89PNG\r\n\x1a\n" + camera_jpeg()
    result = clean(data, "image/png")
    assert result.data is None
    assert [flag.kind for flag in result.flags] == [FlagKind.ATTACHMENT_DROPPED]
