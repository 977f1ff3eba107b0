"""The archive form's Subject: prefixes, tags, TLP labels, registry (filters/subject.py)."""

from __future__ import annotations

import pytest

from filters.identities import Identity, Registry
from filters.matching import RegistryMatcher
from filters.subject import NO_SUBJECT, archive_subject, normalise_subject

REGISTRY = Registry(
    (
        Identity(
            key="jurgen",
            names=("Jürgen Müller",),
            addresses=("jm@betreiber-b.example",),
            organisation="Betreiber B",
            org_domains=("betreiber-b.example",),
        ),
        Identity(
            key="alice",
            names=("Alice Müller",),
            addresses=("alice@operator-a.example",),
            organisation="Operator A GmbH",
            org_domains=("operator-a.example",),
        ),
    )
)


@pytest.fixture(scope="module")
def matcher() -> RegistryMatcher:
    return RegistryMatcher.compile(REGISTRY)


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Re: Scans", "Re: Scans"),
        ("RE: Scans", "Re: Scans"),
        ("AW: Scans", "Re: Scans"),
        ("Aw: Scans", "Re: Scans"),
        ("SV: Scans", "Re: Scans"),
        ("Antw: Scans", "Re: Scans"),
        ("R: Scans", "Re: Scans"),
        ("RIF: Scans", "Re: Scans"),
        ("Odp: Scans", "Re: Scans"),
        ("ΑΠ: Scans", "Re: Scans"),
        ("Απ: Scans", "Re: Scans"),
        ("Отв: Scans", "Re: Scans"),
        ("回复：Scans", "Re: Scans"),
        ("答复: Scans", "Re: Scans"),
        ("YNT: Scans", "Re: Scans"),
        ("VS: Scans", "Re: Scans"),
        ("RE : Scans", "Re: Scans"),  # French Outlook puts a space before the colon
        ("RE\u00a0: Scans", "Re: Scans"),
        ("Re[2]: Scans", "Re: Scans"),
        ("Re^3: Scans", "Re: Scans"),
        ("Fwd: Scans", "Fwd: Scans"),
        ("Fw: Scans", "Fwd: Scans"),
        ("FW: Scans", "Fwd: Scans"),
        ("WG: Scans", "Fwd: Scans"),
        ("TR: Scans", "Fwd: Scans"),
        ("RV: Scans", "Fwd: Scans"),
        ("I: Scans", "Fwd: Scans"),
        ("VB: Scans", "Fwd: Scans"),
        ("Doorst: Scans", "Fwd: Scans"),
        ("PD: Scans", "Fwd: Scans"),
        ("ΠΡΘ: Scans", "Fwd: Scans"),
        ("Пересл: Scans", "Fwd: Scans"),
        ("转发: Scans", "Fwd: Scans"),
    ],
)
def test_prefixes_in_many_languages(subject: str, expected: str) -> None:
    assert normalise_subject(subject) == expected


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("AW: WG: [EXTERNAL] Frage", "Re: Fwd: Frage"),
        ("Re: Re: RE: Fwd: Re: x", "Re: Fwd: x"),
        ("WG: AW: x", "Fwd: Re: x"),
        ("[EXTERNAL] RE: x", "Re: x"),
        ("Re: [EXT] Re: x", "Re: x"),
        ("[Extern] x", "x"),
        ("[EXTERNE] x", "x"),
        ("*EXTERNAL* x", "x"),
        ("**EXTERNAL** x", "x"),
        ("[SPAM] x", "x"),
        ("[SUSPICIOUS] x", "x"),
        ("EXTERNAL: x", "x"),
        ("x [EXTERNAL]", "x"),
        ("[operator-a.example #1234] x", "x"),
        ("Re: [rt.cert.example #98765] Phishing wave", "Re: Phishing wave"),
        ("[Ticket#2024090312000123] x", "x"),
        ("x [Ticket#2024090312000123]", "x"),
        ("[mailman-users] x", "x"),
        ("Re: [ciso-eu] x", "Re: x"),
        ("[cert.example] x", "x"),
    ],
)
def test_gateway_ticket_and_list_tags_removed(subject: str, expected: str) -> None:
    assert normalise_subject(subject) == expected


@pytest.mark.parametrize(
    "subject",
    [
        "[CVE-2024-3094] xz backdoor",
        "[Phishing] invoice wave",
        "[URGENT] core outage",
        "I2P relay abuse",
        "Review: TR-069 hardening",
        "Caution: new ransomware family",
        "Out of office hours response plan",
        "RE2 regex engine DoS",
    ],
)
def test_content_is_not_mistaken_for_tags_or_prefixes(subject: str) -> None:
    assert normalise_subject(subject) == subject


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("[TLP:AMBER] Scans", "Scans"),
        ("Re: [TLP:AMBER] Re: [TLP:AMBER] Scans", "Re: Scans"),
        ("Scans TLP:GREEN", "Scans"),
        ("AW: [EXTERNAL] [TLP:AMBER+STRICT] Frage", "Re: Frage"),
    ],
)
def test_tlp_labels_removed(subject: str, expected: str) -> None:
    assert normalise_subject(subject) == expected


def test_folded_and_spaced_subjects_become_one_line() -> None:
    assert normalise_subject("Re:  Scans\r\n on\tTCP/7547 ") == "Re: Scans on TCP/7547"


def test_archive_subject_redacts_names_and_organisations(matcher: RegistryMatcher) -> None:
    subject = archive_subject(
        "AW: WG: [EXTERNAL] Frage von Jürgen Müller zu Betreiber B", matcher, {}
    )
    assert subject.text == "Re: Fwd: Frage von [participant] zu [member organisation]"


def test_archive_subject_uses_thread_labels(matcher: RegistryMatcher) -> None:
    subject = archive_subject("Re: Frage an Alice Müller", matcher, {"alice": "Participant A"})
    assert subject.text == "Re: Frage an Participant A"


def test_empty_subject(matcher: RegistryMatcher) -> None:
    assert archive_subject(None, matcher, {}).text == NO_SUBJECT
    assert archive_subject("Re: [EXTERNAL]", matcher, {}).text == "Re:"
    assert archive_subject("   ", matcher, {}).text == NO_SUBJECT


@pytest.mark.parametrize(
    "subject",
    [
        "AW: WG: [EXTERNAL] Frage von Jürgen Müller zu Betreiber B",
        "[mailman-users] Re: [TLP:AMBER] Jürgen Müller's report",
        "Jürgen Müller",
        "(no subject)",
        "Re: [participant] said so",
    ],
)
def test_archive_subject_is_idempotent(matcher: RegistryMatcher, subject: str) -> None:
    once = archive_subject(subject, matcher, {"alice": "Participant A"}).text
    assert archive_subject(once, matcher, {"alice": "Participant A"}).text == once
