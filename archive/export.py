"""`listserv archive export`: an mboxrd file of archive forms only (archive/FORMAT.md).

mboxrd (RFC 4155 and the "mboxrd" convention): every line of a message that
starts with any number of ">" followed by "From " gets one more ">", so the
file reads back unambiguously. The separator line names no sender.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import BinaryIO

_FROM_LINE = re.compile(rb"^(>*From )", re.MULTILINE)


def separator(date: datetime) -> bytes:
    return f"From archive@invalid {date.strftime('%a %b %d %H:%M:%S %Y')}\n".encode()


def mboxrd_entry(form: bytes, date: datetime) -> bytes:
    body = form.replace(b"\r\n", b"\n")
    if not body.endswith(b"\n"):
        body += b"\n"
    return separator(date) + _FROM_LINE.sub(rb">\1", body) + b"\n"


def write_mbox(out: BinaryIO, forms: Iterable[tuple[bytes, datetime]]) -> int:
    count = 0
    for form, date in forms:
        out.write(mboxrd_entry(form, date))
        count += 1
    return count
