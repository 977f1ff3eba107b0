"""Results: one row per measured figure, printed as a table and written as JSON.

A row compares listserv with the physical limit of the same path (the
baseline) and says whether the target is met. `ratio` always reads "higher
is better": listserv's speed over the baseline's, so 1.0 means listserv is
as fast as the bare path. Two targets are absolute instead (archive search
p99 in milliseconds, memory above idle in multiples of the message size);
their rows carry the value compared in `target_value`.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

Comparison = Literal["at least", "below"]


@dataclass
class Row:
    scenario: str
    listserv: str  # the figure, formatted with its unit
    baseline: str
    ratio: float | None = None  # listserv speed / baseline speed
    target: float | None = None
    comparison: Comparison = "at least"
    target_value: float | None = None  # what the target is checked on; ratio when None
    target_unit: str = ""  # "" for a ratio, else e.g. "ms" or "× message size above idle"
    peak_rss: int | None = None  # bytes, the server and its children
    available: bool = True
    note: str = ""

    @property
    def checked(self) -> float | None:
        return self.ratio if self.target_value is None else self.target_value

    @property
    def met(self) -> bool | None:
        if not self.available or self.target is None or self.checked is None:
            return None
        if self.comparison == "at least":
            return self.checked >= self.target
        return self.checked < self.target

    @property
    def target_text(self) -> str:
        if self.target is None:
            return ""
        sign = "≥" if self.comparison == "at least" else "<"
        unit = f" {self.target_unit}" if self.target_unit else ""
        return f"{sign} {self.target:g}{unit}"


class Phases:
    """Wall-clock seconds of each phase of a scenario, for the JSON details."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._mark = time.monotonic()

    def done(self, name: str) -> None:
        now = time.monotonic()
        self.seconds[name] = round(self.seconds.get(name, 0.0) + now - self._mark, 2)
        self._mark = now


def not_available(scenario: str, why: str) -> Row:
    return Row(scenario, "not available", "", available=False, note=why)


@dataclass
class ScenarioResult:
    name: str
    rows: list[Row]
    details: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None


def format_bytes(value: int | None) -> str:
    if value is None:
        return "—"
    return f"{value / 1024 / 1024:.0f} MB"


HEADERS = ("scenario", "listserv", "baseline", "ratio", "target", "met", "peak RSS")


def table(results: list[ScenarioResult]) -> str:
    lines: list[list[str]] = []
    for result in results:
        for row in result.rows:
            met = {True: "yes", False: "NO", None: "—"}[row.met]
            ratio = "—" if row.ratio is None else f"{row.ratio:.2f}"
            lines.append(
                [
                    row.scenario,
                    row.listserv,
                    row.baseline or "—",
                    ratio,
                    row.target_text,
                    met,
                    format_bytes(row.peak_rss),
                ]
            )
        if result.error is not None:
            lines.append([result.name, "failed", "—", "—", "", "—", "—"])
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(HEADERS)]
    rule = "  ".join("-" * w for w in widths)
    out = ["  ".join(h.ljust(w) for h, w in zip(HEADERS, widths, strict=True)), rule]
    out += ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in lines]
    notes = [
        f"  {row.scenario}: {row.note}" for result in results for row in result.rows if row.note
    ]
    notes += [f"  {r.name}: failed: {r.error}" for r in results if r.error is not None]
    if notes:
        out += ["", "notes:", *notes]
    return "\n".join(out)


def git_commit(directory: Path) -> dict[str, Any]:
    """The commit being measured and whether the tree had local changes."""

    def git(*args: str) -> str | None:
        try:
            found = subprocess.run(
                ["git", *args], cwd=directory, capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return found.stdout.strip() if found.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def machine() -> dict[str, Any]:
    return {
        "cpu_count": os.cpu_count(),
        # Other work on the machine skews every figure; this says how busy it was.
        "load_average_1min_at_end": os.getloadavg()[0],
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }


def write_json(
    path: Path,
    results: list[ScenarioResult],
    *,
    quick: bool,
    started_at: datetime,
    seconds: float,
    repository: Path,
    load_average_at_start: float,
) -> None:
    document = {
        **git_commit(repository),
        **machine(),
        "load_average_1min_at_start": load_average_at_start,
        "quick": quick,
        "started_at": started_at.astimezone(UTC).isoformat(),
        "seconds": round(seconds, 2),
        "scenarios": {
            result.name: {
                "seconds": round(result.seconds, 2),
                "error": result.error,
                "rows": [
                    {**asdict(row), "met": row.met, "target_text": row.target_text}
                    for row in result.rows
                ],
                "details": result.details,
            }
            for result in results
        },
    }
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
