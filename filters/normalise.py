"""Folding text for registry matching, with a map back to the original offsets.

CHATHAM_HOUSE.md §5.1: "Normalisation, applied the same way to text and terms".
A name must be found however it was spelled, encoded or disguised, and the hit
must then be cut out of the *original* text. So `normalise()` returns the folded
form together with, for every folded character, the range of original
characters it came from.

Per original character, in this order:

1. Decoding that real mail needs before a name becomes visible: percent escapes
   (`alice%40operator-a.example`, UTF-8 multi-byte runs), HTML character
   references (`&#64;`, `&amp;`), and defanged indicators (`[.]`, `(dot)`,
   `[at]`), which security people write every day.
2. Invisible characters vanish: soft hyphen, zero-width space/joiners, bidi
   controls, BOM, every other format (Cf) and control (Cc) character.
3. Whitespace of any kind (NBSP, line breaks, ideographic space) and runs of it
   become one space, so names wrapped across lines still match.
4. Optionally (the *visual* view) confusables are folded to the Latin letter
   they look like: Cyrillic "О" in "Оperator", Greek "Ρ" in "ΡORTAL".
5. NFKD compatibility decomposition, combining marks dropped (Müller → Muller,
   José → Jose), casefold (ß → ss, final ς → σ), then anyascii transliteration
   of whatever is still not ASCII (Дмитрий → dmitriy, Ιωάννης → ioannis).

The transliterated view and the visual view differ only for look-alike letters:
Cyrillic "р" is "r" when a Russian word is transliterated but "p" when it was
planted in a Latin word. The matcher scans both views.

German spelling variants (ü ↔ ue, ß ↔ ss) are not folded in the text: "blue"
must stay "blue". Instead the matcher registers both spellings of every term;
`german_variants()` makes them.

This fold is a coarsening of the test oracle's `fold` (tests/oracle.py): two
strings equal under the oracle's fold are equal here too, modulo the German
variants, which the terms carry.
"""

from __future__ import annotations

import codecs
import html
import re
import unicodedata
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from anyascii import anyascii

# Default_Ignorable code points that are not Cf (category Cf is dropped anyway):
# combining grapheme joiner, Hangul fillers, Khmer inherent vowels, Mongolian
# vowel separator (Cf only in recent Unicode versions), variation selectors.
_INVISIBLE_EXTRA = frozenset(
    "\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180e\u180f\u3164\uffa0"
    + "".join(chr(c) for c in range(0xFE00, 0xFE10))
)

# Look-alikes of Latin letters (Unicode TR39 confusables, the part that matters
# for names and domains: Cyrillic, Greek, Armenian, Cherokee and Latin oddities).
_CONFUSABLE_PAIRS = (
    # Cyrillic capitals and small letters
    "АA ВB ЕE ЅS ІI ЈJ КK МM НH ОO РP СC ТT ХX УY ҮY ԚQ ԜW Һh ӀI ЁE Ԁd"
    " аa вb еe ѕs іi јj кk мm нh оo рp сc тt хx уy үy ԛq ԝw һh ӏl ёe ԁd ьb ɡg"
    # Greek
    " ΑA ΒB ΕE ΖZ ΗH ΙI ΚK ΜM ΝN ΟO ΡP ΤT ΥY ΧX Ϲc ϲc Ϳj ϳj οo νv ιi κk ρp υu αa τt χx"
    # Armenian, Cherokee, Latin look-alikes without a compatibility mapping
    " օo սu ցg հh ոn ԁd ᎪA ᏴB ᏟC ᎠD ᎬE ᎻH ᏆJ ᏦK ᏞL ᎷM ᏢP ᏒR ᏚS ᎢT ᏙV ᏔW"
    " ıi ȷj ɑa ɩi ʏy ᴀa ᴄc ᴅd ᴇe ᴊj ᴋk ᴍm ᴏo ᴘp ᴛt ᴜu ᴠv ᴡw ᴢz ſs"
)
CONFUSABLES: dict[str, str] = {pair[0]: pair[1] for pair in _CONFUSABLE_PAIRS.split()}

# Multi-character units that decode to something else. Each starts with one of
# `%&[({`, so the text is searched for those characters first (fast) and the
# full pattern is tried only there. A defanged "[.]" or "(at)" also swallows the
# whitespace around it ("alice (at) operator-a (dot) example").
_DECODABLE_START = re.compile(r"[%&\[({]")
_DECODABLE = re.compile(
    r"(?P<percent>%[0-9A-Fa-f]{2}(?:%[0-9A-Fa-f]{2})*)"
    r"|(?P<entity>&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});)"
    r"|(?P<dot>[\[({]\s*(?:\.|[dD][oO][tT])\s*[\])}])"
    r"|(?P<at>[\[({]\s*(?:@|[aA][tT])\s*[\])}])"
    r"|(?P<colon>[\[({]:[\])}])"
)
# Cyrillic soft and hard signs: anyascii writes them as an apostrophe, which
# would cut "Ольга" into two words; most romanisations drop them ("Olga").
_DROPPED_SIGNS = frozenset("ьъЬЪ")
_CONFUSABLE_CHARS = re.compile("[" + re.escape("".join(CONFUSABLES)) + "]")

# ASCII that needs none of the steps above: the fast path for terms, and runs
# of it (single spaces only) for texts. Excluded: % & ( [ { (start of decodable
# units) and control characters.
_PLAIN_ASCII = re.compile(r"[ -$'*-Z\\^-z|~]*")
_PLAIN_RUN = re.compile(r" ?[!-$')-Z\\\]^-z|}~]+(?: [!-$')-Z\\\]^-z|}~]+)*(?: (?! ))?")
_SPACE_RUN = re.compile(r" {2,}")


@dataclass(frozen=True, slots=True)
class Normalised:
    """A folded text and, per folded character, where it came from.

    Folded character `i` was produced by `original[starts[i]:ends[i]]`. Starts
    never decrease, so a folded span maps to one contiguous original span.
    The offsets are machine-integer arrays: as Python ints in tuples they took
    about 70 bytes per character (150 MB for a 2 MB attachment text), as
    arrays they take 16.
    """

    text: str
    starts: Sequence[int]
    ends: Sequence[int]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original range that produced folded characters [start, end)."""
        if not 0 <= start < end <= len(self.text):
            raise ValueError(f"empty or out-of-range span {start}:{end}")
        return self.starts[start], self.ends[end - 1]


def normalise(text: str, *, visual: bool = False) -> Normalised:
    """Fold `text` (module docstring, steps 1-5), keeping the offset map."""
    fold_one = _fold_char_visual if visual else _fold_char
    out: list[str] = []  # folded characters, or whole runs of plain ASCII
    starts = array("q")
    ends = array("q")
    last_is_space = False

    def emit(folded: str, start: int, end: int) -> None:
        nonlocal last_is_space
        for char in folded:
            if char == " " and last_is_space:
                ends[-1] = end  # a run of whitespace is one space
                continue
            out.append(char)
            starts.append(start)
            ends.append(end)
            last_is_space = char == " "

    def emit_stretch(start: int, end: int) -> None:
        # Plain ASCII (most of any mail) folds to its lower case, one character
        # for one; only the rest goes through the per-character fold.
        nonlocal last_is_space
        position = start
        for run in _PLAIN_RUN.finditer(text, start, end):
            for index in range(position, run.start()):
                emit(fold_one(text[index]), index, index + 1)
            run_start, run_end = run.span()
            if last_is_space and text[run_start] == " ":
                ends[-1] = run_start + 1
                run_start += 1
            if run_start < run_end:
                out.append(text[run_start:run_end].lower())
                starts.extend(range(run_start, run_end))
                ends.extend(range(run_start + 1, run_end + 1))
                last_is_space = text[run_end - 1] == " "
            position = run.end()
        for index in range(position, end):
            emit(fold_one(text[index]), index, index + 1)

    position = 0
    for candidate in _DECODABLE_START.finditer(text):
        if candidate.start() < position:
            continue
        unit = _DECODABLE.match(text, candidate.start())
        if unit is None:
            continue
        start, end = unit.span()
        if unit.lastgroup in ("dot", "at"):
            while start > position and text[start - 1].isspace():
                start -= 1
            while end < len(text) and text[end].isspace():
                end += 1
        emit_stretch(position, start)
        decoded = _decode_unit(unit, start, end)
        if decoded is None:
            emit_stretch(start, end)
        else:
            for char, char_start, char_end in decoded:
                emit(fold_one(char), char_start, char_end)
        position = end
    emit_stretch(position, len(text))
    return Normalised("".join(out), starts, ends)


@lru_cache(maxsize=262_144)
def fold(text: str) -> str:
    """The folded form of `text` without the offset map (for registry terms)."""
    if _PLAIN_ASCII.fullmatch(text):
        return _SPACE_RUN.sub(" ", text.lower())
    return normalise(text).text


def fold_visual(text: str) -> str:
    return normalise(text, visual=True).text


def has_confusables(text: str) -> bool:
    """Whether the visual view of `text` can differ from the transliterated one."""
    return not text.isascii() and _CONFUSABLE_CHARS.search(text) is not None


def german_variants(text: str) -> set[str]:
    """`text` with umlauts spelled out, and with spelled-out umlauts contracted.

    "Müller" → {"Müller", "Mueller", "Muller"}; "Mueller" → {"Mueller", "Muller"}. The
    contracted form skips "que"/"qua" ("Jacques", "Quentin") where "ue" is not an
    umlaut. ß needs nothing: casefold already makes it "ss".
    """
    variants = {text}
    expanded = text.translate(_UMLAUT_EXPANSION)
    variants.add(expanded)
    for candidate in (text, expanded):
        contracted = _SPELLED_UMLAUT.sub(lambda m: m.group(1)[0], candidate)
        variants.add(contracted)
    return variants


_UMLAUT_EXPANSION = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ẞ": "SS"}
)
_SPELLED_UMLAUT = re.compile(r"(?<![qQ])([aouAOU][eE])")

# Transliteration-tolerant form of one folded token, for names only: the common
# romanisations of one Cyrillic or Greek name ("Dmitry", "Dmitrii", "Dmitrij",
# "Dmitriy"; "Papadopoulos" / anyascii "Papadopoylos"; "Iwanow" / "Ivanov")
# reduce to the same skeleton. Order matters: longer clusters first.
_SKELETON_RULES = (
    ("shch", "sh"),
    ("tsch", "ch"),
    ("sch", "sh"),
    ("tch", "ch"),
    ("kh", "h"),
    ("ph", "f"),
    ("ck", "k"),
    ("ks", "x"),
    ("ou", "u"),
    ("oy", "u"),
    ("w", "v"),
    ("y", "i"),
    ("j", "i"),
)


@lru_cache(maxsize=65_536)
def skeleton(token: str) -> str:
    for old, new in _SKELETON_RULES:
        token = token.replace(old, new)
    collapsed: list[str] = []
    for char in token:
        if not collapsed or collapsed[-1] != char:
            collapsed.append(char)
    return "".join(collapsed)


@lru_cache(maxsize=65_536)
def _fold_char(char: str) -> str:
    if char.isspace():
        return " "
    category = unicodedata.category(char)
    if category in ("Cf", "Cc", "Cs") or char in _INVISIBLE_EXTRA or char in _DROPPED_SIGNS:
        return ""
    kept = "".join(
        c
        for c in unicodedata.normalize("NFKD", char)
        if not unicodedata.combining(c) and unicodedata.category(c) not in ("Mn", "Me")
    )
    folded = kept.casefold()
    if not folded.isascii():
        folded = anyascii(folded).casefold()
    return " " if folded.isspace() else folded


@lru_cache(maxsize=65_536)
def _fold_char_visual(char: str) -> str:
    return _fold_char(CONFUSABLES.get(char, char))


def _decode_unit(unit: re.Match[str], start: int, end: int) -> list[tuple[str, int, int]] | None:
    """Decoded characters of one unit, each with its original range; None to keep."""
    kind = unit.lastgroup
    if kind == "dot":
        return [(".", start, end)]
    if kind == "at":
        return [("@", start, end)]
    if kind == "colon":
        return [(":", start, end)]
    if kind == "entity":
        decoded = html.unescape(unit.group())
        if decoded == unit.group():
            return None
        return [(char, start, end) for char in decoded]
    return _decode_percent(unit.group(), start)


def _decode_percent(escaped: str, offset: int) -> list[tuple[str, int, int]] | None:
    """Percent escapes decoded as UTF-8, each character mapped to its own escapes."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    decoded: list[tuple[str, int, int]] = []
    char_start = offset
    try:
        for index in range(0, len(escaped), 3):
            chars = decoder.decode(bytes([int(escaped[index + 1 : index + 3], 16)]))
            if chars:
                for char in chars:
                    decoded.append((char, char_start, offset + index + 3))
                char_start = offset + index + 3
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return None
    if char_start != offset + len(escaped):
        return None
    if any(
        unicodedata.category(char) in ("Cc", "Cs") and not char.isspace() for char, _, _ in decoded
    ):
        return None
    return decoded
