"""Images re-encoded from their pixels only (CHATHAM_HOUSE.md §2.3).

EXIF (Artist, BodySerialNumber, the GPS IFD, OffsetTimeOriginal, the embedded
thumbnail that may show the uncropped original), XMP, IPTC, ICC profiles, JPEG
comments, PNG tEXt/iTXt/zTXt/eXIf chunks and GIF comments all live outside the
pixels, so decoding and encoding the pixels again drops every one of them,
including kinds nobody has listed. Re-encoding JPEG also replaces the camera's
or editor's quantisation tables, which fingerprint the device.

- The EXIF orientation is applied to the pixels first, so the picture still
  stands the right way up without its EXIF.
- Wide-gamut pictures are converted to sRGB before the ICC profile goes (the
  profile itself can name a calibrated display).
- Animated GIF and WebP keep their first frame only.
- The pixel count is checked from the header, before any pixel is decoded.

Our own output is a fixed point: a JPEG made by this module at quality 90 is
recognised by its quantisation tables and passed through, so cleaning twice
gives the same bytes (CHATHAM_HOUSE.md decision 8). PNG, GIF and lossless
WebP encodings are deterministic, so they come out identical anyway.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from functools import cache

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from filters.attachments.detect import FileKind
from filters.attachments.jpeg_segments import APP0, APP14, EOI, SOI, SOS, split_jpeg
from filters.attachments.limits import MAX_IMAGE_PIXELS
from filters.attachments.outcome import CleanedFile, Reason, Refused
from filters.flags import Flag, FlagKind

JPEG_QUALITY = 90

_PILLOW_FORMATS = {
    FileKind.JPEG: {"JPEG", "MPO"},
    FileKind.PNG: {"PNG"},
    FileKind.GIF: {"GIF"},
    FileKind.WEBP: {"WEBP"},
}

# Software that writes screenshots and names itself in a PNG tEXt chunk, an
# EXIF Software tag or an XMP packet (macOS writes "Screenshot" into XMP).
_SCREENSHOT_TOOLS = (
    "screenshot", "screen shot", "bildschirmfoto", "capture d", "captura de pantalla",
    "greenshot", "snagit", "sharex", "lightshot", "flameshot", "spectacle", "shutter",
    "snipping tool", "snip & sketch", "skitch", "ksnapshot", "gnome-screenshot",
    "xfce4-screenshooter",
)  # fmt: skip
# Common display and phone screen sizes (either orientation).
_SCREEN_SIZES = {
    (1024, 768), (1280, 720), (1280, 800), (1280, 1024), (1366, 768), (1440, 900),
    (1536, 864), (1600, 900), (1680, 1050), (1920, 1080), (1920, 1200), (2048, 1152),
    (2560, 1080), (2560, 1440), (2560, 1600), (2880, 1800), (3024, 1964), (3456, 2234),
    (3440, 1440), (3840, 2160), (5120, 2880), (750, 1334), (828, 1792), (1080, 1920),
    (1080, 2340), (1080, 2400), (1125, 2436), (1170, 2532), (1179, 2556), (1242, 2688),
    (1284, 2778), (1290, 2796), (1440, 3200), (2048, 2732), (1668, 2388), (1620, 2160),
}  # fmt: skip

SCREENSHOT_DETAIL = "image may be a screenshot: check it for names, window titles and logos"


def clean_image(data: bytes, kind: FileKind) -> CleanedFile:
    """Re-encode `data` (of detected `kind`) from its pixels, in the same format."""
    with warnings.catch_warnings():
        # A picture past Pillow's bomb threshold is refused, not merely warned about;
        # other warnings report oddities of the metadata we are about to drop.
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
        except Image.DecompressionBombError as error:
            raise Refused(Reason.TOO_LARGE, "image dimensions") from error
        except (UnidentifiedImageError, Image.DecompressionBombWarning) as error:
            raise Refused(Reason.FAILED, "unreadable image") from error
        with image:
            try:
                return _clean_open_image(data, image, kind)
            except Refused:
                raise
            except Exception as error:  # truncated or corrupt pixel data, odd modes
                raise Refused(Reason.FAILED, "unreadable image") from error


def _clean_open_image(data: bytes, image: Image.Image, kind: FileKind) -> CleanedFile:
    if image.format not in _PILLOW_FORMATS[kind]:
        raise Refused(Reason.FAILED, "image format does not match its signature")
    width, height = image.size
    if width <= 0 or height <= 0 or width * height > MAX_IMAGE_PIXELS:
        raise Refused(Reason.TOO_LARGE, "image dimensions")
    screenshot = _looks_like_screenshot(image, kind)
    if kind is FileKind.JPEG and _is_our_jpeg(data, image):
        return CleanedFile(data=data, flags=_screenshot_flags(screenshot))
    image.seek(0)  # first frame of an animation
    image.load()
    transparency = image.info.get("transparency")
    pixels = _to_srgb(_oriented(image), image.info.get("icc_profile"))
    pixels.info = {}  # the encoders copy some keys (comment, icc_profile) from info
    out = io.BytesIO()
    if kind is FileKind.JPEG:
        if pixels.mode not in ("L", "RGB", "CMYK"):
            pixels = pixels.convert("RGB")
        pixels.save(out, "JPEG", quality=JPEG_QUALITY, optimize=False, progressive=False)
    elif kind is FileKind.PNG:
        if pixels.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16"):
            pixels = pixels.convert("RGBA")  # the alpha channel now carries transparency
            transparency = None
        options = {"transparency": transparency} if transparency is not None else {}
        pixels.save(out, "PNG", optimize=False, compress_level=6, **options)
    elif kind is FileKind.GIF:
        if pixels.mode not in ("P", "L"):
            pixels = pixels.convert("P", palette=Image.Palette.ADAPTIVE)
            transparency = None
        options = {"transparency": transparency} if transparency is not None else {}
        pixels.save(out, "GIF", save_all=False, optimize=False, **options)
    else:
        if pixels.mode not in ("RGB", "RGBA"):
            pixels = pixels.convert("RGBA")
        # Lossless, so that cleaning the output again reproduces it exactly.
        pixels.save(out, "WEBP", lossless=True, quality=80, method=4, exact=False)
    return CleanedFile(data=out.getvalue(), flags=_screenshot_flags(screenshot))


def _oriented(image: Image.Image) -> Image.Image:
    """The pixels turned as the EXIF Orientation tag says they should be shown."""
    try:
        transposed = ImageOps.exif_transpose(image)
    except (ValueError, TypeError, KeyError, SyntaxError, OSError):
        return image  # unreadable EXIF: keep the pixels as stored
    return transposed if transposed is not None else image


def _to_srgb(image: Image.Image, icc_profile: object) -> Image.Image:
    if not isinstance(icc_profile, bytes) or image.mode not in ("RGB", "RGBA"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        converted = ImageCms.profileToProfile(
            image, source, ImageCms.createProfile("sRGB"), outputMode=image.mode
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image  # a broken profile: the pixels stay as they are
    return converted if converted is not None else image


def _looks_like_screenshot(image: Image.Image, kind: FileKind) -> bool:
    if kind in (FileKind.PNG, FileKind.WEBP):
        return True  # lossless formats: what screenshots are saved as
    if image.size in _SCREEN_SIZES or image.size[::-1] in _SCREEN_SIZES:
        return True
    texts = [str(value) for value in image.info.values() if isinstance(value, str | bytes)]
    with contextlib.suppress(ValueError, TypeError, KeyError, SyntaxError, OSError):
        texts += [str(value) for value in image.getexif().values()]
    blob = " ".join(texts).lower()
    return any(tool in blob for tool in _SCREENSHOT_TOOLS)


def _screenshot_flags(screenshot: bool) -> tuple[Flag, ...]:
    return (Flag(FlagKind.SCREENSHOT, SCREENSHOT_DETAIL),) if screenshot else ()


# ---------------------------------------------------------------------------
# Recognising our own JPEG output, so that cleaning is idempotent.

# The segments our encoder writes besides the frame and scan headers: JFIF APP0
# without a thumbnail, Adobe APP14 for CMYK, the quantisation and Huffman
# tables. For a given mode and quality they are always the same bytes.
_TABLE_MARKERS = {APP0, APP14, 0xDB, 0xC4}


def _is_our_jpeg(data: bytes, image: Image.Image) -> bool:
    """True if `data` is exactly what this module writes: our header bytes, one scan."""
    if image.format != "JPEG" or _jpeg_orientation(image) not in (None, 1):
        return False
    layout = split_jpeg(data)
    if layout is None or layout.end != len(data):
        return False  # damaged, or bytes appended after the end of the image
    markers = [marker for marker, _ in layout.segments]
    if markers.count(SOS) != 1 or markers.count(0xC0) != 1:
        return False  # progressive or multi-scan: not ours
    if not set(markers) <= {SOI, SOS, EOI, 0xC0, *_TABLE_MARKERS}:
        return False  # EXIF, XMP, ICC, IPTC, comments, restart intervals
    tables = [segment for marker, segment in layout.segments if marker in _TABLE_MARKERS]
    return tables == _our_table_segments(image.mode)


def _jpeg_orientation(image: Image.Image) -> int | None:
    try:
        value = image.getexif().get(0x0112)
    except (ValueError, TypeError, KeyError, SyntaxError, OSError):
        return None
    return value if isinstance(value, int) else None


@cache
def _our_table_segments(mode: str) -> list[bytes] | None:
    """The APP0, DQT and DHT segments our encoder writes for `mode` at JPEG_QUALITY."""
    if mode not in ("L", "RGB", "CMYK"):
        return None
    sample = io.BytesIO()
    Image.new(mode, (8, 8)).save(sample, "JPEG", quality=JPEG_QUALITY)
    layout = split_jpeg(sample.getvalue())
    if layout is None:
        return None
    return [segment for marker, segment in layout.segments if marker in _TABLE_MARKERS]
