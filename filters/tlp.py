"""TLP 2.0 labels: read them as senders write them, resolve a post's label, stamp the copy.

FIRST TLP 2.0 (CHATHAM_HOUSE.md §1.2) has five labels, ordered here by strictness.
Senders write them in many 1.0-era spellings (`tlp: amber`, `[TLP-RED]`,
`TLP:WHITE`, `TLP: AMBER + STRICT`); we parse leniently and emit only the
canonical forms (`TLP:AMBER+STRICT`). A label must start with `TLP` as a word of
its own, so `TLPRED`, `redtlp`, "amber alert" and "Red Team" are not labels.

The distribution copy carries the label three times (DESIGN.md "Mail it sends"):
one `[TLP:LABEL]` subject tag after the reply prefixes and the list prefix, a
`TLP: LABEL` header, and a one-sentence banner at the top of every body text part.
Bodies are changed as little as possible:

- a text part gets the (ASCII) banner prepended to its *decoded bytes*, which
  are then re-encoded in the part's own transfer encoding, so every charset
  (even undecodable bytes) survives byte for byte;
- signed or encrypted entities (RFC 1847 multipart/signed and multipart/encrypted,
  S/MIME application/pkcs7-mime, inline PGP armour) and text parts whose charset
  is not a superset of ASCII are never altered: the entity is wrapped in a
  multipart/mixed whose first part is the banner;
- attachments and forwarded messages (message/*) are left alone.

Everything here is pure: no I/O, no clock, no configuration.
"""

from __future__ import annotations

import bisect
import copy
import functools
import html
import quopri
import re
import string
import textwrap
from email import base64mime
from email.errors import HeaderParseError
from email.header import Header, decode_header, make_header
from email.message import EmailMessage, Message, MIMEPart
from enum import IntEnum


class Tlp(IntEnum):
    """A TLP 2.0 label; a larger value is stricter."""

    CLEAR = 0
    GREEN = 1
    AMBER = 2
    AMBER_STRICT = 3
    RED = 4

    @property
    def header_value(self) -> str:
        """The value of our `TLP:` header, e.g. "AMBER+STRICT"."""
        return "AMBER+STRICT" if self is Tlp.AMBER_STRICT else self.name

    @property
    def label(self) -> str:
        """The canonical label, e.g. "TLP:AMBER+STRICT" (FIRST: no spaces, capitals)."""
        return "TLP:" + self.header_value


# --- Reading labels ----------------------------------------------------------------------------

_HS = r"[^\S\r\n]"  # horizontal white space, NBSP included: a label never spans lines
_SEPARATOR = rf"(?:{_HS}*[:：=/_-]{_HS}*|{_HS}+)"  # "TLP:", "TLP : ", "TLP-", "TLP_", "TLP "
_COLOUR = rf"(?:RED|AMBER|GREEN|CLEAR|WHITE)(?:{_HS}*[+_-]?{_HS}*STRICT)?"
# ASCII-only word edges: "TLPRED" and "redtlp" are words, but in Japanese text a label
# may touch CJK letters ("本件はTLP:AMBERです").
_LABEL_BODY = rf"(?<![A-Za-z0-9])TLP{_SEPARATOR}{_COLOUR}(?![A-Za-z0-9])"
_LABEL = re.compile(_LABEL_BODY, re.IGNORECASE)
_BARE_LABEL = re.compile(rf"(?:TLP{_SEPARATOR})?{_COLOUR}", re.IGNORECASE)
_COLOUR_WORD = re.compile(r"RED|AMBER|GREEN|CLEAR|WHITE", re.IGNORECASE)
_STRICT_WORD = re.compile(r"STRICT\Z", re.IGNORECASE)
_WRAPPING = "[](){}<>\"'*【】「」〔〕［］（）"
_BODY_LINES_READ = 5  # labels are read on the first non-empty lines of the body
_BODY_BYTES_READ = 256 * 1024  # enough for the first lines, even after an HTML <head>


def _label_of_match(text: str) -> Tlp:
    colour = _COLOUR_WORD.search(text)
    assert colour is not None  # only called on text our label patterns matched
    name = colour.group(0).upper()
    if name == "AMBER" and _STRICT_WORD.search(text):
        return Tlp.AMBER_STRICT
    return Tlp.CLEAR if name == "WHITE" else Tlp[name]  # TLP 1.0 WHITE is 2.0 CLEAR


def parse_label(text: str) -> Tlp | None:
    """One label as typed on the command line or in a header ("amber", "tlp: white")."""
    cleaned = text.strip().strip(_WRAPPING).strip().rstrip(".,;").strip()
    if _BARE_LABEL.fullmatch(cleaned) is None:
        return None
    return _label_of_match(cleaned)


def labels_in_text(text: str) -> list[Tlp]:
    """Every label in free text such as a subject or a body line, in order of appearance."""
    return [_label_of_match(match.group(0)) for match in _LABEL.finditer(text)]


def _labels_in_header_value(value: str) -> list[Tlp]:
    whole = parse_label(value)
    if whole is not None:
        return [whole]
    found = labels_in_text(value)
    first_word = value.strip().split(maxsplit=1)
    if first_word and (label := parse_label(first_word[0])) is not None:
        found.append(label)  # "TLP: AMBER (need to know)"
    return found


def _decoded_header(value: object) -> str:
    """A header value as text, whatever the policy (RFC 2047 encoded words decoded)."""
    if isinstance(value, Header):
        text = str(value)
    elif hasattr(value, "defects"):  # an email.headerregistry header: already decoded
        return str(value)
    else:
        text = re.sub(r"\r?\n(?=[ \t])", "", str(value))  # RFC 5322 §2.2.3 unfolding
    if "=?" in text:
        try:
            return str(make_header(decode_header(text)))
        except (HeaderParseError, LookupError, UnicodeError, ValueError):
            return text
    return text


def _header_texts(message: Message, name: str) -> list[str]:
    return [_decoded_header(value) for value in message.get_all(name) or []]


def _is_attachment(part: Message) -> bool:
    # Mail clients differ: Apple Mail sends files as "inline; filename=...", so a
    # filename marks an attachment as surely as the disposition does.
    return part.get_content_disposition() == "attachment" or part.get_filename() is not None


def _is_protected(part: Message) -> bool:
    """Signed or encrypted: any change breaks the signature or cannot be made."""
    content_type = part.get_content_type()
    return content_type in {
        "multipart/signed",  # RFC 1847 §2.1, RFC 3156 §5, RFC 8551 §3.5
        "multipart/encrypted",  # RFC 1847 §2.2, RFC 3156 §4
        "application/pkcs7-mime",  # RFC 8551 §3.3, 3.4 (enveloped or opaque signed)
        "application/x-pkcs7-mime",
    }


def _body_parts(entity: Message) -> list[Message]:
    """The text parts a reader sees as the body, in order (not attachments or message/*)."""
    if _is_attachment(entity) or entity.get_content_maintype() == "message":
        return []
    if entity.get_content_maintype() == "multipart":
        payload = entity.get_payload()
        if not isinstance(payload, list) or entity.get_content_type() == "multipart/encrypted":
            return []
        return [part for child in payload for part in _body_parts(child)]
    return [entity] if entity.get_content_type() in {"text/plain", "text/html"} else []


def _decoded_head(part: Message, limit: int) -> str:
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return data[:limit].decode(charset, "replace")
    except LookupError:
        return data[:limit].decode("utf-8", "replace")


_HTML_HIDDEN = re.compile(
    r"<(script|style|head|title)\b.*?</\1\s*>|<!--.*?-->", re.IGNORECASE | re.DOTALL
)
_HTML_BREAK = re.compile(
    r"<(?:br|/?(?:p|div|tr|li|h[1-6]|table|blockquote|pre|hr|ul|ol|dt|dd|center))\b[^>]*>",
    re.IGNORECASE,
)
_HTML_TAG = re.compile(r"<[^>]*>")


def _html_lines(markup: str) -> str:
    """HTML rendered roughly to lines: enough to read a label near the top."""
    text = _HTML_HIDDEN.sub(" ", markup)
    text = _HTML_BREAK.sub("\n", text)
    return html.unescape(_HTML_TAG.sub(" ", text))


def _first_lines(text: str, count: int) -> str:
    lines = [line for line in text.splitlines() if line.strip(" \t>")]
    return "\n".join(lines[:count])


def label_of_message(message: EmailMessage) -> Tlp | None:
    """The strictest label a sender wrote: Subject, TLP header(s), first body lines."""
    found: list[Tlp] = []
    for subject in _header_texts(message, "Subject"):
        found += labels_in_text(subject)
    for name in ("TLP", "X-TLP"):
        for value in _header_texts(message, name):
            found += _labels_in_header_value(value)
    body = _body_parts(message)
    plain = [part for part in body if part.get_content_subtype() == "plain"]
    if plain:
        head = _decoded_head(plain[0], _BODY_BYTES_READ)
    elif body:
        head = _html_lines(_decoded_head(body[0], _BODY_BYTES_READ))
    else:
        head = ""
    found += labels_in_text(_first_lines(head, _BODY_LINES_READ))
    return max(found, default=None)


def resolve(floor: Tlp, sender: Tlp | None, parent: Tlp | None = None) -> Tlp:
    """The post's label: the strictest of list floor, sender's label and parent's label."""
    return max(label for label in (floor, sender, parent) if label is not None)


# --- Subjects ----------------------------------------------------------------------------------

# Reply and forward prefixes as mail clients write them (Outlook, Thunderbird, Apple
# Mail, Gmail in their translations), with Re[2]: / Re(2): counters.
_REPLY_WORDS = (
    "Re|Fwd|Fw|AW|WG|Antw|Antwort|Wtrlt|TR|RV|RES|ENC|SV|VS|VB|VL|Vast|Välit|Doorst|R|I|RIF"
    "|Odp|PD|Odg|Prosl|YNT|İLT|Vá|Továbbítás|ΑΠ|ΣΧΕΤ|ΠΡΘ|Отв|Ответ|Пересл|FS|Trs"
    "|回复|回覆|答复|转发|轉寄|转寄|返信|転送|답장|전달"
)
_REPLY_PREFIX = re.compile(
    rf"(?:{_REPLY_WORDS}){_HS}*(?:\[\d+\]|\(\d+\))?{_HS}*[:：]", re.IGNORECASE
)
_OPEN = "[({<【「〔［（"
_CLOSE = "])}>】」〕］）"
_TAG = rf"(?:[{re.escape(_OPEN)}]{_HS}*{_LABEL_BODY}{_HS}*[{re.escape(_CLOSE)}]|{_LABEL_BODY})"
_TAG_BEFORE = r"[-–—|/,;]"  # separators that belong to the tag when it ends the subject
_TAG_AFTER = r"[-–—|/,;:]"  # "TLP:AMBER - subject", "TLP:RED: subject"
_TAG_IN_TEXT = re.compile(
    rf"(?P<before>(?:{_HS}*{_TAG_BEFORE}+)?{_HS}*){_TAG}(?P<after>{_HS}*(?:{_TAG_AFTER}+{_HS}*)?)",
    re.IGNORECASE,
)
_LEADING_TAG = re.compile(rf"{_TAG}(?:{_HS}*{_TAG_AFTER}+(?={_HS}|\Z))?", re.IGNORECASE)


def _one_line(subject: str) -> str:
    unfolded = re.sub(r"\r?\n(?=[ \t])", "", subject)  # RFC 5322 §2.2.3
    return re.sub(r"[\r\n]+", " ", unfolded)


def _without_tags(text: str) -> str:
    def replacement(match: re.Match[str]) -> str:
        if match.start() == 0 or match.end() == len(text):
            return ""
        if re.search(_TAG_BEFORE, match.group("before")):
            return match.group("before")  # "Report - TLP:AMBER - phishing": keep one "-"
        return " " if match.group("before") or match.group("after") else ""

    return _TAG_IN_TEXT.sub(replacement, text).strip()


def subject_without_labels(subject: str) -> str:
    """The subject with every TLP tag removed (the archive keeps the label as a field)."""
    return _without_tags(_one_line(subject))


def _prefix_key(prefix: str) -> str:
    return re.sub(r"[\s\[\]()\d:：]", "", prefix).casefold()


def stamp_subject(subject: str, label: Tlp, *, list_prefix: str | None = None) -> str:
    """`Re: [prefix] [TLP:LABEL] text`: one canonical tag after reply and list prefixes.

    `list_prefix` is the list's literal subject prefix, e.g. "[ciso]". Reply
    prefixes keep their order and spelling; repeats of the same one are merged, so
    `Re: [TLP:AMBER] Re: [TLP:AMBER] x` becomes `Re: [TLP:AMBER] x`. Every tag a
    sender wrote is removed wherever it stands.
    """
    text = _one_line(subject)
    prefix = " ".join((list_prefix or "").split())
    prefix_pattern = (
        re.compile(r"\s+".join(map(re.escape, prefix.split())), re.IGNORECASE) if prefix else None
    )
    replies: list[str] = []
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if reply := _REPLY_PREFIX.match(text, position):
            if not replies or _prefix_key(replies[-1]) != _prefix_key(reply.group(0)):
                replies.append(reply.group(0))
            position = reply.end()
            continue
        ours = prefix_pattern.match(text, position) if prefix_pattern else None
        tag = ours or _LEADING_TAG.match(text, position)
        if tag is None:
            break
        position = tag.end()  # the list prefix and tags are written anew below
    rest = _without_tags(text[position:])
    return " ".join(part for part in [*replies, prefix, f"[{label.label}]", rest] if part)


# --- Banners -----------------------------------------------------------------------------------

# What each label permits, in FIRST's words (TLP 2.0 definitions, CHATHAM_HOUSE.md §1.2).
_PERMITS = {
    Tlp.RED: "For the eyes and ears of individual recipients only, no further disclosure.",
    Tlp.AMBER_STRICT: "Limited disclosure, recipients can only spread this on a need-to-know"
    " basis within their own organization, not to its clients.",
    Tlp.AMBER: "Limited disclosure, recipients can only spread this on a need-to-know basis"
    " within their organization and its clients.",
    Tlp.GREEN: "Limited disclosure, recipients can spread this within their community,"
    " but not via publicly accessible channels.",
    Tlp.CLEAR: "Recipients can spread this to the world, there is no limit on disclosure.",
}
# FIRST's colours, shown on black.
_COLOURS = {
    Tlp.RED: "#FF2B2B",
    Tlp.AMBER_STRICT: "#FFC000",
    Tlp.AMBER: "#FFC000",
    Tlp.GREEN: "#33FF00",
    Tlp.CLEAR: "#FFFFFF",
}


def _banner_sentence(label: Tlp) -> str:
    return f"{label.label} -- {_PERMITS[label]}"


def banner_text(label: Tlp) -> str:
    """The plain-text banner: label and what it permits, wrapped at 72 columns, ASCII."""
    return textwrap.fill(
        _banner_sentence(label), width=72, break_on_hyphens=False, break_long_words=False
    )


def banner_html(label: Tlp) -> str:
    """The HTML banner; its text is the same as `banner_text`, so it strips the same way.

    A table cell with a `bgcolor` attribute as well as CSS: the black background then
    shows in the clients that drop one of the two (Outlook's Word engine among them).
    """
    cell_style = (
        "background-color:#000000;color:#FFFFFF;padding:4px 8px;"
        "font-family:Arial,Helvetica,sans-serif;font-size:12px;line-height:1.4"
    )
    return (
        '<table role="presentation" cellpadding="0" cellspacing="0" border="0"'
        ' style="border-collapse:collapse;margin:0 0 12px 0">'
        f'<tr><td bgcolor="#000000" style="{cell_style}">'
        f'<span style="color:{_COLOURS[label]};font-weight:bold">{label.label}</span>'
        f" -- {html.escape(_PERMITS[label])}</td></tr></table>"
    )


_QUOTE_PREFIX = re.compile(r"[ \t]*(?:>[ \t]*)*")
_QUOTE_ONLY = re.compile(r"[ \t>]*\r?")
_SQUEEZED_BANNERS = tuple("".join(banner_text(label).split()).lower() for label in Tlp)
_MAY_HOLD_BANNER = re.compile(r"TLP:", re.IGNORECASE)
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def strip_banners(text: str) -> str:
    """Remove our banners from `text`, also when quoted ("> > ") or re-wrapped.

    The text is compared without white space and quote markers, so any line
    breaking a mail client chose still matches. Lines the banner filled are
    removed whole, with the blank line that followed it.
    """
    if not _MAY_HOLD_BANNER.search(text):
        return text
    starts: list[int] = []  # for each word: its offset in the original text
    squeezed_starts: list[int] = []  # ... and in the squeezed text
    words: list[str] = []
    length = 0
    for line in re.finditer(r"[^\n]*", text):
        body_start = line.start() + _QUOTE_PREFIX.match(line.group(0)).end()  # type: ignore[union-attr]
        for word in re.finditer(r"\S+", text[body_start : line.end()]):
            starts.append(body_start + word.start())
            squeezed_starts.append(length)
            words.append(word.group(0))
            length += len(word.group(0))
    squeezed = "".join(words).translate(_ASCII_LOWER)

    def original_offset(offset: int) -> int:
        index = bisect.bisect_right(squeezed_starts, offset) - 1
        return starts[index] + offset - squeezed_starts[index]

    spans: list[tuple[int, int]] = []
    for banner in _SQUEEZED_BANNERS:
        found = squeezed.find(banner)
        while found >= 0:
            end = found + len(banner)
            spans.append((original_offset(found), original_offset(end - 1) + 1))
            found = squeezed.find(banner, end)
    for start, end in sorted(spans, reverse=True):
        text = _cut_banner(text, start, end)
    return text


def _cut_banner(text: str, start: int, end: int) -> str:
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    if not (_QUOTE_ONLY.fullmatch(text[line_start:start]) and not text[end:line_end].strip()):
        return text[:start] + text[end:]  # the banner shares a line with other text
    cut_end = min(line_end + 1, len(text))
    next_end = text.find("\n", cut_end)
    next_end = len(text) if next_end < 0 else next_end
    if cut_end < len(text) and _QUOTE_ONLY.fullmatch(text[cut_end:next_end]):
        cut_end = min(next_end + 1, len(text))  # the blank line that followed the banner
    return text[:line_start] + text[cut_end:]


# --- Stamping ----------------------------------------------------------------------------------

_ARMOUR = re.compile(r"^-----BEGIN PGP (?:SIGNED )?MESSAGE-----", re.MULTILINE)
_HTML_ANCHORS = tuple(  # the banner goes after the first of these found, else at the very top
    re.compile(anchor, re.IGNORECASE)
    for anchor in (
        r"<body\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*>",
        r"</head\s*>",
        r"<html\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*>",
        r"\A\s*(?:<\?xml[^>]*>\s*)?<!DOCTYPE[^>]*>",
    )
)
_UNKNOWN_8BIT = {"unknown-8bit", "x-unknown", "unknown"}  # ASCII supersets in practice


@functools.lru_cache(maxsize=64)
def _ascii_compatible(charset: str) -> bool:
    """ASCII bytes mean the same in `charset` at the start of a text (not UTF-16/7, EBCDIC)."""
    if charset in _UNKNOWN_8BIT:
        return True
    try:
        return string.printable.encode(charset) == string.printable.encode("ascii")
    except (LookupError, UnicodeError):
        return False  # unknown: the banner goes in a part of its own


def _html_insert_at(markup: str) -> int:
    for anchor in _HTML_ANCHORS:
        if match := anchor.search(markup):
            return match.end()
    return 0


def _newline_of(content: str, default: str) -> str:
    first_break = content.find("\n")
    if first_break < 0:
        return default
    return "\r\n" if content[first_break - 1 : first_break] == "\r" else "\n"


def _with_banner(content: str, is_html: bool, label: Tlp, default_newline: str) -> str:
    """`content` (text, or bytes decoded as ASCII with surrogateescape) with the banner.

    A banner of ours already in place (a stamped copy stamped again) is replaced.
    """
    newline = _newline_of(content, default_newline)
    position = _html_insert_at(content) if is_html else 0
    for earlier in Tlp:
        if is_html:
            block = banner_html(earlier) + newline
        else:
            block = (banner_text(earlier) + "\n\n").replace("\n", newline)
        if content.startswith(block, position):
            content = content[:position] + content[position + len(block) :]
            break
    if is_html:
        block = banner_html(label) + newline
    else:
        block = (banner_text(label) + "\n\n").replace("\n", newline)
    return content[:position] + block + content[position:]


def _raw_payload(part: Message) -> object:
    # get_payload() without decode=True turns 8-bit bytes the charset cannot decode
    # into U+FFFD; the generator writes `_payload` back as it is, so read it the same way.
    return part._payload  # type: ignore[attr-defined]


def _bannered_in_place(part: Message, label: Tlp) -> bool:
    """Prepend the banner to a body text part; False when that cannot be done safely."""
    charset = part.get_content_charset() or "us-ascii"
    encoding = str(part.get("Content-Transfer-Encoding", "7bit")).strip().lower()
    if not _ascii_compatible(charset):
        return False
    is_html = part.get_content_subtype() == "html"
    if encoding in {"quoted-printable", "base64"}:
        defects_before = len(part.defects)
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes) or len(part.defects) != defects_before:
            return False  # damaged encoding: re-encoding would not give back the original
        # Work on the decoded bytes, not on text: bytes that are invalid in the declared
        # charset still come back exactly (the banner is ASCII, the charset a superset).
        content = data.decode("ascii", "surrogateescape")
        if _ARMOUR.search(content):
            return False  # inline PGP: keep the armoured text exactly as it was
        # Without line breaks to copy, use CRLF: RFC 2045 §6.8 canonical form.
        stamped = _with_banner(content, is_html, label, "\r\n").encode("ascii", "surrogateescape")
        if encoding == "base64":
            part.set_payload(base64mime.body_encode(stamped, maxlinelen=76, eol="\n"))
        else:
            part.set_payload(quopri.encodestring(stamped).decode("ascii"))
        return True
    if encoding in {"7bit", "8bit", "binary"}:
        payload = _raw_payload(part)
        if not isinstance(payload, str):
            return False
        if _ARMOUR.search(payload):
            return False
        part.set_payload(_with_banner(payload, is_html, label, "\n"))
        return True
    return False  # uuencode and unknown encodings


def _banner_part(label: Tlp, policy: object) -> Message:
    part = MIMEPart(policy=policy)  # type: ignore[arg-type]
    part["Content-Type"] = 'text/plain; charset="us-ascii"'
    part["Content-Transfer-Encoding"] = "7bit"
    part["Content-Disposition"] = "inline"
    part.set_payload(banner_text(label) + "\n")
    return part


def _wrap_with_banner(entity: Message, label: Tlp) -> None:
    """Turn `entity` in place into multipart/mixed [banner, entity as it was].

    The Content-* header fields move to the inner part as the parsed (raw) values,
    exactly as email.message.MIMEPart._make_multipart moves them, so nothing of a
    signed entity is re-parsed or re-folded; preamble and epilogue move with it.
    """
    inner = type(entity)(policy=entity.policy)
    moved = [item for item in entity._headers if item[0].lower().startswith("content-")]
    kept = [item for item in entity._headers if not item[0].lower().startswith("content-")]
    inner._headers = moved  # type: ignore[attr-defined]
    inner._payload = entity._payload  # type: ignore[attr-defined]
    inner._charset = entity._charset  # type: ignore[attr-defined]
    inner._default_type = entity._default_type  # type: ignore[attr-defined]
    inner.preamble, inner.epilogue = entity.preamble, entity.epilogue
    entity._headers = kept  # type: ignore[attr-defined]
    entity._payload = [_banner_part(label, entity.policy), inner]  # type: ignore[attr-defined]
    entity._charset = None  # type: ignore[attr-defined]
    entity.preamble = entity.epilogue = None
    entity["Content-Type"] = "multipart/mixed"


def _stamp_entity(entity: Message, label: Tlp, *, top: bool = False) -> bool:
    """Banner every body text part below `entity`; True if a banner was placed."""
    # An S/MIME message is often "attachment; filename=smime.p7m" as a whole; below
    # the top, a .p7m with that disposition is a file someone attached.
    if _is_protected(entity) and (top or not _is_attachment(entity)):
        _wrap_with_banner(entity, label)
        return True
    if _is_attachment(entity) or entity.get_content_maintype() == "message":
        return False  # attachments and forwarded messages are the sender's evidence
    if entity.get_content_maintype() == "multipart":
        children = entity.get_payload()
        if not isinstance(children, list):
            return False
        placed = [_stamp_entity(child, label) for child in children]
        return any(placed)
    if entity.get_content_type() not in {"text/plain", "text/html"}:
        return False
    if not _bannered_in_place(entity, label):
        _wrap_with_banner(entity, label)
    return True


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _subject_to_stamp(message: Message) -> str:
    """The subject as text; 8-bit bytes of no known charset are kept as they were.

    The default policy reads raw 8-bit bytes that are not UTF-8 (RFC 6532) as U+FFFD.
    Kept as surrogate escapes instead, the policy writes them back as the same bytes
    in an `unknown-8bit` encoded word (RFC 2047), so nothing of the subject is lost.
    """
    subjects = _header_texts(message, "Subject")
    if not subjects:
        return ""
    raw = next(value for name, value in message.raw_items() if name.lower() == "subject")
    if "\ufffd" in subjects[0] and isinstance(raw, str) and _has_surrogates(raw):
        try:
            raw.encode("ascii", "surrogateescape").decode("utf-8")
        except UnicodeError:
            return _one_line(raw)
    return subjects[0]


def _set_single_header(message: Message, name: str, value: str) -> None:
    if len(message.get_all(name) or []) == 1:
        message.replace_header(name, value)  # keeps the field where the sender had it
    else:
        del message[name]
        message[name] = value


def stamp(message: EmailMessage, label: Tlp, *, list_prefix: str | None = None) -> EmailMessage:
    """The distribution copy of `message`, labelled `label`; `message` is not changed.

    Subject tag (see `stamp_subject`), `TLP: <value>` header (any earlier one
    replaced), and the banner at the top of every body text part. Attachments are
    shared, not re-encoded, so this stays fast for a 10 MB message.
    """
    # A deep copy shares the (immutable) payload strings, so it costs no more than
    # the tree of parts; the policy is shared too.
    stamped: EmailMessage = copy.deepcopy(message, {id(message.policy): message.policy})
    new_subject = stamp_subject(_subject_to_stamp(stamped), label, list_prefix=list_prefix)
    _set_single_header(stamped, "Subject", new_subject)
    del stamped["X-TLP"]
    _set_single_header(stamped, "TLP", label.header_value)
    if not _stamp_entity(stamped, label, top=True):
        # No body text at all (only attachments, or a forwarded message): the banner
        # still comes first, in a part of its own.
        if stamped.get_content_type() == "multipart/mixed" and isinstance(
            stamped.get_payload(), list
        ):
            stamped.get_payload().insert(0, _banner_part(label, stamped.policy))
        else:
            _wrap_with_banner(stamped, label)
    if "MIME-Version" not in stamped:
        stamped["MIME-Version"] = "1.0"
    return stamped
