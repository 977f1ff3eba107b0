"""Reply structure of one decoded text body (CHATHAM_HOUSE.md §2.5).

`segment(text)` cuts a plain-text body into what its author wrote and what a
mail client, a gateway or an earlier author added:

    TEXT                the author's own words
    QUOTE               ">"-prefixed lines; `children` holds the level inside,
                        segmented with the same rules (any depth)
    ATTRIBUTION         "On … Alice <a@x> wrote:", "Am … schrieb Alice:" (one
                        line, or two or three when the client wrapped it)
    HEADER_BLOCK        an Outlook or forward block: separator and/or
                        "From:/Sent:/To:/Subject:" fields, in many languages
    QUOTED_TEXT         the unprefixed earlier message below a HEADER_BLOCK
    SIGNATURE           from a "-- " / "--" / "______" line to the end of the run
    CLOSING_SIGNATURE   "Best regards,\\nAlice …" at the end of a run
    POSSIBLE_SIGNATURE  a closing whose block did not look like a signature
    CONTACT_BLOCK       a trailing "Alice Müller / Head of CERT / Tel …" block with
                        no closing and no delimiter (Outlook auto-signatures)
    DEVICE, DISCLAIMER, BANNER, IMPRINT, KEY_FINGERPRINT, PGP_ARMOUR, PGP_KEY

A *level* is the text at one quote depth. Inside a level, quotes, attribution
lines and header blocks are boundaries; the lines between two boundaries form
a *run*, and signatures end at the end of their run (RFC 3676 §4.3 says "to
the end of the message"; in a reply, the quote below ends the author's part).

Segmentation is pure and knows nothing of the registry: whether a block after
a closing (or a trailing name-and-contact block) identifies someone is decided
by patterns (a name, a phone, an address, an imprint) and by a `RegistryHit`
callable that `filters.text_scrub` backs with the matcher.

Work is linear in the size of the text: each line is classified a bounded
number of times, patterns see lines cut to a bounded length, header fields are
parsed once per line, and quote depth is bounded by `MAX_QUOTE_DEPTH`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from enum import Enum, StrEnum

from filters import reply_patterns as rp
from filters.reply_patterns import FieldRole

# Deeper quotes than this are kept as text, quote marks and all (no client
# nests that deep; a bound keeps recursion and copying small on hostile input).
MAX_QUOTE_DEPTH = 24
# A block after a closing is a signature only if it is short.
MAX_SIGNATURE_BLOCK_LINES = 14
MAX_SIGNATURE_LINE = 120
MAX_CONTACT_BLOCK_LINES = 8
_CLOSING_WINDOW = MAX_SIGNATURE_BLOCK_LINES + 8  # surviving lines searched for a closing


class SegmentKind(StrEnum):
    TEXT = "text"
    QUOTED_TEXT = "quoted-text"
    QUOTE = "quote"
    ATTRIBUTION = "attribution"
    HEADER_BLOCK = "header-block"
    SIGNATURE = "signature"
    CLOSING_SIGNATURE = "closing-signature"
    POSSIBLE_SIGNATURE = "possible-signature"
    CONTACT_BLOCK = "contact-block"
    DEVICE = "device"
    DISCLAIMER = "disclaimer"
    BANNER = "banner"
    IMPRINT = "imprint"
    KEY_FINGERPRINT = "key-fingerprint"
    PGP_ARMOUR = "pgp-armour"
    PGP_KEY = "pgp-key"


# What de-attribution drops whole.
REMOVED_KINDS = frozenset(
    {
        SegmentKind.SIGNATURE,
        SegmentKind.CLOSING_SIGNATURE,
        SegmentKind.CONTACT_BLOCK,
        SegmentKind.DEVICE,
        SegmentKind.DISCLAIMER,
        SegmentKind.BANNER,
        SegmentKind.IMPRINT,
        SegmentKind.KEY_FINGERPRINT,
        SegmentKind.PGP_ARMOUR,
        SegmentKind.PGP_KEY,
    }
)
# What de-attribution keeps as text (and redacts).
TEXT_KINDS = frozenset({SegmentKind.TEXT, SegmentKind.QUOTED_TEXT, SegmentKind.POSSIBLE_SIGNATURE})


@dataclass(frozen=True, slots=True)
class HeaderField:
    role: FieldRole
    label: str  # as written: "Von", "Envoyé", "*From"
    value: str


@dataclass(frozen=True, slots=True)
class Segment:
    kind: SegmentKind
    lines: tuple[str, ...]  # as they stand at this level (a QUOTE's lines keep their ">")
    children: tuple[Segment, ...] = ()  # QUOTE: the level inside
    fields: tuple[HeaderField, ...] = ()  # HEADER_BLOCK: its fields, continuation lines joined
    is_own: bool = False  # ATTRIBUTION / HEADER_BLOCK already in the form we write
    own_label: str = ""  # HEADER_BLOCK in our form: the pseudonym it names, if any

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def field(self, role: FieldRole) -> str | None:
        """The value of the first field with `role`, or None."""
        for header_field in self.fields:
            if header_field.role is role:
                return header_field.value
        return None


# Does this text hold a registry term (or a phone number)? Backed by the matcher.
RegistryHit = Callable[[str], bool]


def split_lines(text: str) -> list[str]:
    """Lines of `text`; CRLF and CR end lines too, other separators stay inside lines."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def segment(
    text: str,
    *,
    registry_hit: RegistryHit | None = None,
    own_labels: Collection[str] = (),
) -> tuple[Segment, ...]:
    """The top level of `text`, cut into segments (see the module docstring).

    `registry_hit` tells whether a signature candidate names a member; without
    it only patterns decide. `own_labels` are the pseudonyms in use
    ("Participant A", …): "Participant A wrote:" in our own form is recognised
    and left alone.
    """
    parser = _Parser(registry_hit or _no_registry, own_labels)
    return tuple(parser.level(split_lines(text), 0))


def walk(segments: Sequence[Segment]) -> list[Segment]:
    """Every segment, depth first, quotes' children after the quote itself."""
    found: list[Segment] = []
    stack = list(reversed(segments))
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(reversed(current.children))
    return found


# --- Signature judgement -------------------------------------------------------------------------

_IOC = re.compile(
    r"\b(?:\d{1,3}\.){3}\d{1,3}\b|\bCVE-\d{4}-\d{4,}\b|\b[0-9a-fA-F]{32,128}\b|hxxps?://|\[\.\]|"
    r"\b[0-9a-fA-F]{1,4}(?::[0-9a-fA-F]{0,4}){3,7}\b",
    re.IGNORECASE,
)


# A URL with a path (or a defanged one): what indicators look like, unlike home pages.
_DEEP_LINK = re.compile(r"(?:https?|hxxps?|ftp)://[^\s/]+/[^\s>)\]]+|\[\.\]", re.IGNORECASE)


def looks_like_name(line: str) -> bool:
    """One to three capitalised words (plus particles): "Alice", "J. Müller", "José de la Cruz"."""
    cleaned = line.strip().lstrip("/-–—~ ").rstrip(",.;: ")
    tokens = cleaned.split()
    if not 1 <= len(tokens) <= 6:
        return False
    core = [token for token in tokens if token.casefold() not in rp.NAME_PARTICLES]
    if not 1 <= len(core) <= 3:
        return False
    for token in core:
        word = token.rstrip(",.")
        if not word or not word[0].isupper() or len(word) > 30:
            return False
        if not all(ch.isalpha() or ch in "-'’." for ch in word):
            return False
    return True


def _closing_tail_ok(tail: str) -> bool:
    """The rest of a closing line: a name ("Thanks, Alice") or a second closing ("/ Grüße")."""
    if looks_like_name(tail):
        return True
    rest = tail.lstrip()
    if rest[:1] in ("/", "|"):
        return rp.CLOSING_LINE.match(rest[1:].strip()[: rp.MAX_SHORT_LINE]) is not None
    return False


def closing_tail(closing_line: str) -> str:
    """What follows the closing phrase on its line ("Alice" in "Thanks, Alice")."""
    match = rp.CLOSING_LINE.match(closing_line.strip()[: rp.MAX_SHORT_LINE])
    return match.group("tail").strip() if match else ""


def is_contact_line(line: str) -> bool:
    """A line that signature blocks are made of: phone, URL, address, imprint, handle."""
    text = line.strip()[: rp.MAX_STRUCTURE_LINE]
    return bool(
        rp.PHONE_LINE.search(text)
        or rp.URL_OR_EMAIL.search(text)
        or rp.SOCIAL_LINE.search(text)
        or rp.IMPRINT_LINE.search(text)
        or rp.STREET_ADDRESS.search(text)
        or rp.POSTCODE_CITY.match(text)
        or rp.KEY_FINGERPRINT_LINE.match(text)
    )


def _is_contact_detail(line: str) -> bool:
    """A contact line that is never an indicator: not a bare URL or address (those may be)."""
    text = line.strip()[: rp.MAX_STRUCTURE_LINE]
    return bool(
        rp.PHONE_LINE.search(text)
        or rp.SOCIAL_LINE.search(text)
        or rp.IMPRINT_LINE.search(text)
        or rp.STREET_ADDRESS.search(text)
        or rp.POSTCODE_CITY.match(text)
        or rp.KEY_FINGERPRINT_LINE.match(text)
    )


def _no_registry(text: str) -> bool:
    return False


def looks_like_signature(closing_line: str, block: Sequence[str]) -> bool:
    """The pattern-only judge: does the block after a closing identify someone?

    Yes when the closing line ends with a name, or the block has a name line,
    a phone, an address, a URL or address, an imprint, a social handle, or a
    placeholder left by an earlier redaction.
    """
    tail = closing_tail(closing_line)
    if tail and looks_like_name(tail):
        return True
    for line in (tail, *block):
        text = line.strip()
        if not text:
            continue
        if rp.PLACEHOLDER.search(text) or is_contact_line(text) or looks_like_name(text):
            return True
    return False


def _is_prose(line: str) -> bool:
    """A sentence, not a signature line: "Operator E S.p.A." ends with a dot but is a name."""
    words = line.split()
    lower = sum(1 for word in words if word[:1].islower())
    return (len(words) >= 5 and lower >= 3 and line.rstrip()[-1:] in ".!?") or len(words) >= 12


# --- The parser ----------------------------------------------------------------------------------


class _Pgp(Enum):
    NORMAL = 0
    ARMOUR_HEADERS = 1  # after BEGIN PGP SIGNED MESSAGE, before the blank line
    SIGNED = 2  # the clearsigned text, dash-escaped
    SIGNATURE = 3
    MESSAGE = 4
    KEY = 5


_Item = tuple[str, SegmentKind | None]  # a line, and its PGP kind when it is armour


def _is_blank(line: str) -> bool:
    return not line.strip()


def _unquote(line: str) -> str:
    """One quote level off: ">" and the one space after it."""
    if not line.startswith(">"):
        return ""  # a blank line inside a quote group
    return line[2:] if line.startswith("> ") else line[1:]


class _Parser:
    def __init__(self, registry_hit: RegistryHit, own_labels: Collection[str]) -> None:
        self.registry_hit = registry_hit
        self.own_labels = frozenset(own_labels)
        self.own_attributions = frozenset(f"{label} wrote:" for label in own_labels)

    # -- one level --------------------------------------------------------------------------------

    def level(self, lines: list[str], depth: int) -> list[Segment]:
        items = self._pgp(lines)
        fields_at: dict[int, HeaderField | None] = {}  # each line is parsed as a field once
        segments: list[Segment] = []
        run: list[str] = []
        run_kind = SegmentKind.TEXT
        count = len(items)
        index = 0

        def flush() -> None:
            if run:
                segments.extend(self._run(run, run_kind))
                run.clear()

        while index < count:
            line, armour = items[index]
            if armour is not None:
                flush()
                end = index
                while end < count and items[end][1] is armour:
                    end += 1
                segments.append(Segment(armour, tuple(item[0] for item in items[index:end])))
                index = end
                continue
            if depth < MAX_QUOTE_DEPTH and line.startswith(">"):
                flush()
                end = self._quote_end(items, index)
                quoted = [item[0] for item in items[index:end]]
                children = self.level([_unquote(q) for q in quoted], depth + 1)
                segments.append(Segment(SegmentKind.QUOTE, tuple(quoted), tuple(children)))
                index = end
                continue
            text = line.strip()
            if not text or len(text) > rp.MAX_STRUCTURE_LINE:
                run.append(line)  # blank lines and long lines are never structure
                index += 1
                continue
            attribution = self._attribution(items, index, text)
            if attribution is not None:
                flush()
                segments.append(attribution)
                index += len(attribution.lines)
                continue
            header = (
                self._header_block(items, index, text, fields_at)
                if ":" in text or "：" in text or text[0] in "-_"
                else None
            )
            if header is not None:
                flush()
                segments.append(header)
                index += len(header.lines)
                run_kind = SegmentKind.QUOTED_TEXT  # what follows is the earlier message
                continue
            run.append(line)
            index += 1
        flush()
        return segments

    @staticmethod
    def _quote_end(items: list[_Item], start: int) -> int:
        """End of a quote group; blank lines between quoted lines belong to it."""
        count = len(items)
        end = start
        while end < count:
            line, armour = items[end]
            if armour is None and line.startswith(">"):
                end += 1
                continue
            if armour is None and _is_blank(line):
                after = end
                while after < count and items[after][1] is None and _is_blank(items[after][0]):
                    after += 1
                if after < count and items[after][1] is None and items[after][0].startswith(">"):
                    end = after
                    continue
            break
        return end

    # -- PGP armour (RFC 4880 §6.2, §7) -----------------------------------------------------------

    @staticmethod
    def _pgp(lines: list[str]) -> list[_Item]:
        """Tag armour lines; undo dash-escaping in clearsigned text (RFC 4880 §7.1)."""
        if not any(
            "-----BEGIN PGP" in line for line in lines if line[:1] == "-" or "-----" in line
        ):
            return [(line, None) for line in lines]
        items: list[_Item] = []
        state = _Pgp.NORMAL
        for line in lines:
            marker = line.strip() if len(line) < 100 and "-----" in line else ""
            if state is _Pgp.ARMOUR_HEADERS:
                if _is_blank(line):  # the blank line that ends the armour headers
                    items.append((line, SegmentKind.PGP_ARMOUR))
                    state = _Pgp.SIGNED
                    continue
                if rp.PGP_ARMOUR_HEADER.match(line):
                    items.append((line, SegmentKind.PGP_ARMOUR))
                    continue
                state = _Pgp.SIGNED  # no blank line after the headers: text starts here
            if state is _Pgp.SIGNATURE or state is _Pgp.MESSAGE or state is _Pgp.KEY:
                kind = SegmentKind.PGP_KEY if state is _Pgp.KEY else SegmentKind.PGP_ARMOUR
                items.append((line, kind))
                if (
                    (state is _Pgp.SIGNATURE and marker == rp.PGP_SIGNATURE_END)
                    or (state is _Pgp.MESSAGE and marker == rp.PGP_MESSAGE_END)
                    or (state is _Pgp.KEY and rp.PGP_KEY_END.match(marker))
                ):
                    state = _Pgp.NORMAL
                continue
            if marker == rp.PGP_SIGNED_BEGIN:
                items.append((line, SegmentKind.PGP_ARMOUR))
                state = _Pgp.ARMOUR_HEADERS
            elif marker == rp.PGP_SIGNATURE_BEGIN:
                items.append((line, SegmentKind.PGP_ARMOUR))
                state = _Pgp.SIGNATURE
            elif marker == rp.PGP_MESSAGE_BEGIN:
                items.append((line, SegmentKind.PGP_ARMOUR))
                state = _Pgp.MESSAGE
            elif marker and rp.PGP_KEY_BEGIN.match(marker):
                items.append((line, SegmentKind.PGP_KEY))
                state = _Pgp.KEY
            elif state is _Pgp.SIGNED and line.startswith("- "):
                items.append((line[2:], None))
            else:
                items.append((line, None))
        return items

    # -- attribution lines ------------------------------------------------------------------------

    def _attribution(self, items: list[_Item], index: int, first: str) -> Segment | None:
        """An attribution line at `index` (`first` is that line, stripped), or None."""
        if first[-1] in ":：":
            if rp.OWN_ATTRIBUTION.match(first) or first in self.own_attributions:
                return Segment(SegmentKind.ATTRIBUTION, (items[index][0],), is_own=True)
            if _is_attribution(first, lambda: self._followed_by_quote(items, index + 1)):
                return Segment(SegmentKind.ATTRIBUTION, (items[index][0],))
        # Gmail and others wrap long attribution lines; join at most three lines.
        may_wrap = rp.ATTRIBUTION_INTRO.match(first) or "@" in first or "<" in first
        if not may_wrap or first[-1] in ".!?":
            return None
        following = items[index + 1][0].strip() if index + 1 < len(items) else ""
        if rp.ATTRIBUTION_INTRO.match(following):
            return None  # "On this day\nOn Sun, 1 Jan … wrote:": the attribution starts below
        joined = first
        for extra in (1, 2):
            position = index + extra
            if position >= len(items):
                return None
            line, armour = items[position]
            text = line.strip()
            if armour is not None or not text or line.startswith(">") or len(text) > 200:
                return None
            joined = joined + text if joined[-1] in "<([{\"'" else f"{joined} {text}"
            if len(joined) > rp.MAX_STRUCTURE_LINE:
                return None
            if not ("@" in joined or any(ch.isdigit() for ch in joined)):
                continue
            if joined[-1] in ":：" and _is_attribution(
                joined, lambda after=position + 1: self._followed_by_quote(items, after)
            ):
                lines = tuple(item[0] for item in items[index : position + 1])
                return Segment(SegmentKind.ATTRIBUTION, lines)
        return None

    def _is_own_label(self, label: str) -> bool:
        return label in self.own_labels or rp.OWN_PSEUDONYM.fullmatch(label) is not None

    @staticmethod
    def _followed_by_quote(items: list[_Item], start: int) -> bool:
        for position in range(start, min(start + 3, len(items))):
            line, armour = items[position]
            if armour is not None:
                return False
            if line.startswith(">"):
                return True
            if not _is_blank(line):
                return False
        return False

    # -- header blocks ----------------------------------------------------------------------------

    def _header_block(
        self,
        items: list[_Item],
        index: int,
        text: str,
        fields_at: dict[int, HeaderField | None],
    ) -> Segment | None:
        """A header block starting at `index` (`text` is that line, stripped), or None."""
        own = rp.OWN_HEADER_SEPARATOR.match(text)
        if own and own.group("label") and not self._is_own_label(own.group("label")):
            own = None  # "(Alice Müller)" was not written by us: it is text, and gets redacted
        if own or rp.DASHED_SEPARATOR.match(text) or rp.APPLE_SEPARATOR.match(text):
            start = index + 1
            skipped = start
            while (
                skipped < len(items)
                and skipped - start < 2
                and items[skipped][1] is None
                and _is_blank(items[skipped][0])
            ):
                skipped += 1
            fields, end = _fields(items, skipped, fields_at)
            if not fields:
                end = start
            return Segment(
                SegmentKind.HEADER_BLOCK,
                tuple(item[0] for item in items[index:end]),
                fields=tuple(fields),
                is_own=own is not None,
                own_label=(own.group("label") or "") if own else "",
            )
        if rp.RULE_LINE.match(text):
            start = index + 1
            if start < len(items) and items[start][1] is None and _is_blank(items[start][0]):
                start += 1
            if start >= len(items) or not _is_from_field(items, start, fields_at):
                return None
            fields, end = _fields(items, start, fields_at)
            if len(fields) < 2:
                return None
            return Segment(
                SegmentKind.HEADER_BLOCK,
                tuple(item[0] for item in items[index:end]),
                fields=tuple(fields),
            )
        first = _field_at(items, index, fields_at)
        if first is None or first.role is not FieldRole.FROM:
            return None
        inline = _inline_fields(first)
        if inline:
            return Segment(SegmentKind.HEADER_BLOCK, (items[index][0],), fields=inline)
        fields, end = _fields(items, index, fields_at)
        roles = {f.role for f in fields[1:]}
        if not roles & {FieldRole.SENT, FieldRole.TO, FieldRole.CC, FieldRole.SUBJECT}:
            return None
        return Segment(
            SegmentKind.HEADER_BLOCK,
            tuple(item[0] for item in items[index:end]),
            fields=tuple(fields),
        )

    # -- runs -------------------------------------------------------------------------------------

    def _run(self, lines: list[str], base: SegmentKind) -> list[Segment]:
        stripped = [line.strip() for line in lines]
        labels: list[SegmentKind | None] = [None] * len(lines)
        self._label_furniture(stripped, labels)
        self._label_postcodes(stripped, labels)
        self._label_trailing_signatures(stripped, labels)
        segments: list[Segment] = []
        start = 0
        for position in range(1, len(lines) + 1):
            if position == len(lines) or labels[position] != labels[start]:
                kind = labels[start] or base
                segments.append(Segment(kind, tuple(lines[start:position])))
                start = position
        return segments

    @staticmethod
    def _label_furniture(stripped: list[str], labels: list[SegmentKind | None]) -> None:
        """Signature delimiters, device lines, banners, fingerprints, imprints, disclaimers."""
        count = len(stripped)
        keyword_at: dict[int, bool] = {}  # disclaimer keywords, looked for once per line
        position = 0
        while position < count:
            text = stripped[position]
            if not text:
                position += 1
                continue
            if rp.SIGNATURE_DELIMITER.match(text) and _delimits(stripped, position):
                for rest in range(position, count):
                    labels[rest] = SegmentKind.SIGNATURE
                return
            short = len(text) <= rp.MAX_SHORT_LINE
            head = text[: rp.MAX_STRUCTURE_LINE]
            if short and rp.DEVICE_LINE.match(text) and rp.DEVICE_WORDS.search(text):
                labels[position] = SegmentKind.DEVICE
            elif rp.BANNER_LINE.match(head):
                end = _banner_end(stripped, position)
                labels[position:end] = [SegmentKind.BANNER] * (end - position)
                position = end
                continue
            elif short and rp.KEY_FINGERPRINT_LINE.match(text):
                labels[position] = SegmentKind.KEY_FINGERPRINT
            elif _is_imprint(text):
                labels[position] = SegmentKind.IMPRINT
            elif short and rp.DISCLAIMER_HEADING.match(text):
                end = _paragraph_end(stripped, position)
                if end == position + 1:  # the heading stands alone: the next paragraph is its text
                    following = end
                    while following < count and not stripped[following]:
                        following += 1
                    if following < count:
                        end = _paragraph_end(stripped, following)
                labels[position:end] = [SegmentKind.DISCLAIMER] * (end - position)
                position = end
                continue
            elif rp.DISCLAIMER_OPENING.match(head[:200]) and _keyword_ahead(
                stripped, position, keyword_at
            ):
                end = _paragraph_end(stripped, position)
                labels[position:end] = [SegmentKind.DISCLAIMER] * (end - position)
                position = end
                continue
            position += 1

    @staticmethod
    def _label_postcodes(stripped: list[str], labels: list[SegmentKind | None]) -> None:
        """ "53113 Bonn" alone is an address only beside other contact lines (not "8443 HTTPS")."""
        for position, text in enumerate(stripped):
            if labels[position] is not None or not text or len(text) > 60:
                continue
            match = rp.POSTCODE_CITY.match(text)
            if match is None or not match.group("city")[:1].isupper():
                continue
            in_context = bool(match.group("country") or match.group("country_name"))
            for neighbour in (position - 1, position + 1):
                if in_context or not 0 <= neighbour < len(stripped) or not stripped[neighbour]:
                    continue
                in_context = labels[neighbour] is SegmentKind.IMPRINT or is_contact_line(
                    stripped[neighbour]
                )
            if in_context:
                labels[position] = SegmentKind.IMPRINT

    def _label_trailing_signatures(
        self, stripped: list[str], labels: list[SegmentKind | None]
    ) -> None:
        """Undelimited signatures at the end of the run, the last one first, until none is left.

        `survivors` only ever shrinks from its end, so a run of many signatures
        ("Thanks,\nAlice\n" ten thousand times) stays linear.
        """
        survivors = [p for p, label in enumerate(labels) if label is None]
        while True:
            end = len(survivors)
            while end and not stripped[survivors[end - 1]]:
                end -= 1
            window = survivors[max(0, end - _CLOSING_WINDOW) : end]
            found = _closing(stripped, window)
            if found is not None:
                closing, block = found
                block_lines = [stripped[p] for p in block]
                is_signature = not self._links_elsewhere(block_lines) and (
                    looks_like_signature(stripped[closing], block_lines)
                    or self.registry_hit("\n".join((stripped[closing], *block_lines)))
                )
                kind = (
                    SegmentKind.CLOSING_SIGNATURE
                    if is_signature
                    else SegmentKind.POSSIBLE_SIGNATURE
                )
                start = survivors.index(closing, max(0, end - _CLOSING_WINDOW))
            else:
                start = self._contact_block_start(stripped, survivors, end)
                if start is None:
                    return
                kind = SegmentKind.CONTACT_BLOCK
            for position in survivors[start:]:
                labels[position] = kind
            del survivors[start:]
            if kind is SegmentKind.POSSIBLE_SIGNATURE:
                return

    def _links_elsewhere(self, lines: Sequence[str]) -> bool:
        """A link with a path that is neither a member's nor a profile: maybe an indicator.

        The block is then kept (and flagged) rather than dropped. A home page
        ("www.example.com") or an address in a signature is contact detail.
        """
        return any(
            _DEEP_LINK.search(line)
            and not rp.SOCIAL_LINE.search(line)
            and not self.registry_hit(line)
            for line in lines
        )

    def _contact_block_start(
        self, stripped: list[str], survivors: list[int], end: int
    ) -> int | None:
        """Where a trailing name-and-contact paragraph starts in `survivors`, or None.

        An auto-signature without closing or delimiter: its first line is a
        name, and another line is a phone, an address, an imprint, a handle or
        a registry term. A name alone ("Alice") is one when the registry knows
        it. Never when it holds indicators or sentences, or when no text comes
        before it.
        """
        start = end
        while start and stripped[survivors[start - 1]] and end - start <= MAX_CONTACT_BLOCK_LINES:
            start -= 1
        if not 1 <= end - start <= MAX_CONTACT_BLOCK_LINES:
            return None
        if not any(stripped[p] for p in survivors[max(0, start - 50) : start]):
            return None  # nothing before it (or only a long run of blank lines): not a footer
        texts = [stripped[p] for p in survivors[start:end]]
        if not looks_like_name(texts[0]) or texts[0].endswith(","):
            return None
        for line in texts:
            if len(line) > MAX_SIGNATURE_LINE or _is_prose(line) or line.endswith(":"):
                return None
        if _IOC.search(" ".join(texts)):
            return None
        rest = texts[1:]
        if not rest:
            return start if self.registry_hit(texts[0]) else None
        if self._links_elsewhere(rest):
            return None
        if any(_is_contact_detail(line) or rp.PLACEHOLDER.search(line) for line in rest):
            return start
        return start if self.registry_hit("\n".join(rest)) else None


# --- Helpers for the parser ----------------------------------------------------------------------


# Outlook writes five or six fields, a long Cc list wraps over a few lines; the
# bounds keep hostile input linear.
_MAX_HEADER_FIELDS = 10
_MAX_HEADER_LINES = 40


def _field_at(
    items: list[_Item], position: int, fields_at: dict[int, HeaderField | None]
) -> HeaderField | None:
    if position not in fields_at:
        line, armour = items[position]
        text = line.strip()
        colon = max(text.find(":", 0, 48), text.find("：", 0, 48))  # labels are short
        usable = armour is None and colon > 0 and len(text) <= rp.MAX_STRUCTURE_LINE
        fields_at[position] = _field(text) if usable and not line.startswith(">") else None
    return fields_at[position]


def _is_from_field(
    items: list[_Item], position: int, fields_at: dict[int, HeaderField | None]
) -> bool:
    parsed = _field_at(items, position, fields_at)
    return parsed is not None and parsed.role is FieldRole.FROM


def _fields(
    items: list[_Item], start: int, fields_at: dict[int, HeaderField | None]
) -> tuple[list[HeaderField], int]:
    """The header fields from `start` on, wrapped values joined; and where they end."""
    fields: list[HeaderField] = []
    position = start
    limit = min(len(items), start + _MAX_HEADER_LINES)
    while position < limit and len(fields) < _MAX_HEADER_FIELDS:
        line, armour = items[position]
        text = line.strip()
        if armour is not None or line.startswith(">") or not text:
            break
        if len(text) > rp.MAX_STRUCTURE_LINE:
            break
        parsed = _field_at(items, position, fields_at)
        if (
            parsed is not None
            and parsed.role is FieldRole.FROM
            and any(f.role is FieldRole.FROM for f in fields)
        ):
            break  # a block has one sender: this From starts another block
        if parsed is not None:
            fields.append(parsed)
        elif fields and _continues(line, fields[-1]):
            fields[-1] = replace(fields[-1], value=f"{fields[-1].value} {text}".strip())
        else:
            break
        position += 1
    return fields, position


def _has_digit(text: str) -> bool:
    return any(ch.isdigit() for ch in text)


def _is_imprint(text: str) -> bool:
    """A legal register line, or a street address (only short lines with a number)."""
    if len(text) <= 300 and rp.IMPRINT_LINE.search(text):
        return True
    return (
        len(text) <= rp.MAX_SHORT_LINE and _has_digit(text) and bool(rp.STREET_ADDRESS.search(text))
    )


def _is_attribution(text: str, followed_by_quote: Callable[[], bool]) -> bool:
    """Whether `text` (ending with a colon) attributes a quote.

    With an intro word ("On", "Am", "Le", …) or an address, a "wrote" verb is
    enough; otherwise the line must stand right before a quote.
    """
    if rp.VERB_AT_END.search(text) or rp.VERB_INSIDE.search(text):
        if rp.ATTRIBUTION_INTRO.match(text) or "@" in text or "<" in text:
            return True
        return len(text) <= 200 and followed_by_quote()
    if rp.QUOTING_LINE.match(text):
        return "@" in text or followed_by_quote()
    return "@" in text and rp.DATED_ADDRESS_LINE.search(text) is not None and followed_by_quote()


def _field(text: str) -> HeaderField | None:
    match = rp.FIELD_LINE.match(text)
    if match is None:
        return None
    label = match.group("label")
    return HeaderField(rp.role_of_label(label), label, match.group("value").strip(" *\t"))


def _inline_fields(first: HeaderField) -> tuple[HeaderField, ...]:
    """A whole block on one line: "From: A <a@x> Sent: Tue … To: B Subject: S"."""
    value = first.value
    if value.count(":") + value.count("：") < 2:
        return ()
    labels = list(rp.INLINE_FIELD.finditer(value))
    if len(labels) < 2:
        return ()
    fields = [replace(first, value=value[: labels[0].start()].strip())]
    for number, match in enumerate(labels):
        end = labels[number + 1].start() if number + 1 < len(labels) else len(value)
        label = match.group("label")
        fields.append(HeaderField(rp.role_of_label(label), label, value[match.end() : end].strip()))
    return tuple(fields)


_ADDRESS_ROLES = frozenset({FieldRole.FROM, FieldRole.TO, FieldRole.CC, FieldRole.BCC})


def _continues(line: str, previous: HeaderField) -> bool:
    """A wrapped header-field value: folded, or more addresses of a recipient list."""
    text = line.strip()
    if line[:1] in (" ", "\t") and previous.role in _ADDRESS_ROLES | {FieldRole.SUBJECT}:
        return True
    if previous.role not in _ADDRESS_ROLES:
        return False
    return (
        previous.value.endswith((";", ","))
        or text.startswith(("<", "[mailto:", "mailto:", "("))
        or ("@" in text and len(text.split()) <= 3)
    )


def _delimits(stripped: list[str], position: int) -> bool:
    """A "--" or "____" line delimits a signature unless indicators follow it.

    The RFC 3676 "-- " delimiter (which arrives here as "--") is taken as such;
    but a writer who uses a rule to set off a list of IP addresses or hashes
    keeps them.
    """
    following = " ".join(stripped[position + 1 : position + 40])[:4000]
    return _IOC.search(following) is None


def _banner_end(stripped: list[str], start: int) -> int:
    """An external-sender banner: its line and the lines that continue its sentence."""
    end = start + 1
    total = len(stripped[start])
    while end < len(stripped) and end - start < 4 and stripped[end]:
        previous, text = stripped[end - 1], stripped[end]
        wrapped = len(previous) >= 40 and previous[-1] not in ".!?]"
        if total + len(text) > 500 or not (wrapped or rp.BANNER_CONTINUATION.search(text)):
            break
        total += len(text)
        end += 1
    return end


def _keyword_ahead(stripped: list[str], start: int, keyword_at: dict[int, bool]) -> bool:
    """Whether the head of the paragraph at `start` says "confidential" or the like.

    Each line is searched once, together with the start of the next line (a
    two-word keyword may wrap), so a long paragraph of openings stays linear.
    """
    size = 0
    for position in range(start, min(start + 40, len(stripped))):
        text = stripped[position]
        if not text or size > rp.MAX_PARAGRAPH_HEAD:
            return False
        if position not in keyword_at:
            following = stripped[position + 1][:40] if position + 1 < len(stripped) else ""
            window = f"{text[: rp.MAX_PARAGRAPH_HEAD]} {following}"
            keyword_at[position] = rp.DISCLAIMER_KEYWORD.search(window) is not None
        if keyword_at[position]:
            return True
        size += len(text) + 1
    return False


def _paragraph_end(stripped: list[str], start: int) -> int:
    end = start
    while end < len(stripped) and stripped[end]:
        end += 1
    return end


def _closing(stripped: list[str], window: list[int]) -> tuple[int, list[int]] | None:
    """The last closing line among the last surviving lines, with the block after it.

    None when there is none, or when what follows it is not signature-shaped:
    too long, a sentence (disclaimers were cut before), a postscript, a list
    introduced by a colon, or indicators (an IP address after "Thanks," is
    content, not a signature).
    """
    for offset in range(len(window) - 1, -1, -1):
        closing = window[offset]
        text = stripped[closing]
        if not text or len(text) > rp.MAX_SHORT_LINE:
            continue
        match = rp.CLOSING_LINE.match(text)
        if match is None:
            continue
        tail = match.group("tail").strip()
        if tail and not _closing_tail_ok(tail):
            continue
        block = [p for p in window[offset + 1 :] if stripped[p]]
        if not block and not tail:
            return None  # the text simply ends with "Thanks!"
        if len(block) > MAX_SIGNATURE_BLOCK_LINES:
            return None
        texts = [stripped[p] for p in block]
        for line in texts:
            if len(line) > MAX_SIGNATURE_LINE or _is_prose(line) or line.endswith(":"):
                return None
            if rp.POSTSCRIPT.match(line):
                return None
        if _IOC.search(" ".join(texts)):
            return None
        return closing, block
    return None
