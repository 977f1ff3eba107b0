"""Finding URLs in text and undoing the link wrappers mail gateways add.

CHATHAM_HOUSE.md §2.4: a gateway rewrites every link into a wrapper that
carries the *recipient*: Microsoft Safe Links put the mailbox address and the
tenant id into `data=`, Proofpoint adds a customer token, Mimecast an opaque id.
Judging the wrapper would judge the gateway; keeping it would archive the
recipient. So the archive keeps the inner URL (and judges that), and a wrapper
that cannot be undone (Mimecast keeps the target on its servers) is dropped.

Formats (as the vendors document or as their own decoders read them):

- Safe Links: `https://<region>.safelinks.protection.outlook.com/?url=<%-encoded>`
  `&data=…&sdata=…&reserved=0`
- Proofpoint URL Defense v1/v2: `https://urldefense.proofpoint.com/v2/url?u=<url>&d=…&c=…&r=…`
  (v2 writes % as - and / as _ in the url)
- Proofpoint v3: `https://urldefense.com/v3/__<url>__;<base64url of replaced bytes>!!<token>$`,
  where each `*` in the url stands for one replaced character and `**X` for a
  run of replaced characters whose length X encodes (A=2, B=3, … _=65).
- Google redirect: `https://www.google.<tld>/url?q=<url>&sa=…`
- Barracuda `linkprotect.cudasvc.com/url?a=`, Trend Micro `…/wis/clicktime/v1/query?url=`,
  Sophos `*.protection.sophos.com/?d=…&u=<base64 url>`,
  Cisco `secure-web.cisco.com/<token>/<%-encoded url>`.
- Mimecast `protect-*.mimecast.com/s/<id>`: cannot be undone.
"""

from __future__ import annotations

import base64
import binascii
import re
import string
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

# A URL starts with a scheme (including the defanged "hxxp" and "[:]"), with
# "mailto:", or with "www.". It runs to whitespace or a character that cannot be
# in a URL written in prose. Trailing punctuation is trimmed afterwards.
_URL_START = re.compile(
    r"(?<![\w@.+-])(?:"
    r"(?:https?|hxxps?|h\[tt\]ps?|ftps?|sftp|wss?)(?::|\[:\])//"
    r"|mailto:"
    r"|www\d{0,3}(?:\.|\[\.\])(?=\w)"
    r")",
    re.IGNORECASE,
)
_URL_BODY = re.compile(r"[^\s<>\"'`\u00ab\u00bb\u2018-\u201f]+")
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)  # keeps offsets
_TRAILING = ".,;:!?*'\""
_CLOSERS = {")": "(", "]": "[", "}": "{", ">": "<"}

_MAX_DEPTH = 5  # wrappers inside wrappers: Safe Links around Proofpoint happens


@dataclass(frozen=True, slots=True)
class UrlSpan:
    start: int
    end: int
    url: str


@dataclass(frozen=True, slots=True)
class Unwrapped:
    """What a URL really points at.

    `status`: "plain" (no wrapper: `url` is the input), "unwrapped" (`url` is the
    innermost target), "removed" (a wrapper we cannot undo: drop the link).
    """

    status: Literal["plain", "unwrapped", "removed"]
    url: str


def find_urls(text: str) -> list[UrlSpan]:
    """Every URL in `text`, with trailing prose punctuation trimmed."""
    spans: list[UrlSpan] = []
    position = 0
    lowered = text.lower()
    if len(lowered) != len(text):  # "İ" lowers to two characters: keep offsets aligned
        lowered = text.translate(_ASCII_LOWER)
    for anchor in sorted(_anchors(lowered)):
        start_match = _URL_START.match(text, anchor)
        if start_match is None or anchor < position:
            continue
        start = anchor
        body = _URL_BODY.match(text, start_match.end())
        end = body.end() if body else start_match.end()
        end = _trim(text, start, end)
        if end - start <= len(start_match.group()):
            continue
        spans.append(UrlSpan(start, end, text[start:end]))
        position = end
    return spans


def _anchors(lowered: str) -> set[int]:
    """Where a URL may start: found with str.find, which is much faster than
    letting a regex try every position of a long text."""
    anchors: set[int] = set()
    for marker, back in (("//", 9), ("mailto:", 0), ("www", 0)):
        index = lowered.find(marker)
        while index >= 0:
            if back:  # back up over the scheme ("https:", "hxxps:", "h[tt]ps[:]")
                scheme_start = index
                while scheme_start > 0 and index - scheme_start < back + 3:
                    if lowered[scheme_start - 1] not in "abcdefghijklmnopqrstuvwxyz[]:":
                        break
                    scheme_start -= 1
                anchors.update(range(scheme_start, index))
            else:
                anchors.add(index)
            index = lowered.find(marker, index + 1)
    return anchors


def _trim(text: str, start: int, end: int) -> int:
    # Bracket counts are taken once and kept up to date as closers are cut off,
    # so a URL followed by a long run of ")" costs its length, not its square.
    counts: dict[str, int] | None = None
    while end > start:
        last = text[end - 1]
        if last in _TRAILING:
            end -= 1
        elif last in _CLOSERS:
            # Keep a closing bracket only if the URL opened it ("…/Foo_(bar)").
            if counts is None:
                segment = text[start:end]
                counts = {char: segment.count(char) for char in "()[]{}<>"}
            if counts[_CLOSERS[last]] >= counts[last]:
                break
            counts[last] -= 1
            end -= 1
        else:
            break
    return end


def canonical_url(url: str) -> str:
    """`url` with a defanged scheme repaired and a scheme added to "www." forms."""
    url = re.sub(r"^(?:hxxp|h\[tt\]p)", "http", url, flags=re.IGNORECASE)
    url = url.replace("[:]", ":", 1)
    if url[:3].lower() == "www":
        url = "http://" + url
    return url.replace("[.]", ".")


def url_host(url: str) -> str | None:
    """The host of `url` in lower case (IPv6 without brackets), or None."""
    try:
        host = urlsplit(canonical_url(url)).hostname
    except ValueError:
        return None
    return host or None


def unwrap(url: str) -> Unwrapped:
    """Undo gateway wrappers, innermost first wins; see the module docstring."""
    current = url
    status: Literal["plain", "unwrapped", "removed"] = "plain"
    for _ in range(_MAX_DEPTH):
        inner = _unwrap_once(current)
        if inner is None:
            return Unwrapped(status, current)
        if inner == "":
            return Unwrapped("removed", "")
        current, status = inner, "unwrapped"
    return Unwrapped("removed", "")  # nested deeper than any real gateway chain


def _unwrap_once(url: str) -> str | None:
    """The inner URL; "" for a wrapper we cannot undo; None when not a wrapper."""
    host = url_host(url)
    if host is None:
        return None
    try:
        parts = urlsplit(canonical_url(url))
    except ValueError:
        return None
    query = parse_qs(parts.query)
    path = parts.path

    if host.endswith(("safelinks.protection.outlook.com", "safelinks.protection.office365.us")):
        return _first(query, "url")
    if host in ("urldefense.com", "urldefense.proofpoint.com", "urldefense.us"):
        if path.startswith("/v3/"):
            return _proofpoint_v3(url)
        if path.startswith("/v2/url"):
            encoded = _first(query, "u")
            return unquote(encoded.replace("-", "%").replace("_", "/")) if encoded else ""
        if path.startswith("/v1/url"):
            return _first(query, "u")
        return ""
    if re.fullmatch(r"(?:www\.)?google\.[a-z.]{2,6}", host) and path == "/url":
        return _first(query, "q") or _first(query, "url")
    if host.endswith("mimecast.com") and (host.startswith("protect") or path.startswith("/s/")):
        return ""
    if host == "linkprotect.cudasvc.com":
        return _first(query, "a")
    if host.endswith("trendmicro.com") and "/clicktime/" in path:
        return _first(query, "url")
    if host.endswith("protection.sophos.com"):
        return _base64_url(_first(query, "u"))
    if host == "secure-web.cisco.com":
        inner = path.split("/", 2)[2] if path.count("/") >= 2 else ""
        return unquote(inner)
    return None


def _first(query: dict[str, list[str]], name: str) -> str:
    values = query.get(name)
    return values[0] if values else ""


def _base64_url(encoded: str) -> str:
    try:
        return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return ""


_PROOFPOINT_V3 = re.compile(r"/v3/__(?P<url>.+?)__;(?P<replaced>[^!]*)!")
_PROOFPOINT_TOKEN = re.compile(r"\*\*(?P<run>.)|\*")
_PROOFPOINT_RUNS = {
    char: length
    for length, char in enumerate(
        string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_", start=2
    )
}


def _proofpoint_v3(url: str) -> str:
    found = _PROOFPOINT_V3.search(url)
    if not found:
        return ""
    try:
        replaced = base64.urlsafe_b64decode(found["replaced"] + "==").decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return ""
    target = unquote(found["url"])
    pieces: list[str] = []
    cursor = 0
    position = 0
    for token in _PROOFPOINT_TOKEN.finditer(target):
        pieces.append(target[position : token.start()])
        length = _PROOFPOINT_RUNS.get(token["run"], 0) if token["run"] else 1
        if length == 0 or cursor + length > len(replaced):
            return ""
        pieces.append(replaced[cursor : cursor + length])
        cursor += length
        position = token.end()
    pieces.append(target[position:])
    return "".join(pieces)
