"""Keyed pseudonymous message ids for the archive (CHATHAM_HOUSE.md §5.2).

archive_id(mid) = "<" + b32(HMAC-SHA256(k_list, mid))[:26] + "@archive." + domain + ">"

Deterministic, so a reply's In-Reply-To and References map to the ids of the
posts they answer without any lookup table; keyed, so a mail administrator who
knows the original ids cannot test which archived posts came from them; per
list, because `k_list` is derived per list by the server.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

_ANGLE_ID = re.compile(r"<([^<>\s]+)>")


def normalise_message_id(message_id: str) -> str:
    """The bare id inside angle brackets, so `<a@b>` and ` <a@b> ` key the same."""
    found = _ANGLE_ID.search(message_id)
    return found.group(1) if found else message_id.strip()


def keyed_message_id(list_key: bytes, message_id: str, list_domain: str) -> str:
    mac = hmac.new(list_key, normalise_message_id(message_id).encode(), hashlib.sha256)
    token = base64.b32encode(mac.digest()).decode().lower()[:26]
    return f"<{token}@archive.{list_domain}>"


def referenced_ids(header_values: list[str]) -> list[str]:
    """Every `<id>` in In-Reply-To/References values, in order, without repeats."""
    seen: dict[str, None] = {}
    for value in header_values:
        for found in _ANGLE_ID.finditer(value):
            seen.setdefault(found.group(1), None)
    return list(seen)
