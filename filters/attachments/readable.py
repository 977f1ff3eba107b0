"""The readable strings inside bytes, as `strings(1)` would show them.

The registry scan runs on the cleaned output, not only on the document text a
parser extracts: a name can sit in a byte sequence no parser looks at (a
stray PDF object, a font name, a UTF-16 EXIF tag). The bytes are decoded the
ways a reader or a tool would decode them (Latin-1, UTF-8, UTF-16 both byte
orders), and only runs of at least four text characters are kept, so the
matcher is not fed megabytes of compressed noise.
"""

from __future__ import annotations

import re

# Runs separated by this token cannot join into one match ("Operator" at the
# end of one run and "A" at the start of the next).
RUN_SEPARATOR = "\n|\n"

# C0 controls end a run; C1 controls are deleted first, because folding
# (anyascii) deletes them too, so "Ali\x85ce" reads as "Alice".
_C1_CONTROLS = dict.fromkeys(range(0x80, 0xA0))
_TEXT_RUN = re.compile("[^\x00-\x08\x0b\x0e-\x1f\x7f\ufffd]{4,}")
# Random bytes read as UTF-16 are mostly CJK noise; names in UTF-16 (EXIF
# XPAuthor, EMF text, PDF strings) are in the scripts the registry covers.
# Combining marks and general punctuation (zero-width characters) stay inside
# a run, as folding removes them.
_UTF16_RUN = re.compile(
    "[\t\n\r\x20-\x7e\u00a0-\u036f\u0370-\u03ff\u0400-\u04ff\u1e00-\u1eff\u2000-\u206f\ufeff]{4,}"
)


def readable_strings(data: bytes) -> list[str]:
    """One text per decoding, each the runs of readable characters joined."""
    texts = [RUN_SEPARATOR.join(_TEXT_RUN.findall(data.decode("latin-1").translate(_C1_CONTROLS)))]
    if not data.isascii():  # ASCII reads the same in Latin-1 and UTF-8
        utf8 = data.decode("utf-8", "replace").translate(_C1_CONTROLS)
        texts.append(RUN_SEPARATOR.join(_TEXT_RUN.findall(utf8)))
    for codec in ("utf-16-le", "utf-16-be"):
        for start in (0, 1):  # UTF-16 text may start at an odd offset
            chunk = data[start:]
            chunk = chunk[: len(chunk) - len(chunk) % 2]
            runs = _UTF16_RUN.findall(chunk.decode(codec, "replace"))
            texts.append(RUN_SEPARATOR.join(runs))
    return [text for text in texts if text]
