"""Turning overlapping candidate findings into one set of replacements.

Overlaps resolve to the longest span (then the kind that says most about who
is meant); flags inside a redaction vanish with it; person hits that agree on
who is meant merge ("Jürgen" + "M." + "Müller" is one "[participant]"); and a
replacement swallows invisible characters glued to it. Every step costs time
linear in the text and the number of findings.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping
from itertools import accumulate

from filters.match_types import (
    KIND_RANK,
    PARTICIPANT,
    REPLACEMENT_BY_KIND,
    Finding,
    HitAction,
    HitKind,
)
from filters.normalise import normalise

_NAME_GLUE = re.compile(r"[\s.\-]{1,3}|\s*\w\.\s*|\s+\w\s+")


class Spans:
    """Disjoint-or-nested spans, asked whether they cover a range (binary search)."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        spans.sort()
        self._starts = [start for start, _ in spans]
        # reach[i]: the furthest end among spans[0..i], so nesting does not hide one.
        self._reach = list(accumulate((end for _, end in spans), max))

    def covers(self, start: int, end: int) -> bool:
        index = bisect.bisect_right(self._starts, start) - 1
        return index >= 0 and self._reach[index] >= end


def redaction_rank(finding: Finding) -> tuple[int, int, int]:
    """Longest first; among equals the kind that says most; then leftmost."""
    kind_rank = KIND_RANK[finding.kind] if finding.kind is not None else 7
    return -finding.length, -kind_rank, finding.start


def non_overlapping(ranked: Iterable[Finding], length: int) -> list[Finding]:
    """Greedy by rank; returns the kept findings sorted by start.

    Taken characters are marked in a bytearray, so checking and marking cost
    the span's length in C, whatever the number of findings (an IOC list can
    hold tens of thousands).
    """
    taken = bytearray(length)
    kept: list[Finding] = []
    for finding in ranked:
        if taken.find(1, finding.start, finding.end) >= 0:
            continue
        taken[finding.start : finding.end] = b"\x01" * (finding.end - finding.start)
        kept.append(finding)
    kept.sort(key=lambda finding: finding.start)
    return kept


def merge_adjacent_names(text: str, findings: list[Finding]) -> list[Finding]:
    """Join "Jürgen" + "M." + "Müller" into one replacement when they agree on who.

    Two person hits are joined when only a little punctuation or one initial
    separates them and some member is named by both; "Alice, Bob" stays two.
    """
    merged: list[Finding] = []
    for finding in findings:
        previous = merged[-1] if merged else None
        if (
            previous is not None
            and previous.kind is HitKind.PERSON
            and finding.kind is HitKind.PERSON
            and _NAME_GLUE.fullmatch(text, previous.end, finding.start)
        ):
            common = previous.keys & finding.keys
            if common:
                merged[-1] = Finding(
                    previous.start,
                    finding.end,
                    HitAction.REDACT,
                    HitKind.PERSON,
                    common,
                    oracle_term=True,
                )
                continue
        merged.append(finding)
    return merged


def swallow_invisibles(text: str, redactions: list[Finding]) -> None:
    """Widen replacements over invisible characters glued to them: a bidi
    isolate or zero-width space around a name has no reason to survive it."""
    for index, finding in enumerate(redactions):
        floor = redactions[index - 1].end if index else 0
        ceiling = redactions[index + 1].start if index + 1 < len(redactions) else len(text)
        while finding.start > floor and _is_invisible(text[finding.start - 1]):
            finding.start -= 1
        while finding.end < ceiling and _is_invisible(text[finding.end]):
            finding.end += 1


def _is_invisible(char: str) -> bool:
    return not char.isspace() and normalise(char).text == ""


def single(keys: frozenset[str]) -> str | None:
    return next(iter(keys)) if len(keys) == 1 else None


def replacement(finding: Finding, participants: Mapping[str, str]) -> str:
    if finding.replacement is not None:
        return finding.replacement
    if finding.kind in (HitKind.PERSON, HitKind.ADDRESS):
        key = single(finding.keys)
        return participants.get(key, PARTICIPANT) if key else PARTICIPANT
    assert finding.kind is not None
    return REPLACEMENT_BY_KIND[finding.kind]


def apply(text: str, replacements: Iterable[tuple[int, int, str]]) -> str:
    pieces: list[str] = []
    position = 0
    for start, end, new_text in sorted(replacements):
        pieces.append(text[position:start])
        pieces.append(new_text)
        position = end
    pieces.append(text[position:])
    return "".join(pieces)
