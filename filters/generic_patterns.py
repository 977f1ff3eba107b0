"""Structured patterns on top of the registry: addresses, hosts, IPs, ASNs, key ids.

CHATHAM_HOUSE.md decision 3: a generic hit that belongs to a member (their
address, a host under their domain, an IP in their prefix, their ASN or key
fingerprint) is a registry hit and is redacted; any other is kept, because it
may be an indicator of compromise, and flagged for the moderator. Phone
numbers have their own module (`filters.phone_patterns`).

Every pattern runs on the folded text and is tried only where a cheap anchor
says it can start (an "@", a dot before a letter, a dot between digits, a
colon, the letters "as", a hex word), each anchor once: letting Python's `re`
try every position of a 4 KB text costs about half a millisecond per pattern,
and a scan that went back over text already read would not be linear.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator

from filters.flags import FlagKind
from filters.match_types import Finding, HitAction, HitKind, kept_and_flagged
from filters.normalise import Normalised
from filters.registry_terms import CompiledRegistry, parse_address, parse_network
from filters.term_scan import TextTokens

_EMAIL = re.compile(
    r"([a-z0-9](?:[a-z0-9._%+\-]*[a-z0-9_%+\-])?)@"
    r"((?:[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?\.)+[a-z0-9\-]{2,63})(?![a-z0-9\-])"
)
_EMAIL_LOCAL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._%+-")
_HOST = re.compile(
    r"((?:[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9\-]+))"
    r"(?![a-z0-9\-])(?::\d{1,5})?(/[^\s<>\"'`]*)?"
)
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-")
_DOT_BEFORE_LETTER = re.compile(r"\.(?=[a-z])")
_MAX_HOST_LENGTH = 253  # RFC 1035 §2.3.4, in its written (dotted) form
_IPV4 = re.compile(r"(\d{1,3}(?:\.\d{1,3}){3})(?:/(\d{1,2}))?(?![\w]|\.\d)")
_IPV6 = re.compile(
    r"((?=[0-9a-f:.]*[0-9a-f])[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}"
    r"(?:(?<=:)\d{1,3}(?:\.\d{1,3}){3})?)(?:/(\d{1,3}))?(?![\w:])"
)
_IPV6_CHARS = frozenset("0123456789abcdef:")
_ASN = re.compile(r"as(n?)[ \-]?(\d{1,10})(?!\w)")
_HEX_OR_X = "0123456789abcdefx"  # "0x" may prefix a key id


def email_findings(
    compiled: CompiledRegistry, view: Normalised, terms: list[Finding]
) -> Iterator[Finding]:
    """Member addresses (redacted) and other addresses (flagged).

    An address whose local part holds a registry term ("j.mueller@x.example")
    names that member too; `terms` are the term findings of the same view.
    """
    folded = view.text
    terms = sorted(terms, key=lambda term: term.start)
    term_starts = [term.start for term in terms]
    position = 0
    at = folded.find("@")
    while at >= 0:
        local_start = extend_left(folded, at, _EMAIL_LOCAL_CHARS, position, 64)
        while local_start < at and not folded[local_start].isalnum():
            local_start += 1
        match = _EMAIL.match(folded, local_start) if local_start < at else None
        at = folded.find("@", at + 1)
        if match is None:
            continue
        position = match.end()
        local, domain = match.group(1), match.group(2)
        start, end = view.original_span(*match.span())
        local_end = view.original_span(*match.span(1))[1]
        keys = compiled.member_address(local, domain)
        if keys is None:
            for term in terms[bisect.bisect_left(term_starts, start) :]:
                if term.start >= local_end:
                    break
                if term.end <= local_end and term.oracle_term:
                    keys = term.keys
                    break
        if keys is not None:
            yield Finding(start, end, HitAction.REDACT, HitKind.ADDRESS, keys, oracle_term=True)
        else:
            yield kept_and_flagged(start, end, FlagKind.NON_MEMBER_ADDRESS)


def host_findings(compiled: CompiledRegistry, view: Normalised) -> Iterator[Finding]:
    """Host names under a member domain, with the path after them.

    A host is tried once per run of host characters ("portal.soc.operator-a.example"),
    from the run's start, however many dots the run holds: each character is
    read a bounded number of times, so a run of "a.a.a.a…" costs its length once.
    """
    folded = view.text
    position = 0  # end of the last host found
    previous_dot = 0
    run_start = 0  # start of the run of host characters around the current dot
    failed_start = -1  # a run start already tried without finding a host
    for anchor in _DOT_BEFORE_LETTER.finditer(folded):
        dot = anchor.start()
        if dot < position:
            continue
        floor = max(position, previous_dot)
        start = extend_left(folded, dot, _HOST_CHARS, floor, dot - floor)
        if start > floor or floor != previous_dot:
            run_start = start  # a new run (else it goes on from the previous dot)
        run_start = max(run_start, position)
        previous_dot = dot
        host_start = run_start
        while host_start < dot and not folded[host_start].isalnum():
            host_start += 1
        if host_start == failed_start or dot - host_start > _MAX_HOST_LENGTH:
            continue
        if host_start > 0 and folded[host_start - 1] == "@":
            continue  # the domain of an e-mail address, which has its own finding
        match = _HOST.match(folded, host_start)
        if match is None:
            failed_start = host_start
            continue
        position = match.end()
        keys = compiled.member_domain(match.group(1))
        if keys is None:
            continue
        end = match.end()
        while end > match.start() and folded[end - 1] in ".,;:!?)]}'\"":
            end -= 1
        start, end = view.original_span(match.start(), end)
        yield Finding(start, end, HitAction.REDACT, HitKind.DOMAIN, keys, oracle_term=True)


def ip_findings(compiled: CompiledRegistry, view: Normalised) -> Iterator[Finding]:
    """Addresses and prefixes inside a member's prefix (redacted), others (flagged)."""
    for match in _ip_matches(view.text):
        address = parse_address(match.group(1))
        if address is None:
            continue
        keys = compiled.member_ip(address)
        if keys is None and match.group(2):
            network = parse_network(match.group(0))
            if network is not None:
                keys = compiled.member_ip(network.network_address)
                if keys is not None and compiled.member_ip(network.broadcast_address) is None:
                    keys = None  # a wider block than the member's: flag, do not redact
        start, end = view.original_span(*match.span())
        if keys is not None:
            yield Finding(start, end, HitAction.REDACT, HitKind.ALIAS, keys, oracle_term=True)
        else:
            yield kept_and_flagged(start, end, FlagKind.IP_ADDRESS)


def asn_findings(compiled: CompiledRegistry, text: str, view: Normalised) -> Iterator[Finding]:
    """ "AS64500", "ASN 64500", "AS-64500": a member's (redacted) or another (flagged)."""
    folded = view.text
    for match in _ASN.finditer(folded):
        if match.start() > 0 and (
            folded[match.start() - 1].isalnum() or folded[match.start() - 1] == "_"
        ):
            continue
        number = int(match.group(2))
        if not 0 < number < 2**32:
            continue
        prefix_start, prefix_end = view.original_span(match.start(), match.start(2))
        prefix = text[prefix_start:prefix_end].strip(" -")
        glued = match.end(1) == match.start(2)  # "as64500", no space or dash
        if not match.group(1) and not glued and not prefix.isupper():
            continue  # "as 2024 ends": an English word, not an ASN
        start, end = view.original_span(*match.span())
        keys = compiled.asns.get(number)
        if keys is not None:
            yield Finding(start, end, HitAction.REDACT, HitKind.ALIAS, keys, oracle_term=True)
        else:
            yield kept_and_flagged(start, end, FlagKind.ASN)


def fingerprint_findings(
    compiled: CompiledRegistry, view: Normalised, tokens: TextTokens
) -> Iterator[Finding]:
    """Registered key fingerprints and key ids, written in groups or in one piece."""
    fingerprints = compiled.fingerprints
    if not fingerprints:
        return
    words = tokens.words
    hexes = {
        index: word[2:] if word[:2] == "0x" else word
        for index, word in enumerate(words)
        if len(word) >= 4 and not word.strip(_HEX_OR_X) and word.find("x", 2) < 0
    }
    for first in hexes:
        joined = ""
        for last in range(first, len(words)):
            if last not in hexes or (last > first and tokens.separator(last - 1) not in (" ", ":")):
                break
            joined += hexes[last]
            if len(joined) > 64:
                break
            keys = fingerprints.get(joined)
            if keys is not None:
                start, end = view.original_span(tokens.starts[first], tokens.ends[last])
                yield Finding(start, end, HitAction.REDACT, HitKind.ALIAS, keys, oracle_term=True)


def extend_left(text: str, index: int, allowed: frozenset[str], floor: int, limit: int) -> int:
    """The smallest start <= index such that text[start:index] is all `allowed`."""
    start = index
    bound = max(floor, index - limit)
    while start > bound and text[start - 1] in allowed:
        start -= 1
    return start


def _ip_matches(folded: str) -> Iterator[re.Match[str]]:
    """IPv4 (anchored on "digit.digit") and IPv6 (anchored on ":") matches."""
    position = 0
    dot = folded.find(".")
    while dot >= 0:
        if (
            dot >= position
            and 0 < dot < len(folded) - 1
            and folded[dot - 1].isdigit()
            and folded[dot + 1].isdigit()
        ):
            start = dot
            while start > 0 and folded[start - 1].isdigit() and dot - start < 3:
                start -= 1
            if start == 0 or not (folded[start - 1].isalnum() or folded[start - 1] in "_."):
                match = _IPV4.match(folded, start)
                if match is not None:
                    position = match.end()
                    yield match
        dot = folded.find(".", dot + 1)
    position = 0
    colon = folded.find(":")
    while colon >= 0:
        if colon >= position:
            start = extend_left(folded, colon, _IPV6_CHARS, position, 40)
            if start == 0 or not (folded[start - 1].isalnum() or folded[start - 1] in "_:."):
                match = _IPV6.match(folded, start)
                if match is not None and match.end() > colon:
                    position = match.end()
                    yield match
        colon = folded.find(":", colon + 1)
