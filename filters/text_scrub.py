"""De-attribution of one decoded text body (CHATHAM_HOUSE.md §2.5).

`scrub_text` takes the decoded text of one body part (HTML already turned into
text with "> " quote marks) and returns the archive form of that text:

1. terminal escapes and control characters go, and our own TLP banner
   quoted back is cut (`filters.tlp.strip_banners`);
2. the text is segmented (`filters.reply_structure`): the author's text,
   quotes at any depth, attribution lines, Outlook header blocks, signatures,
   device lines, disclaimers, banners, imprints, PGP armour;
3. signatures are dropped at every quote depth: delimited ones; undelimited
   ones when the block after the closing identifies someone (a name, phone,
   address, imprint or registry term) and holds no link that may be an
   indicator (else it is kept and flagged); trailing name-and-contact blocks
   without a closing. So are device lines, disclaimers, banners, imprint
   lines, key fingerprints and PGP armour;
4. attribution lines become "Participant B wrote:" (the thread pseudonym of
   the quoted author) or "A participant wrote:"; their date and time go (a
   clock and a time zone narrow down the author);
5. header blocks become one line "----- quoted message (Participant B) -----"
   (or without a pseudonym), with the quoted Subject kept but scrubbed; To, Cc
   and Sent go. The From of a sender the registry does not know (a phishing
   sample's sender, a vendor) stays, as a possible indicator (§2.5: non-member
   addresses are kept and flagged);
6. every remaining piece of text goes through `RegistryMatcher.redact`, so
   members' names, addresses, organisations, domains and phones are redacted
   anywhere, and non-member indicators are flagged.

The result is a fixed point: scrubbing it again changes nothing (decision 8).
A single pass gets there on ordinary mail; when a removal uncovers more
structure (a second signature behind the first, a redaction that makes a
line look like a closing), the pass is repeated, at most `MAX_PASSES` times.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from filters import reply_patterns as rp
from filters.flags import Flag, FlagKind
from filters.matching import RegistryMatcher
from filters.reply_patterns import FieldRole
from filters.reply_structure import (
    REMOVED_KINDS,
    TEXT_KINDS,
    Segment,
    SegmentKind,
    segment,
    split_lines,
)
from filters.tlp import strip_banners

MAX_PASSES = 4
QUOTED_MESSAGE = "----- quoted message -----"
SOMEONE_WROTE = "A participant wrote:"


@dataclass(frozen=True, slots=True)
class ScrubbedText:
    text: str
    flags: tuple[Flag, ...]


def scrub_text(
    text: str,
    matcher: RegistryMatcher,
    participants: Mapping[str, str],
    *,
    where: str = "body",
) -> ScrubbedText:
    """The archive form of one decoded text body, and what a moderator should look at.

    `participants` maps identity keys to thread pseudonyms ("Participant A").
    """
    scrubber = _Scrubber(matcher, participants, where)
    result = scrubber.scrub(text)
    for _ in range(MAX_PASSES - 1):
        again = scrubber.scrub(result)
        if again == result:
            break
        result = again
    return ScrubbedText(result, _unique(scrubber.flags))


# Terminal escape sequences pasted with logs (ECMA-48 CSI "\x1b[1m", OSC
# "\x1b]0;title\x07"): formatting, not content. Left in, "\x1b[1mAlice" would
# read as "Alice" but fold to the one word "1malice". A lone ESC goes below.
_ANSI_ESCAPE = re.compile(
    r"\x1b(?:\[[0-?]{0,64}[ -/]{0,8}[@-~]|\][^\x07\x1b]{0,512}(?:\x07|\x1b\\)?)"
)
# Other control characters: line-like ones become a space (a word boundary),
# the rest (NUL, BEL, DEL, C1 controls) go, as the matcher ignores them too.
_CONTROL_CHARACTERS = {
    code: (" " if chr(code) in "\x0b\x0c\x1c\x1d\x1e\x1f\x85" else None)
    for code in (*range(0x00, 0x20), *range(0x7F, 0xA0))
    if chr(code) not in "\t\n\r"
}


def without_control_characters(text: str) -> str:
    """`text` without terminal escapes and control characters (tab and line ends stay)."""
    if "\x1b" in text:
        text = _ANSI_ESCAPE.sub("", text)
    return text.translate(_CONTROL_CHARACTERS)


def quoted_message_line(label: str | None) -> str:
    """The line that replaces a quoted message's header block."""
    return f"----- quoted message ({label}) -----" if label else QUOTED_MESSAGE


def attribution_line(label: str | None) -> str:
    """The line that replaces a reply attribution line."""
    return f"{label} wrote:" if label else SOMEONE_WROTE


# The archive form of one level, before redaction: literal lines (ours), text
# units waiting for redaction, and quotes holding a level of their own.


@dataclass(slots=True)
class _Unit:
    """Kept text of one level, redacted as one piece so that wrapped names still match."""

    lines: list[str]
    redacted: list[str] | None = None


@dataclass(slots=True)
class _Quote:
    pieces: list[str | _Unit | _Quote]


# Between the units of one batched `redact` call: a word of its own, so no
# registry term, phone number, address or URL can span it (terms match whole
# tokens, with at most light punctuation between them). Spaces, not line
# breaks, around it: the matcher folds them faster. A text that holds the word
# is redacted unit by unit instead, and so is a batch that does not split back.
_UNIT_BREAK = " qqunitbreakqq "


class _Scrubber:
    def __init__(
        self, matcher: RegistryMatcher, participants: Mapping[str, str], where: str
    ) -> None:
        self.matcher = matcher
        self.participants = participants
        self.where = where
        self.flags: list[Flag] = []
        # Repeated lines (attributions, closings) are looked up once.
        self._identities: dict[str, list[str]] = {}
        self._has_hits: dict[str, bool] = {}

    def scrub(self, text: str) -> str:
        text = strip_banners(without_control_characters(text))
        segments = segment(text, registry_hit=self._hits, own_labels=self.participants.values())
        units: list[_Unit] = []
        pieces = self._level(segments, units)
        self._redact_units(units)
        result = "\n".join(_render(pieces))
        if result and text.endswith(("\n", "\r")):
            result += "\n"
        return result

    # -- structure --------------------------------------------------------------------------------

    def _level(self, segments: Sequence[Segment], units: list[_Unit]) -> list[str | _Unit | _Quote]:
        pieces: list[str | _Unit | _Quote] = []
        pending: list[str] = []

        def flush() -> None:
            if pending:
                unit = _Unit(list(pending))
                units.append(unit)
                pieces.append(unit)
                pending.clear()

        for current in segments:
            kind = current.kind
            if kind in REMOVED_KINDS:
                if kind is SegmentKind.PGP_ARMOUR and any(
                    line.strip() == rp.PGP_MESSAGE_BEGIN for line in current.lines
                ):
                    self._flag(FlagKind.ENCRYPTED, "inline PGP message removed")
                continue
            if kind in TEXT_KINDS:
                if kind is SegmentKind.POSSIBLE_SIGNATURE:
                    self._flag(FlagKind.UNDELIMITED_SIGNATURE, "closing and block kept")
                pending.extend(current.lines)
                continue
            flush()
            if kind is SegmentKind.ATTRIBUTION:
                pieces.append(self._attribution(current))
            elif kind is SegmentKind.HEADER_BLOCK:
                for piece in self._header_block(current):
                    if isinstance(piece, _Unit):
                        units.append(piece)
                    pieces.append(piece)
                pieces.append("")
            elif kind is SegmentKind.QUOTE:
                pieces.append(_Quote(self._level(current.children, units)))
        flush()
        return pieces

    def _attribution(self, attribution: Segment) -> str:
        if attribution.is_own:
            return attribution.lines[0].strip()
        joined = " ".join(line.strip() for line in attribution.lines)
        return attribution_line(self._pseudonym_in(joined))

    def _header_block(self, block: Segment) -> list[str | _Unit]:
        """Our separator line, an unknown sender, and the subject (redacted later)."""
        sender = block.field(FieldRole.FROM)
        if block.is_own:
            label = block.own_label or None
        else:
            label = self._pseudonym_in(sender) if sender else None
        pieces: list[str | _Unit] = [quoted_message_line(label)]
        if sender and label is None and not self._hits(sender):
            pieces.append(_Unit(["From: " + " ".join(sender.split())]))
        subject = rp.SUBJECT_GATEWAY_TAG.sub("", block.field(FieldRole.SUBJECT) or "")
        if subject.strip():
            pieces.append(_Unit(["Subject: " + " ".join(subject.split())]))
        return pieces

    # -- the matcher ------------------------------------------------------------------------------

    def _hits(self, text: str) -> bool:
        """Whether `text` holds a registry term or a phone number (asked per candidate)."""
        if text not in self._has_hits:
            self._has_hits[text] = bool(self.matcher.find(text))
        return self._has_hits[text]

    def _pseudonym_in(self, text: str) -> str | None:
        """The pseudonym of the first thread participant named in `text`."""
        if text not in self._identities:
            self._identities[text] = self.matcher.identities_in(text)
        for key in self._identities[text]:
            label = self.participants.get(key)
            if label:
                return label
        return None

    def _redact_units(self, units: list[_Unit]) -> None:
        """Redact every unit, in one matcher call when the units can be told apart after."""
        texts = ["\n".join(unit.lines) for unit in units]
        if len(units) > 1 and not any(_UNIT_BREAK.strip() in text for text in texts):
            redacted = self.matcher.redact(_UNIT_BREAK.join(texts), self.participants, self.where)
            parts = redacted.text.split(_UNIT_BREAK)
            if len(parts) == len(units):
                self.flags.extend(redacted.flags)
                for unit, part in zip(units, parts, strict=True):
                    unit.redacted = split_lines(part)
                return
        for unit, text in zip(units, texts, strict=True):
            if not text.strip():
                unit.redacted = unit.lines
                continue
            one = self.matcher.redact(text, self.participants, self.where)
            self.flags.extend(one.flags)
            unit.redacted = split_lines(one.text)

    def _flag(self, kind: FlagKind, detail: str) -> None:
        self.flags.append(Flag(kind, detail, self.where))


def _render(pieces: list[str | _Unit | _Quote]) -> list[str]:
    lines: list[str] = []
    for piece in pieces:
        if isinstance(piece, str):
            lines.append(piece)
        elif isinstance(piece, _Unit):
            lines.extend(piece.redacted if piece.redacted is not None else piece.lines)
        else:
            lines.extend(">" + (" " + line if line else "") for line in _render(piece.pieces))
    return _tidy(lines)


def _tidy(lines: list[str]) -> list[str]:
    """Trailing white space off; runs of blank lines to one; no blank lines at either end."""
    tidy: list[str] = []
    for line in lines:
        line = line.rstrip()
        if not line and (not tidy or not tidy[-1]):
            continue
        tidy.append(line)
    while tidy and not tidy[-1]:
        tidy.pop()
    return tidy


def _unique(flags: Iterable[Flag]) -> tuple[Flag, ...]:
    return tuple(dict.fromkeys(flags))
