"""Reading hostile zip containers within bounds, writing clean ones deterministically.

Reading (OOXML and ODF are zip files, APPNOTE.TXT): the central directory is
checked before any member is inflated: member count, the sum of declared
uncompressed sizes (zipfile stops inflating a member at its declared size, so
these sums bound memory even for overlapping-member bombs), encryption,
compression methods, and names. Duplicate names are refused: two readers may
pick different copies, which is how content is smuggled past a scanner.

Writing: fresh entries with a fixed timestamp (1980-01-01, the zip epoch), no
comments, no extra fields, no Unix permissions, in a fixed order; `mimetype`
first and stored for ODF (ODF 1.3 part 2 §3.3). Cleaning the same input twice
gives the same bytes.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Iterable

from filters.attachments.limits import MAX_ZIP_MEMBERS, MAX_ZIP_UNCOMPRESSED
from filters.attachments.outcome import Reason, Refused

_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_ENCRYPTED_FLAG = 0x1


def read_members(data: bytes) -> dict[str, bytes]:
    """Every file member of the zip `data`, by name (directories omitted)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as error:
        raise Refused(Reason.FAILED, "damaged zip container") from error
    with archive:
        infos = archive.infolist()
        _check_directory(infos)
        members: dict[str, bytes] = {}
        for info in infos:
            if info.is_dir():
                continue
            try:
                members[info.filename] = archive.read(info)
            except (zipfile.BadZipFile, zlib.error, ValueError, OSError, EOFError) as error:
                raise Refused(Reason.FAILED, "damaged zip member") from error
            except NotImplementedError as error:
                raise Refused(Reason.UNSUPPORTED, "zip compression method") from error
        return members


def _check_directory(infos: list[zipfile.ZipInfo]) -> None:
    if len(infos) > MAX_ZIP_MEMBERS:
        raise Refused(Reason.TOO_LARGE, "too many zip members")
    if sum(info.file_size for info in infos) > MAX_ZIP_UNCOMPRESSED:
        raise Refused(Reason.TOO_LARGE, "uncompressed size")
    seen: set[str] = set()
    for info in infos:
        if info.flag_bits & _ENCRYPTED_FLAG:
            raise Refused(Reason.ENCRYPTED)
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise Refused(Reason.UNSUPPORTED, "zip compression method")
        name = info.filename
        # OPC part names compare case-insensitively (ECMA-376 part 2 §6.2.2.3).
        folded = name.casefold()
        if folded in seen:
            raise Refused(Reason.FAILED, "duplicate zip member")
        seen.add(folded)
        if not name or name.startswith("/") or "\\" in name or "\x00" in name:
            raise Refused(Reason.FAILED, "unsafe zip member name")
        if any(part in ("..", ".") for part in name.split("/")):
            raise Refused(Reason.FAILED, "unsafe zip member name")


def write_members(members: Iterable[tuple[str, bytes]], *, stored: frozenset[str]) -> bytes:
    """A new zip of `members` in the order given; names in `stored` are not compressed."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in members:
            info = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
            info.create_system = 0  # MS-DOS: no Unix owner or permission bits
            info.create_version = 20
            info.external_attr = 0
            if name in stored:
                info.compress_type = zipfile.ZIP_STORED
                archive.writestr(info, content)
            else:
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, content, compresslevel=6)
    return out.getvalue()
