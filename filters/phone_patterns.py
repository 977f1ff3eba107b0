"""Phone numbers in text (CHATHAM_HOUSE.md §6 case 56): always replaced by "[phone]".

A phone number in a post is almost never an indicator of compromise and
almost always someone's direct line, so every number is redacted; a number a
member registered as an alias is a registry hit (and counts for attachments).

Candidates are runs of digits with phone punctuation, found on the folded text
with one linear regex scan. Dates, versions, IPv4 addresses, year ranges and
thousands are refused before `phonenumbers` is asked, and a run glued to a
word, a path or an IP ("CVE-2024-12345", "10.0.0.1", "host:8443") is no phone,
unless a member registered exactly these digits.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING

import phonenumbers

from filters.match_types import Finding, HitAction, HitKind
from filters.normalise import Normalised

if TYPE_CHECKING:
    from filters.registry_terms import CompiledRegistry

# Phone numbers are matched with these regions' national formats; numbers with
# an international prefix (+CC or 00CC) are matched whatever their country.
PHONE_REGIONS = ("DE", "FR", "IT", "ES", "NL", "PT", "GB", "AT", "CH", "BE", "PL", "GR", "US")
# National numbers start with the trunk prefix 0 in these (Italian landlines
# keep the 0 as part of the number); in the others they never do. Trying only
# the regions a number can belong to halves the cost of a digit run.
_TRUNK_ZERO_REGIONS = ("DE", "FR", "IT", "NL", "GB", "AT", "CH", "BE")
_NO_TRUNK_REGIONS = ("IT", "ES", "PT", "GR", "PL", "US")

_DIGIT_RUN = re.compile(r"\d[\d ()./\-]{5,}\d")
_PHONE_LABEL = re.compile(
    r"\b(?:tel|phone|fon|mobil|mobile|cell|fax|gsm|handy|telefon|telefono|telephone|"
    r"telefoon|telemovel|tlf|tfn|ph|mob|m|t|f|p)\s*[.:]?\s*(?:\(\w+\)\s*)?$"
)
_NOT_A_PHONE = (
    re.compile(r"\d{1,4}([./\-])\d{1,2}\1\d{1,4}"),  # dates 03.09.2024, 2024-09-03, 3/9/24
    re.compile(r"[1-9]\d*(?:\.\d+){2,}"),  # versions and IPv4 (French "01.23…" starts with 0)
    re.compile(r"\d{4}\s?[\-/]\s?\d{4}"),  # year ranges 2019-2024
    re.compile(r"\d{1,3}(?:\.\d{3}){2,}"),  # thousands 1.234.567
)
_DATE_OR_TIME = re.compile(r"(?<!\d)\d{1,4}([./\-])\d{1,2}\1\d{1,4}(?!\d)")


def phone_findings(
    compiled: CompiledRegistry, text: str, view: Normalised, *, registered_only: bool
) -> Iterator[Finding]:
    """Phone numbers in `view`; with `registered_only`, members' numbers only
    (compared digit for digit, no parsing: the cheap scan for long texts)."""
    folded = view.text
    phones = compiled.phones
    for run in _DIGIT_RUN.finditer(folded):
        start, end = run.span()
        # A leading "+" belongs to the number; "(" only when the number closes it.
        while start > 0 and (
            folded[start - 1] == "+" or (folded[start - 1] == "(" and ")" in run.group())
        ):
            start -= 1
        labelled = bool(_PHONE_LABEL.search(folded, max(0, start - 16), start))
        before = folded[start - 1] if start else " "
        after = folded[end : end + 2]
        glued = (
            folded[start] != "+"
            and (before.isalnum() or before in "_.+/@#=-" or (before == ":" and not labelled))
        ) or (
            after[:1].isalnum() or (len(after) == 2 and after[0] in ".:/-" and after[1].isdigit())
        )
        if glued and not compiled.phone_nationals:
            continue
        for segment_start, segment in _phone_pieces(text, view, start, end):
            # Registered digits go whatever surrounds them (the oracle's rule).
            keys = _registered_phone(compiled, segment) if compiled.phone_nationals else None
            if keys is not None:
                span = view.original_span(segment_start, segment_start + len(segment))
                yield Finding(*span, HitAction.REDACT, HitKind.PHONE, keys, oracle_term=True)
            if registered_only or glued:
                continue
            for offset, length, e164 in _phone_numbers(segment, labelled):
                span = view.original_span(segment_start + offset, segment_start + offset + length)
                keys = phones.get(e164, frozenset())
                yield Finding(*span, HitAction.REDACT, HitKind.PHONE, keys, oracle_term=bool(keys))


def phone_forms(text: str) -> set[tuple[str, str]]:
    """(E.164, national significant number) of a registered phone number."""
    forms: set[tuple[str, str]] = set()
    candidate = "+" + text.strip()[2:] if text.strip().startswith("00") else text.strip()
    for region in ("ZZ", *PHONE_REGIONS) if not candidate.startswith("+") else ("ZZ",):
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        forms.add(
            (
                phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
                phonenumbers.national_significant_number(number),
            )
        )
    return forms


def _registered_phone(compiled: CompiledRegistry, segment: str) -> frozenset[str] | None:
    """Keys of a registered number whose digits occur in `segment` (no parsing)."""
    digits = re.sub(r"\D", "", segment)
    national = compiled.phone_nationals
    for length in compiled.phone_national_lengths:
        for start in range(len(digits) - length + 1):
            keys = national.get(digits[start : start + length])
            if keys is not None:
                return keys
    return None


@lru_cache(maxsize=4096)
def _phone_numbers(candidate: str, labelled: bool) -> tuple[tuple[int, int, str], ...]:
    """(offset, length, E.164) of the phone numbers inside one digit run.

    International forms (+CC, 00CC) are accepted when possible for their
    country; national forms must be valid in one of PHONE_REGIONS. Dates,
    versions, IPv4 addresses, year ranges and thousands are never phones, and a
    bare digit run (no +, no trunk 0, no separators) only next to a phone label.
    """
    international = candidate.startswith(("+", "00"))
    if not international:
        # Cheap refusals before phonenumbers tries thirteen regions: dates,
        # versions and the like, and bare digit runs nobody labelled a phone.
        if any(pattern.fullmatch(candidate.strip("() ")) for pattern in _NOT_A_PHONE):
            return ()
        if not labelled and candidate[0] not in "0(" and not re.search(r"\d[ ./\-]\d", candidate):
            return ()
    text = "+" + candidate[2:] if candidate.startswith("00") else candidate
    shift = 1 if candidate.startswith("00") else 0
    found: dict[int, tuple[int, int, str]] = {}
    if international:
        regions: tuple[str, ...] = ("ZZ",)
    elif candidate.lstrip("(")[:1] == "0":
        regions = _TRUNK_ZERO_REGIONS
    else:
        regions = _NO_TRUNK_REGIONS
    leniency = phonenumbers.Leniency.POSSIBLE if international else phonenumbers.Leniency.VALID
    digits_total = sum(char.isdigit() for char in candidate)
    covered = 0
    for region in regions:
        for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=leniency):
            raw = match.raw_string
            start = match.start + (shift if match.start > 0 else 0)
            length = match.end - match.start + (shift if match.start == 0 else 0)
            if any(start < s + n and s < start + length for s, n, _ in found.values()):
                continue
            if not _plausible_phone(raw, labelled):
                continue
            e164 = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
            found[start] = (start, length, e164)
            covered += sum(char.isdigit() for char in raw)
        if covered >= digits_total:
            break
    return tuple(sorted(found.values()))


def _phone_pieces(text: str, view: Normalised, start: int, end: int) -> Iterator[tuple[int, str]]:
    """Pieces of the folded digit run [start, end) that may hold a phone number.

    A number is not wrapped across lines (a line break between digits ends a
    field of a table or a log line), and dates are cut out.
    """
    folded = view.text
    position = start
    space = folded.find(" ", start, end)
    while space >= 0:
        original_start, original_end = view.original_span(space, space + 1)
        if "\n" in text[original_start:original_end]:
            for offset, piece in _without_dates(folded[position:space]):
                yield position + offset, piece
            position = space + 1
        space = folded.find(" ", space + 1, end)
    for offset, piece in _without_dates(folded[position:end]):
        yield position + offset, piece


def _without_dates(run: str) -> Iterator[tuple[int, str]]:
    """The pieces of a digit run between dates, each with its offset in the run.

    "2024-09-03 10" holds no phone; "03.09.2024 030 1234567" holds one after
    the date. Pieces too short to be a number are left out.
    """
    position = 0
    for date in _DATE_OR_TIME.finditer(run):
        yield from _digit_piece(run, position, date.start())
        position = date.end()
    yield from _digit_piece(run, position, len(run))


def _digit_piece(run: str, start: int, end: int) -> Iterator[tuple[int, str]]:
    piece = run[start:end]
    stripped = piece.strip(" ./-")
    if sum(char.isdigit() for char in stripped) >= 7:
        yield start + piece.index(stripped), stripped


def _plausible_phone(raw: str, labelled: bool) -> bool:
    if sum(char.isdigit() for char in raw) < 7:
        return False
    if any(pattern.fullmatch(raw.strip("() ")) for pattern in _NOT_A_PHONE):
        return False
    formatted = raw[0] in "+0(" or re.search(r"\d[ ./\-]\d", raw) is not None
    return formatted or labelled
