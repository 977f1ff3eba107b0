"""JPEG marker segments (ITU-T T.81 Annex B), for lossless metadata stripping.

PDF image XObjects embed whole JPEG files (`/DCTDecode`), EXIF and XMP
included; re-encoding them would cost quality and change the page, so their
metadata segments are cut out instead. The walker follows the entropy-coded
data of every scan to the real end of image, so bytes appended after EOI (a
classic hiding place) are found and dropped too.
"""

from __future__ import annotations

from dataclasses import dataclass

SOI, EOI, SOS, COM = 0xD8, 0xD9, 0xDA, 0xFE
APP0, APP14 = 0xE0, 0xEE
_STANDALONE = {0x01, *range(0xD0, 0xD8)}  # TEM, RST0..7 carry no length
# Segments an image needs: frames (SOF0..15 except DHT, JPG, DAC), Huffman and
# arithmetic tables, quantisation tables, restart interval, number of lines,
# hierarchical progression (DHP, EXP), scans.
_ESSENTIAL = {
    *(marker for marker in range(0xC0, 0xD0) if marker not in (0xC4, 0xC8, 0xCC)),
    0xC4, 0xCC, 0xDB, 0xDD, 0xDC, 0xDE, 0xDF, SOS, SOI, EOI, *_STANDALONE,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class JpegLayout:
    segments: list[tuple[int, bytes]]  # (marker, the bytes of the segment, scan data included)
    end: int  # offset just after EOI; less than the file length if bytes were appended


def split_jpeg(data: bytes) -> JpegLayout | None:
    """The segments of `data` up to its EOI, or None if it is not a well-formed JPEG."""
    if not data.startswith(b"\xff\xd8"):
        return None
    segments: list[tuple[int, bytes]] = [(SOI, data[:2])]
    position = 2
    while position < len(data):
        if data[position] != 0xFF:
            return None
        while position + 1 < len(data) and data[position + 1] == 0xFF:
            position += 1  # fill bytes before a marker (B.1.1.2)
        if position + 1 >= len(data):
            return None
        marker = data[position + 1]
        if marker == EOI:
            segments.append((EOI, b"\xff\xd9"))
            return JpegLayout(segments, position + 2)
        if marker in _STANDALONE:
            segments.append((marker, data[position : position + 2]))
            position += 2
            continue
        if position + 4 > len(data):
            return None
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        end = position + 2 + length
        if length < 2 or end > len(data):
            return None
        if marker == SOS:
            end = _end_of_scan(data, end)
        segments.append((marker, data[position:end]))
        position = end
    return None  # no EOI


def _end_of_scan(data: bytes, start: int) -> int:
    """Offset of the first marker after entropy-coded data (skipping 0xFF00 and RSTn)."""
    index = data.find(b"\xff", start)
    while index != -1 and index + 1 < len(data):
        following = data[index + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7:
            index = data.find(b"\xff", index + 2)
        elif following == 0xFF:
            index += 1
        else:
            return index
    return len(data)


def is_plain_jfif(segment: bytes) -> bool:
    """An APP0 JFIF segment without a thumbnail (JFIF 1.02: 16 bytes with marker)."""
    return len(segment) == 18 and segment[4:9] == b"JFIF\x00" and segment[16:18] == b"\x00\x00"


def is_adobe(segment: bytes) -> bool:
    """APP14 "Adobe": colour transform flags that CMYK and YCCK images need."""
    return segment[4:9] == b"Adobe"


def strip_jpeg_metadata(data: bytes) -> bytes | None:
    """`data` with only the segments needed to decode it; None if not a JPEG.

    Drops APP1..APP15 (EXIF, XMP, ICC, IPTC, MPF, Photoshop, Ducky) except an
    Adobe APP14, comments, JFIF thumbnails, extension markers and anything
    after EOI.
    """
    layout = split_jpeg(data)
    if layout is None:
        return None
    kept = []
    for marker, segment in layout.segments:
        if (
            marker in _ESSENTIAL
            or (marker == APP14 and is_adobe(segment))
            or (marker == APP0 and is_plain_jfif(segment))
        ):
            kept.append(segment)
    return b"".join(kept)
