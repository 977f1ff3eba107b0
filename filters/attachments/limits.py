"""Resource limits every cleaner checks *before* it parses or inflates anything.

The caller runs the whole scrub in a separate process with a time limit, so
these bounds are about memory and about refusing hostile files early: a
decompression bomb is refused from its header or its central directory, never
discovered by inflating it.
"""

from __future__ import annotations

# Images: width × height of the first frame. Pillow's own default warns at
# ~89 Mpx and refuses at ~179 Mpx; 50 Mpx is a 8660 × 5773 photo, more than any
# phone camera or screen shot sent to a mailing list.
MAX_IMAGE_PIXELS = 50_000_000

# Zip containers (OOXML, ODF): counted from the central directory before any
# member is read. zipfile stops inflating a member at its declared size, so the
# declared sizes bound what is ever held in memory.
MAX_ZIP_MEMBERS = 2000
MAX_ZIP_UNCOMPRESSED = 100 * 1024 * 1024
MAX_XML_PART = 32 * 1024 * 1024  # one XML part handed to lxml

# PDF streams decoded for the registry scan (pypdf bounds its own decoders).
MAX_PDF_STREAM_DECODED = 32 * 1024 * 1024
MAX_PDF_DECODED_TOTAL = 64 * 1024 * 1024
# Streams with filters whose worst-case expansion we do not bound ourselves
# (LZW, RunLength) are decoded only when their encoded form is this small.
MAX_PDF_EXOTIC_ENCODED = 16 * 1024
