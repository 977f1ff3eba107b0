"""Registry matching: find every known identity in a text (CHATHAM_HOUSE.md §5.1).

`RegistryMatcher.compile(registry)` turns every member's names, addresses,
organisation, organisation domains and aliases into *terms*, once (the server
caches the matcher per registry version). `find()` reports where they occur in
a text, `redact()` replaces them, and generic patterns come on top (decision 3):
phone numbers are always replaced; other e-mail addresses, URLs, IP addresses
and ASNs are registry hits only when they belong to a member, and are otherwise
kept, because they may be indicators of compromise, and flagged.

How a text is searched (all offsets end up in the ORIGINAL text):

1. URLs are found in the original text (`filters.url_unwrap`). Gateway wrappers
   are undone, so the recipient and tenant id inside Safe Links disappear; a
   URL under a member domain (or on a member IP prefix) becomes
   "[member organisation link]" whole, because its path identifies too; a
   `mailto:` of a member becomes the participant replacement.
2. The text is folded (`filters.normalise`): decoded, invisible characters
   dropped, whitespace collapsed, diacritics removed, case folded, other
   scripts transliterated. A second, *visual* fold maps look-alike letters
   (Cyrillic "О" in "Оperator") when the text has any.
3. The folded text is cut into word tokens and the token tries of all terms
   are walked (`filters.term_scan`; the terms come from
   `filters.registry_terms`).
4. Structured patterns run on the folded text: e-mail addresses, host names,
   IPv4/IPv6 addresses and prefixes, ASNs, PGP fingerprints
   (`filters.generic_patterns`), phone numbers (`filters.phone_patterns`).
5. Overlaps resolve to the longest span; flags inside a redaction vanish with
   it; person hits that agree on who is meant merge ("Jürgen M. Müller")
   (`filters.match_resolution`).
6. `redact()` repeats this until the text no longer changes (two passes when
   anything was replaced), so redacting its result again changes nothing.

Every step is linear in the length of the text. Compiling 10,000 identities
takes two to three seconds of CPU on the (slow, shared) development machine;
a 4 KB mail takes 1 ms without hits and about 5 ms with a dozen (two passes).

Policy for ambiguous terms (the oracle in tests/oracle.py counts name parts of
4+ letters, addresses, local parts, organisations, domains and aliases as terms
that must never survive):

- full names, surnames, initials with a surname ("J. Müller", "Müller, J.",
  "jmueller"), addresses, organisations, domains and aliases are redacted in
  any case; initials alone ("J.", "J. M.") are never a term;
- a registered first name alone is redacted when written capitalised (Title or
  UPPER case) and flagged (FIRST_NAME) in lower case or when shorter than 4
  letters (those collide with ordinary words: "mark", "bob", "ana");
- an organisation short form of up to 3 characters ("BT") is redacted only when
  written in upper case as a whole word, and flagged (ACRONYM) otherwise;
- a surname of up to 3 letters ("Li") is redacted only when capitalised;
- a role local part ("soc@", "abuse@", "info@") is no term on its own; the
  whole address still is;
- aliases are classified first (`filters.alias_kinds`): an organisation form
  ("Operator A", "OPA") is matched as the whole phrase like the organisation
  and becomes "[member organisation]" (never a first name: "the operator said"
  stays); a nickname ("Hansi") is redacted as a whole word in any case, a
  transliterated name ("Dmitry Ivanov") gets the name's surname forms; a
  technical id becomes "[redacted]".

The oracle counts the flagged forms (a lower-case "alice", a whole organisation
name "BT" in lower case) as leaks: those texts go to a moderator by their flag.

Replacements never contain a term and are never matched themselves (they are
masked before scanning), so redacting twice changes nothing.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator, Mapping
from typing import Literal
from urllib.parse import unquote

from filters.flags import Flag, FlagKind
from filters.generic_patterns import (
    asn_findings,
    email_findings,
    fingerprint_findings,
    host_findings,
    ip_findings,
)
from filters.identities import Registry
from filters.match_resolution import (
    Spans,
    apply,
    merge_adjacent_names,
    non_overlapping,
    redaction_rank,
    replacement,
    single,
    swallow_invisibles,
)
from filters.match_types import (
    LINK_REMOVED,
    MEMBER_LINK,
    MEMBER_ORGANISATION,
    PARTICIPANT,
    PHONE,
    PLACEHOLDERS,
    REDACTED_ALIAS,
    Finding,
    Hit,
    HitAction,
    HitKind,
    Redacted,
    kept_and_flagged,
)
from filters.normalise import fold, has_confusables, normalise
from filters.phone_patterns import PHONE_REGIONS, phone_findings
from filters.registry_terms import CompiledRegistry, compile_registry
from filters.term_scan import TextTokens, term_findings
from filters.url_unwrap import find_urls, unwrap

__all__ = [
    "LINK_REMOVED",
    "MEMBER_LINK",
    "MEMBER_ORGANISATION",
    "PARTICIPANT",
    "PHONE",
    "PHONE_REGIONS",
    "REDACTED_ALIAS",
    "Hit",
    "HitAction",
    "HitKind",
    "Redacted",
    "RegistryMatcher",
]

_PhoneScan = Literal["all", "registered", "none"]
_MAX_PASSES = 4  # replacements only remove text, so this converges in two in practice


class RegistryMatcher:
    """A registry compiled once for fast, repeated matching (immutable)."""

    __slots__ = ("_compiled",)

    def __init__(self, compiled: CompiledRegistry) -> None:
        self._compiled = compiled

    @classmethod
    def compile(cls, registry: Registry) -> RegistryMatcher:
        return cls(compile_registry(registry))

    # -- public API ---------------------------------------------------------

    def find(self, text: str) -> list[Hit]:
        """Registry hits and phone numbers in `text`, in order, not overlapping."""
        selected, flags = self._select(text, with_rewrites=False)
        return [
            Hit(f.start, f.end, f.kind, f.action, single(f.keys))
            for f in sorted(selected + flags, key=lambda f: f.start)
            if f.kind is not None
        ]

    def identities_in(self, text: str) -> list[str]:
        """Keys of the members named in `text`, in order of first appearance."""
        keys: dict[str, None] = {}
        for hit in self.find(text):
            if hit.kind in (HitKind.PERSON, HitKind.ADDRESS) and hit.identity_key:
                keys.setdefault(hit.identity_key, None)
        return list(keys)

    def redact(self, text: str, participants: Mapping[str, str], where: str = "body") -> Redacted:
        """`text` with every registry term and phone number replaced, and the flags.

        Redaction runs until the text no longer changes, so redacting the result
        again is guaranteed to change nothing: a replacement can expose what was
        glued to the cut-out part ("…/x+49 30 1234567" after a link). The flags
        come from the last pass, so they describe what the redacted text keeps
        and "characters i-j" positions are offsets into the redacted text.
        """
        current = text
        for _ in range(_MAX_PASSES):
            redacted, flags = self._redact(current, participants, where, depth=0)
            if redacted == current:
                break
            current = redacted
        return Redacted(current, flags)

    def contains_registry_term(self, text: str) -> bool:
        """Whether `text` names any member, organisation or member infrastructure.

        Meant for long texts (attachment content): phone numbers count only when
        registered, and are compared digit for digit instead of being parsed.
        """
        phones: _PhoneScan = "registered" if self._compiled.phones else "none"
        selected, flags = self._select(text, with_rewrites=False, phones=phones)
        return any(f.oracle_term for f in selected + flags)

    # -- redaction ----------------------------------------------------------

    def _redact(
        self, text: str, participants: Mapping[str, str], where: str, depth: int
    ) -> tuple[str, tuple[Flag, ...]]:
        selected, flag_findings = self._select(text, with_rewrites=True, participants=participants)
        replacements: list[tuple[int, int, str]] = []
        flags: list[tuple[int, Flag]] = []
        for finding in selected:
            if finding.inner_url is not None:
                inner_text, inner_flags = (
                    self._redact(finding.inner_url, participants, where, depth + 1)
                    if depth < 3
                    else (LINK_REMOVED, ())
                )
                replacements.append((finding.start, finding.end, inner_text))
                flags.extend((finding.start, flag) for flag in inner_flags)
            else:
                replacements.append(
                    (finding.start, finding.end, replacement(finding, participants))
                )
        redacted = apply(text, replacements)
        replacement_starts = [start for start, _, _ in replacements]
        for finding in flag_findings:
            assert finding.flag_kind is not None
            if finding.flag_detail_is_text:
                first = bisect.bisect_left(replacement_starts, finding.start)
                inside = []
                for s, e, r in replacements[first:]:
                    if s >= finding.end:
                        break
                    if e <= finding.end:
                        inside.append((s - finding.start, e - finding.start, r))
                detail = apply(text[finding.start : finding.end], inside)
            else:
                detail = f"characters {finding.start}-{finding.end}"
            flags.append((finding.start, Flag(finding.flag_kind, detail, where)))
        unique: dict[tuple[FlagKind, str], Flag] = {}
        for _, flag in sorted(flags, key=lambda item: item[0]):
            flag = Flag(flag.kind, flag.detail, where)
            unique.setdefault((flag.kind, flag.detail), flag)
        return redacted, tuple(unique.values())

    def _select(
        self,
        text: str,
        *,
        with_rewrites: bool,
        participants: Mapping[str, str] | None = None,
        phones: _PhoneScan = "all",
    ) -> tuple[list[Finding], list[Finding]]:
        """Resolve overlaps: (redactions, flags), neither overlapping itself."""
        masks = [m.span() for m in PLACEHOLDERS.finditer(text)]
        for label in (participants or {}).values():
            if label:
                masks.extend(m.span() for m in re.finditer(re.escape(label), text))
        masked = Spans(masks)
        findings = [
            f
            for f in self._findings(text, phones=phones)
            if (with_rewrites or f.kind is not None or f.action is HitAction.FLAG)
            and not masked.covers(f.start, f.end)
        ]
        redactions = non_overlapping(
            sorted((f for f in findings if f.action is HitAction.REDACT), key=redaction_rank),
            len(text),
        )
        redactions = merge_adjacent_names(text, redactions)
        swallow_invisibles(text, redactions)
        redacted = Spans([(f.start, f.end) for f in redactions])
        flags: list[Finding] = []
        reach = -1  # the furthest end of a kept flag starting at or before this one
        for finding in sorted(
            (f for f in findings if f.action is HitAction.FLAG), key=lambda f: (f.start, -f.end)
        ):
            if redacted.covers(finding.start, finding.end):
                continue  # gone with the redaction around it
            if reach >= finding.end:
                continue  # inside a larger flag ("alice" inside an attacker's address)
            flags.append(finding)
            reach = max(reach, finding.end)
        return redactions, flags

    # -- finding candidates -------------------------------------------------

    def _findings(self, text: str, *, phones: _PhoneScan = "all") -> list[Finding]:
        compiled = self._compiled
        findings = list(self._url_findings(text))
        views = [normalise(text)]
        if has_confusables(text):
            visual = normalise(text, visual=True)
            if visual.text != views[0].text:
                views.append(visual)
        for index, view in enumerate(views):
            tokens = TextTokens.of(view.text)
            terms = list(term_findings(compiled, text, view, tokens))
            findings.extend(terms)
            findings.extend(email_findings(compiled, view, terms))
            findings.extend(host_findings(compiled, view))
            if index == 0:
                findings.extend(ip_findings(compiled, view))
                findings.extend(asn_findings(compiled, text, view))
                findings.extend(fingerprint_findings(compiled, view, tokens))
                if phones != "none":
                    findings.extend(
                        phone_findings(compiled, text, view, registered_only=phones == "registered")
                    )
        return findings

    def _url_findings(self, text: str) -> Iterator[Finding]:
        for span in find_urls(text):
            url = span.url
            if url[:7].lower() == "mailto:":
                keys = self._mailto_member(url)
                if keys is not None:
                    yield Finding(
                        span.start,
                        span.end,
                        HitAction.REDACT,
                        HitKind.ADDRESS,
                        keys,
                        oracle_term=True,
                    )
                continue
            target = unwrap(url)
            if target.status == "removed":
                yield Finding(
                    span.start, span.end, HitAction.REDACT, None, replacement=LINK_REMOVED
                )
                continue
            member = self._compiled.member_url(target.url)
            if member is not None:
                yield Finding(
                    span.start, span.end, HitAction.REDACT, HitKind.DOMAIN, member, oracle_term=True
                )
            elif target.status == "unwrapped":
                yield Finding(span.start, span.end, HitAction.REDACT, None, inner_url=target.url)
            else:
                yield kept_and_flagged(span.start, span.end, FlagKind.NON_MEMBER_URL)

    def _mailto_member(self, url: str) -> frozenset[str] | None:
        """Keys when a mailto: URI names a member (empty: a member we cannot name)."""
        recipients = unquote(url[7:].split("?", 1)[0])
        for recipient in recipients.split(","):
            local, at, domain = fold(recipient.strip()).rpartition("@")
            if not at:
                continue
            keys = self._compiled.member_address(local, domain)
            if keys is not None:
                return keys
            # A registry term in the local part names the owner ("j.mueller@x").
            for finding in term_findings(self._compiled, local, normalise(local)):
                if finding.action is HitAction.REDACT or finding.oracle_term:
                    return finding.keys
        return None
