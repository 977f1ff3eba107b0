"""Scrub: archive forms per second over a mixed corpus, measured in-process.

listserv: `filters.deattribute.archive_form_or_hold` (the pure function the
scrub worker runs) over the corpus of bench.corpus, with a registry of
`scrub_registry` members compiled once (`RegistryMatcher.compile`), as the
worker keeps its compiled matcher between posts.

Baseline: what any archive must do with the same bytes at least: parse them
with the `email` package and serialise them again.

Both sides loop over the whole corpus until `scrub_seconds` have passed (at
least once), so every kind of post weighs as it does in the corpus.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path

from bench.corpus import KINDS, LIST_ADDRESS, Sample, build_corpus
from bench.population import people, registry_of
from bench.report import Row, ScenarioResult, not_available
from bench.sizes import Sizes

TARGET = 0.2
SCENARIO = "scrub (mixed corpus)"


def parse_and_serialise(raw: bytes) -> bytes:
    return message_from_bytes(raw, policy=policy.default).as_bytes()


def _rate(
    samples: list[Sample], work: Callable[[Sample], object], minimum: float
) -> tuple[float, int, dict[str, float]]:
    """Forms per second over whole passes of the corpus, and seconds per kind."""
    per_kind: dict[str, float] = dict.fromkeys(KINDS, 0.0)
    done = 0
    started = time.perf_counter()
    while True:
        for sample in samples:
            before = time.perf_counter()
            work(sample)
            per_kind[sample.kind] += time.perf_counter() - before
            done += 1
        elapsed = time.perf_counter() - started
        if elapsed >= minimum:
            return done / elapsed, done, per_kind


async def run(sizes: Sizes, workdir: Path) -> ScenarioResult:
    try:
        from filters.deattribute import ArchiveContext, archive_form, archive_form_or_hold
        from filters.matching import RegistryMatcher
    except ImportError as error:
        return ScenarioResult("scrub", [not_available(SCENARIO, f"cannot import: {error}")])

    members = people(sizes.scrub_registry, seed=41)
    samples = build_corpus(members, sizes.scrub_messages)
    compile_started = time.perf_counter()
    try:
        matcher = RegistryMatcher.compile(registry_of(members))
    except NotImplementedError:
        return ScenarioResult(
            "scrub", [not_available(SCENARIO, "RegistryMatcher.compile is not implemented yet")]
        )
    compile_seconds = time.perf_counter() - compile_started

    def context(sample: Sample) -> ArchiveContext:
        return ArchiveContext(
            list_address=LIST_ADDRESS,
            list_name="CISO reference group",
            list_key=b"bench-archive-key-0123456789abcdef",
            received_at=datetime(2024, 9, 3, 9, 17, tzinfo=UTC),
            label="TLP:AMBER",
            author_key=sample.author.email,
            participants={sample.author.email: "Participant A"},
        )

    contexts = {id(sample): context(sample) for sample in samples}
    try:  # the unwrapped function, so "not implemented" is told apart from a hold
        archive_form(
            message_from_bytes(samples[0].raw, policy=policy.default),
            matcher,
            contexts[id(samples[0])],
        )
    except NotImplementedError:
        return ScenarioResult(
            "scrub", [not_available(SCENARIO, "archive_form is not implemented yet")]
        )
    except Exception:  # the wrapper below turns failures into holds; they are counted
        pass

    holds: Counter[str] = Counter()

    def scrub(sample: Sample) -> None:
        form = archive_form_or_hold(sample.raw, matcher, contexts[id(sample)])
        if form.hold_reason is not None:
            holds[f"{sample.kind}: {form.hold_reason}"] += 1

    listserv_rate, listserv_done, listserv_kinds = _rate(samples, scrub, sizes.scrub_seconds)
    passes = listserv_done // len(samples)
    held_per_pass = {reason: count // passes for reason, count in holds.items()}
    baseline_rate, baseline_done, baseline_kinds = _rate(
        samples, lambda sample: parse_and_serialise(sample.raw), sizes.scrub_seconds
    )

    corpus_bytes = sum(len(sample.raw) for sample in samples)
    kind_count = Counter(sample.kind for sample in samples)
    row = Row(
        scenario=f"scrub ({len(samples)} mixed posts, {len(members)} members)",
        listserv=f"{listserv_rate:.1f} forms/s",
        baseline=f"{baseline_rate:.0f} parse+serialise/s",
        ratio=listserv_rate / baseline_rate if baseline_rate else None,
        target=TARGET,
        note=(
            f"{sum(held_per_pass.values())} of {len(samples)} posts held" if held_per_pass else ""
        ),
    )
    details = {
        "posts": len(samples),
        "corpus_bytes": corpus_bytes,
        "registry_members": len(members),
        "matcher_compile_s": round(compile_seconds, 3),
        "listserv": {"forms": listserv_done, "forms_per_second": round(listserv_rate, 2)},
        "baseline": {"messages": baseline_done, "per_second": round(baseline_rate, 1)},
        # Milliseconds per post of each kind: where the scrubbing time goes.
        "listserv_ms_per_post_by_kind": {
            kind: round(listserv_kinds[kind] * 1000 / (kind_count[kind] * passes), 2)
            for kind in KINDS
            if kind_count[kind]
        },
        "baseline_ms_per_post_by_kind": {
            kind: round(
                baseline_kinds[kind] * 1000 / (kind_count[kind] * (baseline_done // len(samples))),
                3,
            )
            for kind in KINDS
            if kind_count[kind]
        },
        "held_per_pass": held_per_pass,
    }
    return ScenarioResult("scrub", [row], details)
