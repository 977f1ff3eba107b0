"""Registry matching costs time linear in the text (filters.matching and its parts).

Attachments bring hundreds of kilobytes of text; anything quadratic in the
matcher turns one upload into minutes of CPU. Each test times a text and one
four times as long (best of three runs, to ride out a busy machine): linear
work takes about four times as long, quadratic work sixteen times, and the
tests allow eight.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import pytest

from filters.identities import Identity, Registry
from filters.matching import RegistryMatcher
from filters.url_unwrap import find_urls

_FIRST = ("Alice", "Bernd", "Chiara", "Dmitri", "Eleni", "Jürgen", "José", "Olga")
_LAST = ("Müller", "Rossi", "Novak", "Ivanov", "Papadopoulos", "García", "Nowak", "Weber")
_WORDS = tuple(
    " ".join(
        (
            "the of and to in we is for on that this with are from at as our attack phishing",
            "malware traffic indicators network incident campaign domain block seen since hours",
            "update patch exploit scanning botnet prefix route leak credentials operator operators",
            "firewall router peering abuse sender spoofing sinkhole payload loader detection",
        )
    ).split(" ")
)


def _registry(size: int) -> Registry:
    identities = []
    for index in range(size):
        first, last = _FIRST[index % 8], _LAST[index // 8 % 8]
        stem = f"Carrier{index % 40}"
        identities.append(
            Identity(
                key=f"m{index}",
                names=(f"{first} {last}",),
                addresses=(f"{first.lower()}.{index}@{stem.lower()}.example",),
                organisation=f"{stem} Networks GmbH",
                org_domains=(f"{stem.lower()}.example",),
                aliases=(f"{stem} Networks", f"AS{64500 + index}", f"10.{index}.0.0/16"),
            )
        )
    return Registry(tuple(identities))


MATCHER = RegistryMatcher.compile(_registry(200))


def _prose(size: int, seed: int = 5) -> str:
    rng = random.Random(seed)
    pieces: list[str] = []
    length = 0
    while length < size:
        sentence = " ".join(rng.choices(_WORDS, k=rng.randint(6, 16))).capitalize() + "."
        roll = rng.random()
        if roll < 0.1:
            sentence += f" As {rng.choice(_FIRST)} {rng.choice(_LAST)} of Carrier3 Networks said."
        elif roll < 0.2:
            sentence += f" Seen from 203.0.113.{rng.randint(1, 254)} at https://evil.example/x."
        elif roll < 0.25:
            sentence += (
                f" Call +44 20 7946 {rng.randint(1000, 9999)} about AS{rng.randint(1, 9999)}."
            )
        pieces.append(sentence)
        length += len(sentence) + 1
    return " ".join(pieces)[:size]


def _best_of_three(work: Callable[[str], object], text: str) -> float:
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        work(text)
        timings.append(time.perf_counter() - started)
    return min(timings)


def _assert_linear(work: Callable[[str], object], make: Callable[[int], str], size: int) -> None:
    small = _best_of_three(work, make(size))
    large = _best_of_three(work, make(4 * size))
    assert large < 8 * max(small, 0.001), f"{size}: {small:.3f}s, {4 * size}: {large:.3f}s"


@pytest.mark.parametrize(
    "work",
    [MATCHER.contains_registry_term, lambda text: MATCHER.redact(text, {})],
    ids=["contains_registry_term", "redact"],
)
def test_ordinary_prose_costs_linear_time(work: Callable[[str], object]) -> None:
    _assert_linear(work, _prose, 25_000)


def test_prose_is_what_it_claims_to_be() -> None:
    text = _prose(25_000)
    result = MATCHER.redact(text, {})
    assert "[participant]" in result.text
    assert "[member organisation]" in result.text
    assert "[phone]" in result.text
    assert "operator" in result.text  # an ordinary word, kept
    assert MATCHER.contains_registry_term(text)


@pytest.mark.parametrize(
    "make",
    [
        lambda size: "a." * (size // 2),  # one run of host characters with a dot every 2
        lambda size: "see https://x.example/" + ")" * size,  # closers after a URL
        lambda size: ("x@" + "a." * 50) * (size // 102),  # many addresses without a domain
        lambda size: "ab:" * (size // 3),  # IPv6-looking runs
        lambda size: "%41&amp;[.]" * (size // 11),  # decodable units back to back
    ],
    ids=["host-run", "url-closers", "at-signs", "colons", "escapes"],
)
def test_pathological_runs_cost_linear_time(make: Callable[[int], str]) -> None:
    _assert_linear(lambda text: MATCHER.redact(text, {}), make, 20_000)


def test_closers_after_a_url_are_trimmed_and_counted_once() -> None:
    text = "see https://x.example/a_(b)" + ")" * 50_000
    assert [span.url for span in find_urls(text)] == ["https://x.example/a_(b)"]
