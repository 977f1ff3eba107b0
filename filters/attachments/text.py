"""Plain-text attachments (logs, CSV, IOC lists): UTF-8 out, scanned like documents.

The message-level scrubber rewrites text parts itself; an attachment that
detection found to be text is passed on whole as UTF-8 (no byte-order mark)
and left out if the registry scan finds a member in it.
"""

from __future__ import annotations

from filters.attachments.detect import decode_text
from filters.attachments.outcome import CleanedFile, Reason, Refused


def clean_text(data: bytes) -> CleanedFile:
    text = decode_text(data)
    if text is None:
        raise Refused(Reason.FAILED, "not text")
    return CleanedFile(data=text.encode("utf-8"), texts=(text,))
